import CancelflowCore
import CancelflowTestSupport
import Foundation
import HummingbirdTesting
import Testing

/// The seed's own backend example, run by Node against a live server.
@Suite struct EndToEndTests {
    @Test(arguments: TestEngine.allCases)
    func theSeedsNodeExampleGetsAURL(engine: TestEngine) async throws {
        try await withTestApp(engine, testing: .live) { client, ctx in
            // Node computes expiresAt from the real clock.
            ctx.time.set(Date())
            try await ctx.seedCustomer()
            let port = try #require(client.port)
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("e2e/seed-example.mjs").path
            let result = try await runProcess(
                "/usr/bin/env",
                ["node", script],
                environment: [
                    "CANCELFLOW_BASE_URL": "http://127.0.0.1:\(port)",
                    "CHURNKEY_APP_ID": ctx.test.appId,
                    "CHURNKEY_API_KEY": ctx.test.apiKey,
                ]
            )
            #expect(result.status == 0, "\(result.stderr)")
            let output = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            #expect(output?["status"] as? Int == 201)
            let url = try #require(output?["url"] as? String)
            #expect(url.hasPrefix("https://cancel.test/cancel/cl_"))
            let token = String(url.dropFirst("https://cancel.test/cancel/".count))
            let link = try await ctx.services.links.resolve(token: token)
            #expect(link?.customerID == "cus_abc123")
            #expect(link?.subscriptionID == "sub_xyz789")
        }
    }
}
