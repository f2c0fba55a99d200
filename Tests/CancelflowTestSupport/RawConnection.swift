import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to a loopback port, for what no HTTP client will send: headers a byte
/// at a time, oversized header blocks, bodies that never finish. Its blocking socket calls run
/// on Dispatch threads, never on Swift's cooperative pool.
public final class RawConnection: @unchecked Sendable {
    let fd: Int32

    /// Connects to 127.0.0.1:`port`; reads time out after `readTimeout` seconds.
    public init(port: Int, readTimeout: Int = 30) throws {
        self.fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard self.fd >= 0 else { throw TestSetupError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(self.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // No close here on failure: every stored property is set, so deinit runs even though
        // init throws, and it closes the socket. Closing it here as well once closed a number
        // the kernel had meanwhile given to another test's pipe.
        guard connected == 0 else { throw TestSetupError("connect() to port \(port) failed") }
        var timeout = timeval(tv_sec: readTimeout, tv_usec: 0)
        setsockopt(self.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { if self.fd >= 0 { close(self.fd) } }

    /// Sends bytes; false when the peer has closed the connection.
    public func send(_ bytes: [UInt8]) async -> Bool {
        await Self.offPool {
            bytes.withUnsafeBytes { Glibc.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
        }
    }

    /// Sends text.
    public func send(_ text: String) async -> Bool {
        await self.send(Array(text.utf8))
    }

    /// Reads until the peer closes the connection (or the read timeout passes); returns what
    /// arrived and whether the peer closed.
    public func readToEnd() async -> (text: String, closed: Bool) {
        await Self.offPool {
            var data: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
                if count > 0 {
                    data.append(contentsOf: buffer[0..<count])
                } else {
                    // 0: closed by the peer; -1 with ECONNRESET also means it is gone; a timeout
                    // (EAGAIN) means it is still open.
                    let closed = count == 0 || errno == ECONNRESET
                    return (String(decoding: data, as: UTF8.self), closed)
                }
            }
        }
    }

    static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: body()) }
        }
    }
}

/// One HTTP/1.1 exchange over a fresh connection (`Connection: close`), without following
/// redirects or keeping cookies: the status, the headers (names lower-cased; a repeated header's
/// values joined by "\n") and the body. Nil when the server could not be reached or closed the
/// connection without a whole response (a server killed mid-request).
public func rawHTTP(
    port: Int, _ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil
) async -> (status: Int, headers: [String: String], body: String)? {
    guard let connection = try? RawConnection(port: port, readTimeout: 30) else { return nil }
    var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
    for (name, value) in headers { text += "\(name): \(value)\r\n" }
    if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
    text += "\r\n" + (body ?? "")
    guard await connection.send(text) else { return nil }
    let (response, closed) = await connection.readToEnd()
    guard closed, let split = response.range(of: "\r\n\r\n") else { return nil }
    let lines = response[..<split.lowerBound].split(separator: "\r\n")
    guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 "), let status = Int(statusLine.dropFirst(9).prefix(3)) else {
        return nil
    }
    var fields: [String: String] = [:]
    for line in lines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        fields[name] = fields[name].map { $0 + "\n" + value } ?? value
    }
    let body = String(response[split.upperBound...])
    // A body cut short (the server died while writing) is no response at all.
    if let length = fields["content-length"].flatMap(Int.init), body.utf8.count < length { return nil }
    return (status, fields, body)
}
