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
    let child: ChildProcess
    /// The folder it runs in (its database is `cancelflow.sqlite` there).
    public let folder: URL

    /// Starts the server in a new temporary folder with the given extra arguments and waits
    /// until `/readyz` answers.
    public init(arguments: [String] = [], environment: [String: String] = [:]) async throws {
        self.port = try freePort()
        self.baseURL = "http://127.0.0.1:\(self.port)"
        self.folder = FileManager.default.temporaryDirectory.appendingPathComponent("cancelflow-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.folder, withIntermediateDirectories: true)
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CANCELFLOW_") }
        env.merge(environment) { $1 }
        self.child = try ChildProcess(
            cancelflowBinary(), ["serve", "--port", String(self.port)] + arguments,
            environment: env, directory: self.folder)
        for _ in 0..<150 {
            if (try? await httpStatus("\(self.baseURL)/readyz")) == 200 { return }
            if self.child.hasExited { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let result = await self.stop()
        throw TestSetupError("cancelflow serve did not become ready on port \(self.port):\n\(result.output)")
    }

    /// The first organization's test App ID and API key, as the first start printed them;
    /// throws when they do not appear within ten seconds.
    public func testCredentials() async throws -> (appID: String, apiKey: String) {
        try await firstStartCredentials(self.child)
    }

    /// Everything the server has printed so far; never waits.
    public var printed: String { self.child.printed }

    /// Stops the server with SIGINT (a graceful shutdown), SIGKILL after 30 seconds, and says
    /// what happened and what it printed. A server that had to be killed did not shut down
    /// gracefully, which the caller should treat as a failure.
    @discardableResult
    public func stop() async -> ChildProcess.StopResult {
        let result = await self.child.stop(signal: SIGINT, grace: .seconds(30))
        try? FileManager.default.removeItem(at: self.folder)
        return result
    }

    /// Runs `body` with a started server and always stops it afterwards, even when `body`
    /// throws; returns what `body` returned and how the server stopped.
    public static func with<T: Sendable>(
        arguments: [String] = [], environment: [String: String] = [:],
        _ body: (ServeProcess) async throws -> T
    ) async throws -> (T, ChildProcess.StopResult) {
        let server = try await ServeProcess(arguments: arguments, environment: environment)
        let outcome: Result<T, any Error>
        do { outcome = .success(try await body(server)) } catch { outcome = .failure(error) }
        let stopped = await server.stop()
        return (try outcome.get(), stopped)
    }
}

/// A loopback port that refuses connections until `close()`: a socket bound
/// to it that never listens. A port merely found free and closed again (`freePort()`) can be
/// taken by another test's server in a parallel run, and a "server down" test then talks to
/// whatever answers there instead of being refused. Freed by `close()`, not by going out of
/// scope: Swift may end a value's life at its last use, which would free the port too early.
public struct RefusedPort: Sendable {
    public let port: Int
    let fd: Int32

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSetupError("socket() failed") }
        do {
            self.port = try boundPort(fd)
        } catch {
            Glibc.close(fd)
            throw error
        }
        self.fd = fd
    }

    /// Frees the port.
    public func close() { Glibc.close(self.fd) }
}

/// A loopback port nobody listens on right now.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestSetupError("socket() failed") }
    defer { close(fd) }
    return try boundPort(fd)
}

/// Binds `fd` to a free loopback port and returns the port.
func boundPort(_ fd: Int32) throws -> Int {
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

/// A request to a real server: the status and the body.
public func httpRequest(
    _ method: String, _ url: String, headers: [String: String] = [:], body: String? = nil
) async throws -> (status: Int, body: String) {
    var request = URLRequest(url: URL(string: url)!)
    request.httpMethod = method
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    if let body {
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

/// Starts `cancelflow serve` in `folder` on `port` (nothing of the test's own environment but
/// `PATH` and the like: no `CANCELFLOW_*`) and waits until `/readyz` answers.
public func startServe(in folder: URL, port: Int, arguments: [String] = []) async throws -> ChildProcess {
    let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CANCELFLOW_") }
    let server = try ChildProcess(cancelflowBinary(), ["serve", "--port", String(port)] + arguments, environment: environment, directory: folder)
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline {
        if (try? await httpStatus("http://127.0.0.1:\(port)/readyz")) == 200 { return server }
        if server.hasExited { break }
        try await Task.sleep(for: .milliseconds(50))
    }
    let stopped = await server.stop(signal: SIGKILL, grace: .seconds(5))
    throw TestSetupError("serve did not become ready:\n\(stopped.output)")
}

/// The test App ID and API key a first start printed; throws when they do not appear within ten
/// seconds.
public func firstStartCredentials(_ server: ChildProcess) async throws -> (appID: String, apiKey: String) {
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
        let printed = server.printed
        if let app = printed.range(of: "app_test_[a-z2-7]+", options: .regularExpression),
            let key = printed.range(of: "ck_test_[a-z2-7]+", options: .regularExpression)
        {
            return (String(printed[app]), String(printed[key]))
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestSetupError("the first start printed no test credentials:\n\(server.printed)")
}

/// A new empty folder under the temporary directory, removed after `body` whatever happens.
public func withTemporaryFolder<T>(_ prefix: String, _ body: (URL) async throws -> T) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try await body(folder)
}
