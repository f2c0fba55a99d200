import HTTPTypes
import HummingbirdTesting
import NIOCore

/// A connection of its own to the live server behind a test client.
///
/// HummingbirdTesting's live client is one keep-alive connection: requests sent through it "at
/// once" are pipelined, and the server answers them one after the other. A race therefore needs
/// a connection per racer; without one the race never happens, and the last of fifty queued
/// requests also spends everyone else's time against its own read timeout.
public final class OwnConnection: Sendable {
    let client: TestClient

    init(port: Int, timeout: Duration) {
        self.client = TestClient(host: "localhost", port: port, configuration: .init(timeout: timeout))
        self.client.connect()
    }

    public func execute(
        _ uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil
    ) async throws -> TestClient.Response {
        var headers = headers
        headers[.connection] = "keep-alive"
        return try await self.client.execute(.init(uri, method: method, authority: "localhost", headers: headers, body: body))
    }
}

/// Runs `body` with `count` connections of their own to the live server `client` talks to,
/// and closes them afterwards. The read timeout is generous: these are tests of what happens,
/// not of how fast.
public func withOwnConnections<Value>(
    _ count: Int, to client: some TestClientProtocol, timeout: Duration = .seconds(120),
    _ body: ([OwnConnection]) async throws -> Value
) async throws -> Value {
    guard let port = client.port else { throw TestSetupError("connections of their own need a live server (.live)") }
    let connections = (0..<count).map { _ in OwnConnection(port: port, timeout: timeout) }
    do {
        let value = try await body(connections)
        for connection in connections { try await connection.client.shutdown() }
        return value
    } catch {
        for connection in connections { try? await connection.client.shutdown() }
        throw error
    }
}

extension TestBrowser {
    /// Submits the last page's form over a connection of its own, as a browser does, and keeps
    /// the cookies it is given.
    public func post(_ uri: String, _ fields: [String: String] = [:], over connection: OwnConnection) async throws -> HTTPResponse.Status {
        let body = self.formBody(fields)
        let response = try await connection.execute(uri, method: .post, headers: self.headers([:], body: body), body: body)
        self.absorb(response.head.headerFields, body: response.body ?? ByteBuffer())
        return response.head.status
    }
}
