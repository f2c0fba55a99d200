import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Configuration
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Testing

@testable import CancelflowApp

/// What the README promises and no other test exercised: webhook delivery's guards at delivery
/// time, the error types and the 500 that reveals nothing, `--api-key-cache` as the application
/// wires it, and the configuration's order of precedence.
@Suite struct PromisesTests {
    static let quiet = Logger(label: "worker", factory: { _ in SwiftLogNoOpLogHandler() })

    static func deliveries(_ client: any TestClientProtocol, _ ctx: TestContext) async throws -> [[String: Any]] {
        let events = try await client.execute(uri: "/v1/events", method: .get, headers: ctx.headers())
        let id = try #require((events.json["data"] as? [[String: Any]])?.first?["id"] as? String)
        let deliveries = try await client.execute(uri: "/v1/events/\(id)/deliveries", method: .get, headers: ctx.headers())
        return try #require(deliveries.json["data"] as? [[String: Any]])
    }

    /// An endpoint that was allowed when it was added (or whose name now resolves elsewhere) is
    /// checked again at delivery: a worker without `--allow-private-webhooks` refuses a host that
    /// resolves to loopback, records why, and sends nothing.
    @Test(arguments: TestEngine.allCases)
    func deliveryChecksTheAddressAgain(engine: TestEngine) async throws {
        try await WebhookReceiver.withReceiver { receiver in
            try await withTestApp(engine, configuration: ["allowPrivateWebhooks": .bool(true)]) { client, ctx in
                try await ctx.seedCustomer()
                let url = "http://localhost:\(receiver.port)/hooks"
                let added = try await client.execute(
                    uri: "/v1/webhook-endpoints", method: .post, headers: ctx.headers(),
                    body: jsonBody(["url": url, "events": ["cancel_link.created"]]))
                #expect(added.status == .created)
                #expect(try await client.mint(ctx).status == .created)
                // The worker of an instance that does not allow private endpoints.
                let strict = AppServices(
                    configuration: try testConfiguration(), pool: ctx.services.pool, time: ctx.time,
                    secret: ctx.services.secret)
                let worker = WebhookWorker(services: strict, logger: Self.quiet)
                let http = WebhookWorker.makeClient()
                #expect(try await worker.runOnce(client: http) == 1)
                try await http.shutdown()
                #expect(receiver.requests.isEmpty, "nothing was sent to loopback")
                let attempt = try #require((try await Self.deliveries(client, ctx).first?["attempts"] as? [[String: Any]])?.first)
                #expect((attempt["error"] as? String)?.contains("private, loopback or link-local") == true)
                #expect(attempt["statusCode"] is NSNull)
            }
        }
    }

    /// Redirects are attempts that failed, never hops; a slow endpoint times out; only the first
    /// KiB of an answer is kept.
    @Test(arguments: TestEngine.allCases)
    func redirectsTimeoutsAndLongAnswers(engine: TestEngine) async throws {
        try await WebhookReceiver.withReceiver { receiver in
            try await WebhookReceiver.withReceiver { target in
                try await withTestApp(engine, configuration: ["allowPrivateWebhooks": .bool(true)]) { client, ctx in
                    try await ctx.seedCustomer()
                    _ = try await client.execute(
                        uri: "/v1/webhook-endpoints", method: .post, headers: ctx.headers(),
                        body: jsonBody(["url": receiver.url, "events": ["cancel_link.created"]]))
                    var worker = WebhookWorker(services: ctx.services, logger: Self.quiet)
                    // Well above what a loopback answer takes on a loaded two-core machine (at 1 s
                    // the redirect's or the long answer's attempt itself sometimes timed out),
                    // well below the slow answer.
                    worker.timeout = .milliseconds(2500)
                    let http = WebhookWorker.makeClient()
                    defer { Task { try? await http.shutdown() } }
                    #expect(try await client.mint(ctx).status == .created)

                    receiver.answer(.redirect(307, to: target.url))
                    #expect(try await worker.runOnce(client: http) == 1)
                    #expect(target.requests.isEmpty, "the redirect was not followed")
                    receiver.answer(.slow(seconds: 6))
                    ctx.time.advance(by: 10)
                    #expect(try await worker.runOnce(client: http) == 1)
                    receiver.answer(.bytes(500, Array(repeating: UInt8(ascii: "x"), count: 5000)))
                    ctx.time.advance(by: 400)
                    #expect(try await worker.runOnce(client: http) == 1)

                    let attempts = try #require(try await Self.deliveries(client, ctx).first?["attempts"] as? [[String: Any]])
                    #expect(attempts.count == 3)
                    let byStatus = Dictionary(attempts.map { (($0["statusCode"] as? Int) ?? 0, $0) }, uniquingKeysWith: { first, _ in first })
                    #expect(byStatus[307] != nil, "the redirect is an attempt with its status")
                    let timedOut = try #require(byStatus[0])
                    #expect((timedOut["error"] as? String)?.isEmpty == false, "the slow answer failed with an error")
                    #expect((timedOut["latencyMs"] as? Int).map { $0 < 6000 } == true, "cut off before the endpoint answered")
                    #expect((byStatus[500]?["response"] as? String)?.utf8.count == 1024, "1 KiB of the answer kept")
                }
            }
        }
    }

