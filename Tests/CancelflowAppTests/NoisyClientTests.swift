import CancelflowTestSupport
import Configuration
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Slow and flooding clients, over real sockets: a client that trickles its headers or its body
/// is cut off, oversized headers get a 431 with the error body, failed authentications and page
/// form posts are throttled per client before the database is touched.
@Suite struct NoisyClientTests {
    /// Headers sent a byte at a time, never finished: the server closes the connection once the
    /// read timeout (1 s here) has passed, long before the client would have finished.
    @Test func aClientTricklingItsHeadersIsCutOff() async throws {
        try await withTestApp(.sqlite, configuration: ["readTimeout": .double(1)], testing: .live) { client, _ in
            let connection = try RawConnection(port: try #require(client.port))
            let request = Array("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: \(String(repeating: "a", count: 200))".utf8)
            var sent = 0
            for byte in request {
                guard await connection.send([byte]) else { break }
                sent += 1
                try await Task.sleep(for: .milliseconds(50))
            }
            let (_, closed) = await connection.readToEnd()
            #expect(sent < request.count, "the server stopped taking bytes after \(sent) of \(request.count)")
            #expect(closed)
        }
    }

    /// A body that never finishes: once the read timeout passes, the request is abandoned and
    /// the connection closed (the reader's cancellation ends the connection's input, so no 408
    /// can be written), and nothing is stored.
    @Test func aBodyThatNeverFinishesTimesOut() async throws {
        try await withTestApp(.sqlite, configuration: ["readTimeout": .double(1)], testing: .live) { client, ctx in
            let connection = try RawConnection(port: try #require(client.port))
            let head =
                "PUT /v1/customers/cus_1 HTTP/1.1\r\nHost: localhost\r\nx-ck-app: \(ctx.test.appId)\r\n"
                + "x-ck-api-key: \(ctx.test.apiKey)\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"name\":"
            #expect(await connection.send(head))
            let (text, closed) = await connection.readToEnd()
            #expect(closed, "cut off, not left waiting: \(text)")
            #expect(!text.contains("HTTP/1.1 2"))
            #expect(try await ctx.services.store.customer(organizationID: ctx.organization.id, mode: .test, id: "cus_1") == nil)
        }
    }

    /// Headers over the limit: 431 with the usual error body, and the connection closed.
    @Test func oversizedHeadersGet431() async throws {
        try await withTestApp(.sqlite, testing: .live) { client, _ in
            for extra in [
                "X-Big: \(String(repeating: "b", count: 10 * 1024))\r\n",
                (0..<40).map { "X-Many-\($0): \(String(repeating: "m", count: 1000))\r\n" }.joined(),
                (0..<150).map { "X-Count-\($0): 1\r\n" }.joined(),
            ] {
                let connection = try RawConnection(port: try #require(client.port))
                #expect(await connection.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\(extra)\r\n"))
                let (text, closed) = await connection.readToEnd()
                #expect(text.hasPrefix("HTTP/1.1 431"), "\(text.prefix(200))")
                #expect(text.contains(#""code":"headers_too_large""#))
                #expect(closed)
            }
            // An ordinary request still works.
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    /// After the allowance of failed authentications, a client's API requests are refused
    /// without a database lookup, valid credentials included, until the bucket refills; other
    /// clients are unaffected.
    @Test(arguments: TestEngine.allCases)
    func failedAuthenticationsAreThrottledBeforeTheDatabase(engine: TestEngine) async throws {
        let config: [String: ConfigContent] = ["authFailureLimit": .int(5), "trustedProxies": .string("127.0.0.1"), "apiKeyCache": .double(0)]
        try await withTestApp(engine, configuration: config) { client, ctx in
            func request(_ key: String, from ip: String) async throws -> TestResponse {
                var headers = ctx.headers()
                headers[HTTPField.Name("x-ck-api-key")!] = key
                headers[HTTPField.Name("X-Forwarded-For")!] = ip
                return try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: headers)
            }
            for attempt in 1...5 {
                #expect(try await request("ck_test_wrong", from: "198.51.100.7").status == .unauthorized, "attempt \(attempt)")
            }
            let sessions = ctx.services.pool.sessionCount
            for _ in 1...10 {
                let refused = try await request("ck_test_wrong", from: "198.51.100.7")
                #expect(refused.status == .tooManyRequests)
                #expect(refused.error["code"] as? String == "too_many_failed_authentications")
                #expect(refused.headers[.retryAfter].flatMap(Int.init).map { $0 >= 1 } == true)
            }
            let valid = try await request(ctx.test.apiKey, from: "198.51.100.7")
            #expect(valid.status == .tooManyRequests, "the client is held back whatever it sends")
            #expect(ctx.services.pool.sessionCount == sessions, "no database work for a throttled client")
            #expect(try await request(ctx.test.apiKey, from: "198.51.100.8").status == .ok, "another client is not")
            ctx.time.advance(by: 60)
            #expect(try await request(ctx.test.apiKey, from: "198.51.100.7").status == .ok, "the bucket refills")
        }
    }

    /// Hosted-page form posts are throttled per client in memory: the 429 page says when to
    /// come back.
    @Test func pageFormPostsAreThrottledPerClient() async throws {
        try await withTestApp(.sqlite, configuration: ["pagePostLimit": .int(3), "trustProxy": .bool(true)]) { client, ctx in
            let app = ctx.test.appId
            let browser = TestBrowser(client, host: "cancel.test", clientIP: "203.0.113.40")
            _ = try await browser.get("/verify?org=\(app)")
            for index in 1...3 {
                #expect(try await browser.post("/verify", ["email": "x\(index)@example.com", "org": app]).status == .seeOther)
            }
            let refused = try await browser.post("/verify", ["email": "x4@example.com", "org": app])
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(refused.text.contains("Please slow down"))
            #expect(refused.headers[.retryAfter] != nil)
            let other = TestBrowser(client, host: "cancel.test", clientIP: "203.0.113.41")
            _ = try await other.get("/verify?org=\(app)")
            #expect(try await other.post("/verify", ["email": "y@example.com", "org": app]).status == .seeOther)
        }
    }
}
