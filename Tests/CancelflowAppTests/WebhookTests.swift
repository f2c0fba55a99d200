import AsyncHTTPClient
import CancelflowApp
import CancelflowCore
import CancelflowTestSupport
import Configuration
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Webhooks end to end: a real receiver on loopback, the real worker and HTTP client, an
/// injected clock for the retry schedule.
@Suite struct WebhookTests {
    static let config: [String: ConfigContent] = ["trustProxy": .bool(true), "allowPrivateWebhooks": .bool(true)]
    static let quiet = Logger(label: "worker", factory: { _ in SwiftLogNoOpLogHandler() })

    static func addEndpoint(
        _ client: any TestClientProtocol, _ ctx: TestContext, url: String, mode: Mode = .test,
        events: [String]? = nil
    ) async throws -> (id: String, secret: String) {
        var body: [String: Any] = ["url": url]
        if let events { body["events"] = events }
        let response = try await client.execute(uri: "/v1/webhook-endpoints", method: .post, headers: ctx.headers(mode), body: jsonBody(body))
        #expect(response.status == .created, "\(response.text)")
        return (try #require(response.json["id"] as? String), try #require(response.json["secret"] as? String))
    }

    /// Runs worker passes until `done` holds; fails the test when the passes run out first.
    static func drain(
        _ worker: WebhookWorker, _ http: HTTPClient, passes: Int = 20, ctx: TestContext? = nil, until done: () -> Bool,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        var claimed: [Int] = []
        for _ in 0..<passes {
            claimed.append(try await worker.runOnce(client: http))
            if done() { return }
        }
        // Say what the queue held: full suite runs on PostgreSQL have seen deliveries not arrive
        // here a few times, for a reason not yet known.
        var rows = ""
        if let ctx { rows = try await Self.queue(ctx) }
        Issue.record(
            "the deliveries did not arrive in \(passes) worker passes (claimed per pass: \(claimed)) \(rows)", sourceLocation: sourceLocation)
    }

    /// The delivery queue as text, for a failure message.
    static func queue(_ ctx: TestContext) async throws -> String {
        let columns = ["status", "attempt_count", "next_attempt_at", "locked_by", "locked_until", "error", "code"]
        let rows = try await ctx.services.pool.withConnection { db in
            try await db.raw(
                """
                SELECT d.status, d.attempt_count, d.next_attempt_at, d.locked_by, d.locked_until,
                    (SELECT a.error FROM webhook_attempts a WHERE a.delivery_id = d.id ORDER BY a.attempted_at DESC LIMIT 1) AS error,
                    (SELECT a.status_code FROM webhook_attempts a WHERE a.delivery_id = d.id ORDER BY a.attempted_at DESC LIMIT 1) AS code
                FROM webhook_deliveries d
                """
            ).all()
        }
        let described = rows.map { row in
            columns.map { column in
                let text = (try? row.decode(column: column, as: String?.self)).flatMap { $0 }
                let number = (try? row.decode(column: column, as: Int64?.self)).flatMap { $0 }.map(String.init)
                return "\(column)=\(text ?? number ?? "null")"
            }.joined(separator: " ")
        }
        return "clock \(Int64(ctx.time.now().timeIntervalSince1970 * 1000)); deliveries: [\(described.joined(separator: "; "))]"
    }

    /// Runs worker passes until one finds nothing due: the queue is empty (or only holds
    /// deliveries due later); fails the test if it never gets there.
    static func settle(_ worker: WebhookWorker, _ http: HTTPClient, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for _ in 0..<20 {
            if try await worker.runOnce(client: http) == 0 { return }
        }
        Issue.record("the worker still had deliveries after 20 passes", sourceLocation: sourceLocation)
    }

    static func verifyWithStandardWebhooks(secret: String, _ deliveries: [WebhookReceiver.Received]) async throws -> Int {
        let input: [String: Any] = ["secret": secret, "deliveries": deliveries.map { ["headers": $0.headers, "body": $0.body] }]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("deliveries-\(UUID().uuidString).json").path
        try JSONSerialization.data(withJSONObject: input).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(
            "webhooks/verify.py"
        ).path
        let result = try await runProcess("/bin/sh", ["-c", "python3 '\(script)' < '\(path)'"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return output?["verified"] as? Int ?? -1
    }

    @Test(arguments: TestEngine.allCases)
    func everyStateChangeEmitsItsEventOnceSignedAsTheStandardSays(engine: TestEngine) async throws {
        try await WebhookReceiver.withReceiver { receiver in
            try await withTestApp(engine, configuration: Self.config) { client, ctx in
                // Real time: the receiver-side library checks the timestamp against its clock.
                ctx.time.set(Date())
                try await ctx.seedCustomer()
                let (_, secret) = try await Self.addEndpoint(client, ctx, url: receiver.url)
                let minted = try await client.mint(ctx, extra: ["metadata": ["ticket": "T-9"]])
                let token = try #require(minted.json["token"] as? String)
                let browser = TestBrowser(client, host: "cancel.test")
                _ = try await browser.get("/cancel/\(token)")
                _ = try await browser.post("/cancel/\(token)")
                _ = try await browser.get("/flow")
                _ = try await browser.post("/flow/survey", ["reason": "Technical problems", "comment": "Crashes"])
                _ = try await browser.post("/flow/offer", ["decision": "decline"])
                _ = try await browser.post("/flow/confirm")
                let other = try #require(try await client.mint(ctx).json["id"] as? String)
                _ = try await client.execute(uri: "/v1/cancel-sessions/\(other)/revoke", method: .post, headers: ctx.headers())

                let worker = WebhookWorker(services: ctx.services, logger: Self.quiet)
                let http = WebhookWorker.makeClient()
                try await Self.drain(worker, http, ctx: ctx) { receiver.requests.count >= 6 }
                try await Self.settle(worker, http)
                try await http.shutdown()

                let requests = receiver.requests
                let types = try requests.map { request in
                    let object = try #require(try JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any])
                    return try #require(object["type"] as? String)
                }
                #expect(
                    types.sorted() == [
                        "cancel_flow.completed", "cancel_link.consumed", "cancel_link.created", "cancel_link.created",
                        "cancel_link.exchanged", "cancel_link.revoked",
                    ])
                let eventIDs = requests.map { $0.headers["Webhook-Id"] ?? $0.headers["webhook-id"] ?? "missing" }
                #expect(eventIDs.allSatisfy { $0.hasPrefix("evt_") })
                #expect(Set(eventIDs).count == 6, "one delivery per event")
                for request in requests {
                    #expect(!request.body.contains(token), "no event carries the token")
                    #expect(request.body.contains(#""livemode":false"#))
                }
                let created = try #require(requests.first { $0.body.contains("cancel_link.created") && $0.body.contains("T-9") })
                #expect(created.body.contains(#""metadata":{"ticket":"T-9"}"#))
                let completed = try #require(requests.first { $0.body.contains("cancel_flow.completed") })
                for fragment in [
                    #""outcome":"canceled""#, #""reason":"Technical problems""#, #""comment":"Crashes""#, #""offerAccepted":false"#,
                    #""subscriptionId":"sub_xyz789""#, #""via":"link""#, #""metadata":{"ticket":"T-9"}"#,
                ] {
                    #expect(completed.body.contains(fragment), "\(fragment)")
                }
                #expect(try await Self.verifyWithStandardWebhooks(secret: secret, requests) == 6)
                // The inspection API shows the delivery and its attempt.
                let events = try await client.execute(uri: "/v1/events?limit=100", method: .get, headers: ctx.headers())
                let listed = try #require(events.json["data"] as? [[String: Any]])
                #expect(listed.count == 6)
                let eventID = try #require(listed.first?["id"] as? String)
                let deliveries = try await client.execute(uri: "/v1/events/\(eventID)/deliveries", method: .get, headers: ctx.headers())
                let delivery = try #require((deliveries.json["data"] as? [[String: Any]])?.first)
                #expect(delivery["status"] as? String == "succeeded")
                #expect(((delivery["attempts"] as? [[String: Any]])?.first?["statusCode"] as? Int) == 200)
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func failuresAreRetriedOnTheScheduleUntilTheLastAttempt(engine: TestEngine) async throws {
        try await WebhookReceiver.withReceiver { receiver in
            try await withTestApp(engine, configuration: Self.config) { client, ctx in
                receiver.answer(.status(500))
                try await ctx.seedCustomer()
                _ = try await Self.addEndpoint(client, ctx, url: receiver.url, events: ["cancel_link.created"])
                _ = try await client.mint(ctx)
                let worker = WebhookWorker(services: ctx.services, logger: Self.quiet)
                let http = WebhookWorker.makeClient()
                #expect(try await worker.runOnce(client: http) == 1)
                for delay in RetrySchedule.delays {
                    // Not before the delay (jitter only ever adds up to 10 %)…
                    ctx.time.advance(by: delay * 0.99)
                    #expect(try await worker.runOnce(client: http) == 0)
                    // …and by the delay plus its jitter.
                    ctx.time.advance(by: delay * 0.12)
                    #expect(try await worker.runOnce(client: http) == 1)
                }
                ctx.time.advance(by: 100_000)
                #expect(try await worker.runOnce(client: http) == 0, "eight attempts, then it stops")
                #expect(receiver.requests.count == RetrySchedule.maximumAttempts)
                let retryIDs = receiver.requests.map { $0.headers["Webhook-Id"] ?? $0.headers["webhook-id"] ?? "missing" }
                #expect(retryIDs.allSatisfy { $0.hasPrefix("evt_") })
                #expect(Set(retryIDs).count == 1, "the same webhook-id on every retry")
                let eventID = try #require(receiver.requests.first?.headers["Webhook-Id"] ?? receiver.requests.first?.headers["webhook-id"])
                let deliveries = try await client.execute(uri: "/v1/events/\(eventID)/deliveries", method: .get, headers: ctx.headers())
                let delivery = try #require((deliveries.json["data"] as? [[String: Any]])?.first)
                #expect(delivery["status"] as? String == "failed")
                let attempts = try #require(delivery["attempts"] as? [[String: Any]])
                #expect(attempts.count == 8)
                #expect(attempts.allSatisfy { $0["statusCode"] as? Int == 500 && ($0["response"] as? String) == "answered 500" })
                try await http.shutdown()
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func goneDisablesTheEndpointAndRetryAfterIsHonoured(engine: TestEngine) async throws {
        try await WebhookReceiver.withReceiver { receiver in
            try await withTestApp(engine, configuration: Self.config) { client, ctx in
                try await ctx.seedCustomer()
                let (endpointID, _) = try await Self.addEndpoint(client, ctx, url: receiver.url)
                let worker = WebhookWorker(services: ctx.services, logger: Self.quiet)
                let http = WebhookWorker.makeClient()
                receiver.answer(.status(503, retryAfter: 120))
                _ = try await client.mint(ctx)
                #expect(try await worker.runOnce(client: http) == 1)
                ctx.time.advance(by: 60)
                #expect(try await worker.runOnce(client: http) == 0, "Retry-After: 120 beats the 5 s schedule")
                ctx.time.advance(by: 61)
                receiver.answer(.status(410))
                #expect(try await worker.runOnce(client: http) == 1)
                let endpoint = try await client.execute(uri: "/v1/webhook-endpoints/\(endpointID)", method: .get, headers: ctx.headers())
                #expect(endpoint.json["status"] as? String == "disabled")
                _ = try await client.mint(ctx)
                ctx.time.advance(by: 3600)
                #expect(try await worker.runOnce(client: http) == 0, "a disabled endpoint gets nothing more")
                #expect(receiver.requests.count == 2)
                try await http.shutdown()
            }
        }
    }

    /// A receiver answering NUL bytes and bytes that are not UTF-8 gets its failure recorded
    /// like any other (PostgreSQL refuses NUL in text), so the delivery backs off instead of
    /// being re-sent after every lease ahead of every other tenant's.
    @Test(arguments: TestEngine.allCases)
    func aReceiverAnsweringNULBytesAndGarbageCannotJamDelivery(engine: TestEngine) async throws {
        try await WebhookReceiver.withReceiver { receiver in
            try await withTestApp(engine, configuration: Self.config) { client, ctx in
                try await ctx.seedCustomer()
                _ = try await Self.addEndpoint(client, ctx, url: receiver.url, events: ["cancel_link.created"])
                let worker = WebhookWorker(services: ctx.services, logger: Self.quiet)
                let http = WebhookWorker.makeClient()
                defer { Task { try? await http.shutdown() } }
                let answers: [(Int, [UInt8])] = [
                    (500, [0x61, 0x00, 0x62]), (200, Array("ok\u{0}".utf8)), (503, [0xFF, 0xFE, 0x00, 0x1B, 0xC0, 0x80]),
                ]
                for (status, bytes) in answers {
                    receiver.answer(.bytes(status, bytes))
                    #expect(try await client.mint(ctx).status == .created)
                    #expect(try await worker.runOnce(client: http) == 1, "only the new delivery is due")
                }
                #expect(receiver.requests.count == 3)
                #expect(try await worker.runOnce(client: http) == 0, "every failure was recorded and backs off")

                let events = try await client.execute(uri: "/v1/events", method: .get, headers: ctx.headers())
                let ids = try #require((events.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String })
                #expect(ids.count == 3)
                var statuses: [String] = []
                for id in ids {
                    let deliveries = try await client.execute(uri: "/v1/events/\(id)/deliveries", method: .get, headers: ctx.headers())
                    #expect(deliveries.status == .ok)
                    let delivery = try #require((deliveries.json["data"] as? [[String: Any]])?.first)
                    statuses.append(try #require(delivery["status"] as? String))
                    let attempt = try #require((delivery["attempts"] as? [[String: Any]])?.first)
                    let excerpt = try #require(attempt["response"] as? String)
                    #expect(!excerpt.unicodeScalars.contains { $0.value == 0 || $0.value == 0x1B }, "\(excerpt.debugDescription)")
                }
                #expect(statuses.sorted() == ["pending", "pending", "succeeded"])
                // The failed ones come back on schedule, not on every pass.
                ctx.time.advance(by: 10)
                receiver.answer(.status(200))
                #expect(try await worker.runOnce(client: http) == 2)
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func eventsOfOneModeNeverReachTheOtherAndPingsGoToTheOneTested(engine: TestEngine) async throws {
        try await WebhookReceiver.withReceiver { receiver in
            try await withTestApp(engine, configuration: Self.config) { client, ctx in
                try await ctx.seedCustomer(mode: .live)
                let (testEndpoint, _) = try await Self.addEndpoint(client, ctx, url: receiver.url, mode: .test)
                let ping = try await client.execute(uri: "/v1/webhook-endpoints/\(testEndpoint)/test", method: .post, headers: ctx.headers(.test))
                #expect(ping.status == .accepted)
                #expect(try await client.mint(ctx, headers: ctx.headers(.live)).status == .created)
                let worker = WebhookWorker(services: ctx.services, logger: Self.quiet)
                let http = WebhookWorker.makeClient()
                try await Self.settle(worker, http)
                try await http.shutdown()
                #expect(receiver.requests.count == 1)
                #expect(receiver.requests.first?.body.contains(#""type":"ping""#) == true)
                #expect(receiver.requests.first?.body.contains(#""livemode":false"#) == true)
                let liveEvents = try await client.execute(uri: "/v1/events", method: .get, headers: ctx.headers(.live))
                #expect((liveEvents.json["data"] as? [Any])?.isEmpty == true, "no live endpoint, so no live event was written")
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func endpointsOnPrivateAddressesOrPlainHTTPInLiveModeAreRefused(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: ["trustProxy": .bool(true)]) { client, ctx in
            for url in [
                "http://127.0.0.1:9/hooks", "http://169.254.169.254/latest", "http://10.1.2.3/x", "http://[::1]/x",
                "http://localhost/x", "ftp://example.com/x", "not a url", "http://[::ffff:127.0.0.1]/x",
                "http://[64:ff9b::a9fe:a9fe]/x", "http://[2002:7f00:1::]/x", "http://[fd00::1]/x", "http://100.64.0.1/x",
                #"https://example.com\@127.0.0.1/x"#, "https://user:pw@example.com/x", "https://example.com/a b",
            ] {
                let response = try await client.execute(
                    uri: "/v1/webhook-endpoints", method: .post, headers: ctx.headers(),
                    body: jsonBody(["url": url]))
                #expect(response.status == .unprocessableContent, "\(url): \(response.text)")
                #expect(response.error["param"] as? String == "url")
            }
            let plain = try await client.execute(
                uri: "/v1/webhook-endpoints", method: .post, headers: ctx.headers(.live),
                body: jsonBody(["url": "http://example.com/hooks"]))
            #expect(plain.status == .unprocessableContent)
            #expect(plain.error["message"] as? String == "Live-mode endpoints must use https.")
            let unknown = try await client.execute(
                uri: "/v1/webhook-endpoints", method: .post, headers: ctx.headers(),
                body: jsonBody(["url": "https://example.com/hooks", "events": ["cancel_link.nope"]]))
            #expect(unknown.status == .badRequest)
            let listed = try await client.execute(uri: "/v1/webhook-endpoints", method: .get, headers: ctx.headers())
            #expect((listed.json["data"] as? [Any])?.isEmpty == true)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aRotatedSecretSignsAlongsideTheNewOneForADay(engine: TestEngine) async throws {
        try await WebhookReceiver.withReceiver { receiver in
            try await withTestApp(engine, configuration: Self.config) { client, ctx in
                ctx.time.set(Date())
                let (endpointID, oldSecret) = try await Self.addEndpoint(client, ctx, url: receiver.url)
                let rotated = try await client.execute(
                    uri: "/v1/webhook-endpoints/\(endpointID)/rotate-secret", method: .post, headers: ctx.headers())
                let newSecret = try #require(rotated.json["secret"] as? String)
                #expect(newSecret != oldSecret)
                let read = try await client.execute(uri: "/v1/webhook-endpoints/\(endpointID)", method: .get, headers: ctx.headers())
                #expect(read.json["secret"] == nil, "a secret is shown only when issued")
                _ = try await client.execute(uri: "/v1/webhook-endpoints/\(endpointID)/test", method: .post, headers: ctx.headers())
                let worker = WebhookWorker(services: ctx.services, logger: Self.quiet)
                let http = WebhookWorker.makeClient()
                try await Self.drain(worker, http, ctx: ctx) { receiver.requests.count >= 1 }
                guard let during = receiver.requests.first else {
                    // (Shut down first: an HTTP client left running stops the whole test process.)
                    try await http.shutdown()
                    return
                }
                #expect((during.headers["Webhook-Signature"] ?? during.headers["webhook-signature"] ?? "").split(separator: " ").count == 2)
                #expect(try await Self.verifyWithStandardWebhooks(secret: oldSecret, [during]) == 1)
                #expect(try await Self.verifyWithStandardWebhooks(secret: newSecret, [during]) == 1)
                // A day later only the new secret signs.
                ctx.time.set(Date().addingTimeInterval(24 * 3600 + 1))
                _ = try await client.execute(uri: "/v1/webhook-endpoints/\(endpointID)/test", method: .post, headers: ctx.headers())
                try await Self.drain(worker, http, ctx: ctx) { receiver.requests.count >= 2 }
                try await http.shutdown()
                let after = try #require(receiver.requests.last)
                #expect((after.headers["Webhook-Signature"] ?? after.headers["webhook-signature"] ?? "").split(separator: " ").count == 1)
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aRefusedConnectionIsAFailedAttemptThatIsRetried(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let refused = try RefusedPort()
            defer { refused.close() }
            let nobody = "http://127.0.0.1:\(refused.port)/hooks"
            _ = try await Self.addEndpoint(client, ctx, url: nobody)
            _ = try await client.mint(ctx)
            let worker = WebhookWorker(services: ctx.services, logger: Self.quiet)
            let http = WebhookWorker.makeClient()
            #expect(try await worker.runOnce(client: http) == 1)
            try await http.shutdown()
            let events = try await client.execute(uri: "/v1/events", method: .get, headers: ctx.headers())
            let eventID = try #require((events.json["data"] as? [[String: Any]])?.first?["id"] as? String)
            let deliveries = try await client.execute(uri: "/v1/events/\(eventID)/deliveries", method: .get, headers: ctx.headers())
            let delivery = try #require((deliveries.json["data"] as? [[String: Any]])?.first)
            #expect(delivery["status"] as? String == "pending")
            #expect(delivery["nextAttemptAt"] is String)
            let attempt = try #require((delivery["attempts"] as? [[String: Any]])?.first)
            #expect(attempt["statusCode"] is NSNull)
            #expect((attempt["error"] as? String)?.isEmpty == false)
            // Resend queues it again for the endpoint.
            let resent = try await client.execute(uri: "/v1/events/\(eventID)/resend", method: .post, headers: ctx.headers())
            #expect(resent.status == .accepted)
            let after = try await client.execute(uri: "/v1/events/\(eventID)/deliveries", method: .get, headers: ctx.headers())
            #expect((after.json["data"] as? [Any])?.count == 2)
        }
    }

    @Test func twoWorkersOnOnePostgreSQLDeliverEachEventOnce() async throws {
        try await WebhookReceiver.withReceiver { receiver in
            try await withTestApp(.postgres, configuration: Self.config) { client, ctx in
                try await ctx.seedCustomer()
                _ = try await Self.addEndpoint(client, ctx, url: receiver.url, events: ["cancel_link.created"])
                for _ in 0..<30 { _ = try await client.mint(ctx) }
                let first = WebhookWorker(services: ctx.services, logger: Self.quiet, id: "wk_one")
                let second = WebhookWorker(services: ctx.services, logger: Self.quiet, id: "wk_two")
                let http = WebhookWorker.makeClient()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for worker in [first, second] {
                        group.addTask {
                            for _ in 0..<20 where receiver.requests.count < 30 { _ = try await worker.runOnce(client: http) }
                        }
                    }
                    try await group.waitForAll()
                }
                try await http.shutdown()
                let ids = receiver.requests.map { $0.headers["Webhook-Id"] ?? $0.headers["webhook-id"] ?? "missing" }
                #expect(ids.count == 30)
                #expect(Set(ids).count == 30)
            }
        }
    }

    /// Without `--allow-private-webhooks` each delivery resolves and checks the endpoint's
    /// address and connects to exactly that address; deliveries to the same address reuse the
    /// connection instead of opening one each (the receiver sees one sender port).
    @Test(arguments: TestEngine.allCases)
    func deliveriesThroughACheckedAddressReuseTheirConnection(engine: TestEngine) async throws {
        try await WebhookReceiver.withReceiver { receiver in
            try await withTestApp(engine, configuration: Self.config) { client, ctx in
                try await ctx.seedCustomer()
                // `localhost` resolves (and is checked) on every delivery, as a merchant's host would.
                let url = receiver.url.replacingOccurrences(of: "127.0.0.1", with: "localhost")
                _ = try await Self.addEndpoint(client, ctx, url: url, events: ["cancel_link.created"])
                var worker = WebhookWorker(services: ctx.services, logger: Self.quiet)
                let http = WebhookWorker.makeClient()
                // The endpoint was registered under `--allow-private-webhooks`; the worker runs
                // without it, and lets loopback through its check so the checked path can reach
                // the local receiver (the check itself still runs: a refusal stops delivery below).
                worker.allowPrivate = false
                worker.refusesAddress = { _ in false }
                for _ in 0..<6 { _ = try await client.mint(ctx) }
                try await Self.drain(worker, http, ctx: ctx) { receiver.requests.count >= 6 }
                if receiver.requests.count < 6 {
                    // Say why: a full suite run once saw none arrive here on PostgreSQL.
                    let events = try await client.execute(uri: "/v1/events", method: .get, headers: ctx.headers())
                    let eventID = (events.json["data"] as? [[String: Any]])?.first?["id"] as? String ?? "none"
                    let deliveries = try await client.execute(uri: "/v1/events/\(eventID)/deliveries", method: .get, headers: ctx.headers())
                    Issue.record("no deliveries arrived; the first event's deliveries: \(deliveries.text)")
                }
                for _ in 0..<6 { _ = try await client.mint(ctx) }
                try await Self.drain(worker, http, ctx: ctx) { receiver.requests.count >= 12 }
                let ports = receiver.requests.compactMap(\.remotePort)
                #expect(ports.count == 12)
                // Eight deliveries go out at once per pass, so a few connections may open; without
                // reuse there would be twelve.
                #expect(Set(ports).count <= 6, "\(ports)")
                #expect(worker.keptClients == 1)
                // The same check refusing the address stops delivery.
                worker.refusesAddress = { _ in true }
                _ = try await client.mint(ctx)
                _ = try await worker.runOnce(client: http)
                #expect(receiver.requests.count == 12)
                await worker.shutdownKeptClients()
                #expect(worker.keptClients == 0)
                try await http.shutdown()
            }
        }
    }
}
