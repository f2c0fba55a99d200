import Foundation
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// A real `cancelflow serve` child process on a free loopback port.
public final class ServeProcess: Sendable {
    public let port: Int
    public let baseURL: String
    let process: Process
    let output: Pipe
    let folder: URL

    /// Starts the server in a new temporary folder with the given extra arguments and waits
    /// until `/readyz` answers.
    public init(arguments: [String] = [], environment: [String: String] = [:]) async throws {
        self.port = try freePort()
        self.baseURL = "http://127.0.0.1:\(self.port)"
        self.folder = FileManager.default.temporaryDirectory.appendingPathComponent("cancelflow-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.folder, withIntermediateDirectories: true)
        self.process = Process()
        self.process.executableURL = URL(fileURLWithPath: cancelflowBinary())
        self.process.arguments = ["serve", "--port", String(self.port)] + arguments
        self.process.currentDirectoryURL = self.folder
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CANCELFLOW_") }
        env.merge(environment) { $1 }
        self.process.environment = env
        self.output = Pipe()
        self.process.standardOutput = self.output
        self.process.standardError = self.output
        try self.process.run()
        for _ in 0..<150 {
            if (try? await httpStatus("\(self.baseURL)/readyz")) == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        self.stop()
        throw TestSetupError("cancelflow serve did not become ready on port \(self.port)")
    }

    /// Stops the server (SIGINT, a graceful shutdown) and returns what it printed.
    @discardableResult
    public func stop() -> String {
        if self.process.isRunning {
            self.process.interrupt()
            self.process.waitUntilExit()
        }
        let data = self.output.fileHandleForReading.readDataToEndOfFile()
        try? FileManager.default.removeItem(at: self.folder)
        return String(decoding: data, as: UTF8.self)
    }

    /// The exit status after `stop`.
    public var exitStatus: Int32 { self.process.terminationStatus }

    /// What the server printed so far, without blocking (reads what is buffered).
    public func printedSoFar() -> String {
        String(decoding: self.output.fileHandleForReading.availableData, as: UTF8.self)
    }
}

/// A loopback port nobody listens on right now.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSetupError("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { throw TestSetupError("bind() failed") }
    let named = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw TestSetupError("getsockname() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// The status of a GET.
public func httpStatus(_ url: String) async throws -> Int {
    let (_, response) = try await URLSession.shared.data(from: URL(string: url)!)
    return (response as? HTTPURLResponse)?.statusCode ?? 0
}
