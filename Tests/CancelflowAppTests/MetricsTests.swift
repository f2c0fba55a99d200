import CancelflowTestSupport
import Configuration
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// `GET /metrics`: off by default; with `--metrics`, the Prometheus text format with requests by
/// route template (never a token), mints, exchanges, outcomes, verification emails, webhook
/// attempts and queue, and database sessions; on a separate listener with `--metrics-address`.
@Suite struct MetricsTests {
    /// The value of the sample whose line names `name` and holds every one of `labels`.
    static func value(_ text: String, _ name: String, _ labels: [String] = []) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            guard labels.allSatisfy({ line.contains($0) }), let last = line.split(separator: " ").last else { continue }
            return Double(last)
        }
        return nil
    }

    @Test func metricsAreOffByDefault() async throws {
        try await withTestApp(.sqlite) { client, _ in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .notFound)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aScrapeCountsWhatHappenedByRouteTemplate(engine: TestEngine) async throws {
        let config: [String: ConfigContent] = ["metrics": .bool(true), "trustProxy": .bool(true), "verifyClientLimit": .int(1)]
        try await withTestApp(engine, configuration: config) { client, ctx in
            try await ctx.seedCustomer()
            let token = try #require(try await client.mint(ctx).json["token"] as? String)
            let browser = TestBrowser(client, host: "cancel.test")
            try await browser.openFlow(token: token)
            #expect(try await browser.post("/flow/keep").status == .seeOther)
            let verify = TestBrowser(client, host: "cancel.test", clientIP: "203.0.113.5")
            _ = try await verify.get("/verify?org=\(ctx.test.appId)")
            #expect(try await verify.post("/verify", ["email": "a@example.com", "org": ctx.test.appId]).status == .seeOther)
            #expect(try await verify.post("/verify", ["email": "b@example.com", "org": ctx.test.appId]).status == .tooManyRequests)
            _ = try await client.execute(uri: "/v1/nothing/\(token)", method: .get, headers: ctx.headers())

            let scrape = try await client.execute(uri: "/metrics", method: .get)
            #expect(scrape.status == .ok)
            #expect(scrape.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = scrape.text
            #expect(!text.contains(token) && !text.contains("cl_") && !text.contains("a@example.com"), "no token, no address")
            #expect(Self.value(text, "cancelflow_http_requests_total", [#"route="/v1/cancel-sessions""#, #"status="201""#, #"method="POST""#]) == 1)
            #expect(Self.value(text, "cancelflow_http_requests_total", [#"route="/cancel/{token}""#, #"method="GET""#]) == 1)
            #expect(Self.value(text, "cancelflow_http_requests_total", [#"route="unmatched""#, #"status="404""#]) == 1)
            #expect(Self.value(text, "cancelflow_http_request_duration_seconds_count", [#"route="/cancel/{token}""#]) == 1)
            #expect(Self.value(text, "cancelflow_links_minted_total", [#"mode="test""#]) == 1)
            #expect(Self.value(text, "cancelflow_links_exchanged_total", [#"mode="test""#]) == 1)
            #expect(Self.value(text, "cancelflow_flow_outcomes_total", [#"outcome="kept""#]) == 1)
            #expect(Self.value(text, "cancelflow_verification_emails_total", [#"result="sent""#]) == 1)
            #expect(Self.value(text, "cancelflow_verification_emails_total", [#"result="refused""#]) == 1)
            #expect(Self.value(text, "cancelflow_webhook_pending_deliveries") == 0)
            #expect((Self.value(text, "cancelflow_database_sessions_total", [#"engine="\#(engine.rawValue)""#]) ?? 0) > 5)
            #expect(Self.value(text, "cancelflow_database_session_wait_seconds_total") != nil)
        }
    }

    /// On its own listener, the main one answers 404 for it.
    @Test func aSeparateMetricsListener() async throws {
        let port = try freePort()
        let (_, stopped) = try await ServeProcess.with(arguments: ["--metrics-address", "127.0.0.1:\(port)"]) { server in
            #expect(try await httpRequest("GET", "\(server.baseURL)/healthz").status == 200)
            #expect(try await httpRequest("GET", "\(server.baseURL)/metrics").status == 404)
            let scrape = try await httpRequest("GET", "http://127.0.0.1:\(port)/metrics")
            #expect(scrape.status == 200)
            #expect(Self.value(scrape.body, "cancelflow_http_requests_total", [#"route="/healthz""#]) == 1)
        }
        #expect(!stopped.killed && stopped.status == 0)
    }
}