    /// Each error's `type`, and a server fault that answers 500 `api_error` with nothing internal.
    @Test(arguments: TestEngine.allCases)
    func errorTypesAndTheServerFault(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: ["rateLimitBurst": .double(3), "rateLimit": .double(0.001)]) { client, ctx in
            try await ctx.seedCustomer()
            var wrong = ctx.headers()
            wrong[HTTPField.Name("x-ck-api-key")!] = "ck_test_wrong"
            let unauthenticated = try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: wrong)
            #expect(unauthenticated.status == .unauthorized)
            #expect(unauthenticated.error["type"] as? String == "authentication_error")
            let invalid = try await client.execute(uri: "/v1/cancel-sessions?limit=0", method: .get, headers: ctx.headers())
            #expect(invalid.status == .badRequest)
            #expect(invalid.error["type"] as? String == "invalid_request_error")
            var keyed = ctx.headers()
            keyed[HTTPField.Name("Idempotency-Key")!] = "k1"
            _ = try await client.mint(ctx, headers: keyed)
            let reused = try await client.mint(ctx, expiresIn: 7200, headers: keyed)
            #expect(reused.status == .unprocessableContent)
            #expect(reused.error["type"] as? String == "idempotency_error")
            let limited = try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: ctx.headers())
            #expect(limited.status == .tooManyRequests)
            #expect(limited.error["type"] as? String == "rate_limit_error")
            #expect(limited.headers[.retryAfter] != nil)
        }
        try await withTestApp(engine) { client, ctx in
            try await ctx.seedCustomer()
            #expect(try await client.mint(ctx).status == .created, "the key check is now cached")
            // A database fault: the table a mint writes to is gone.
            try await ctx.services.pool.withConnection { db in try await db.raw("ALTER TABLE cancel_links RENAME TO cancel_links_gone").run() }
            let fault = try await client.mint(ctx)
            #expect(fault.status == .internalServerError)
            #expect(fault.error["type"] as? String == "api_error")
            #expect(fault.error["code"] as? String == "internal_error")
            #expect(fault.error["message"] as? String == "Something went wrong on our side.")
            #expect((fault.error["request_id"] as? String)?.hasPrefix("req_") == true)
            for word in ["cancel_links", "relation", "no such table", "SQL", "postgres", "sqlite", "Error("] {
                #expect(!fault.text.contains(word), "\(word) in \(fault.text)")
            }
        }
    }

    /// `--api-key-cache` as the application wires it: with 0 a rotation elsewhere takes effect
    /// on the next request; with 5 within five seconds, not before.
    @Test(arguments: [0.0, 5.0])
    func theAPIKeyCacheAsWired(seconds: Double) async throws {
        try await withTestApp(.sqlite, configuration: ["apiKeyCache": .double(seconds)]) { client, ctx in
            #expect(try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: ctx.headers()).status == .ok)
            // Another instance rotates the key, ending the old one now.
            let elsewhere = CredentialService(store: ctx.services.store, time: ctx.time)
            let fresh = try await elsewhere.rotateKey(organizationID: ctx.organization.id, mode: .test, grace: 0)
            ctx.time.advance(by: 1)
            let soon = try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: ctx.headers())
            #expect(soon.status == (seconds == 0 ? .unauthorized : .ok))
            ctx.time.advance(by: 5)
            #expect(try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: ctx.headers()).status == .unauthorized)
            var headers = ctx.headers()
            headers[HTTPField.Name("x-ck-api-key")!] = fresh.apiKey
            #expect(try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: headers).status == .ok)
        }
        #expect(throws: CancelflowError.self) { try testConfiguration(["apiKeyCache": .double(61)]) }
    }

    /// Flag over environment over `.env` over the default, through the real executable.
    @Test func configurationPrecedence() async throws {
        // The CLI cannot push a built-in customer, so the links are for a customer at a Stripe
        // stand-in.
        let stripe = try await BillingStandIn(.stripe)
        defer { stripe.stop() }
        let (customer, _) = try await BillingProviderTests.seedStripe(stripe, plans: [])
        try await withTemporaryFolder("cancelflow-config") { folder in
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CANCELFLOW_") }
            let created = try await runProcess(
                cancelflowBinary(), ["orgs", "create", "--name", "Acme", "--billing", "stripe", "--json"],
                environment: environment, directory: folder.path)
            #expect(created.status == 0, "\(created.stderr)")
            let org = try #require((try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])?["id"] as? String)
            let keyFile = folder.appendingPathComponent("stripe.key")
            try stripe.key.write(to: keyFile, atomically: true, encoding: .utf8)
            let configured = try await runProcess(
                cancelflowBinary(),
                [
                    "orgs", "configure-billing", "--org", org, "--mode", "test", "--provider", "stripe", "--secret-key-file", keyFile.path,
                    "--api-base", stripe.base,
                ], environment: environment, directory: folder.path)
            #expect(configured.status == 0, "\(configured.stderr)")
            func linkURL(flag: Bool) async throws -> String {
                let arguments =
                    ["links", "create", "--org", org, "--mode", "test", "--customer", customer, "--json"]
                    + (flag ? ["--public-url", "https://flag.test"] : [])
                let result = try await runProcess(cancelflowBinary(), arguments, environment: environment, directory: folder.path)
                #expect(result.status == 0, "\(result.stderr)")
                return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])?["url"] as? String ?? ""
            }
            try "CANCELFLOW_PUBLIC_URL=https://dotenv.test\n".write(to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
            environment["CANCELFLOW_PUBLIC_URL"] = "https://env.test"
            #expect(try await linkURL(flag: true).hasPrefix("https://flag.test/cancel/cl_"))
            #expect(try await linkURL(flag: false).hasPrefix("https://env.test/cancel/cl_"))
            environment["CANCELFLOW_PUBLIC_URL"] = nil
            #expect(try await linkURL(flag: false).hasPrefix("https://dotenv.test/cancel/cl_"))
            try FileManager.default.removeItem(at: folder.appendingPathComponent(".env"))
            #expect(try await linkURL(flag: false).hasPrefix("http://127.0.0.1:8080/cancel/cl_"))
        }
    }
}
