import CancelflowTestSupport
import Foundation
import Testing

/// A real `cancelflow serve` on a fresh database of the given engine, with the first
/// organization's test credentials, for suites that exercise the API from outside (the SDK,
/// schemathesis, the examples). The server must shut down gracefully afterwards.
///
/// Each takes one of the browser walks' two slots for its whole life: a server and what drives
/// it (a fuzzer, seven example servers, the SDK's calls) weigh as much as a walk, and with more
/// of them at once the rest of the suite, running meanwhile on two cores, ran into its 20-second
/// client timeouts.
enum LiveServer {
    static func with<Result: Sendable>(
        _ engine: TestEngine, arguments extra: [String] = [],
        _ body: @escaping @Sendable (_ server: ServeProcess, _ appID: String, _ apiKey: String) async throws -> Result
    ) async throws -> Result {
        await BrowserTests.walks.acquire()
        defer { Task { await BrowserTests.walks.release() } }
        return try await TestDatabase.withPool(engine) { _, location in
            var arguments = extra
            if case .postgres(let url) = location {
                arguments += ["--database", url, "--secret", "live-server-test-secret-0123456789-abcdef"]
            }
            let (result, stopped) = try await ServeProcess.with(arguments: arguments) { server in
                let (appID, apiKey) = try await server.testCredentials()
                return try await body(server, appID, apiKey)
            }
            #expect(!stopped.killed, "the server shut down gracefully")
            return result
        }
    }
}
