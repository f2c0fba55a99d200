import CancelflowClient
import CancelflowTestSupport
import Foundation
import HTTPTypes
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The Swift SDK (`CancelflowClient`) against a real `cancelflow serve`, on each database: every
/// façade call, typed errors from the error body, paging as a sequence, and the webhook verifier
/// on real signed deliveries.
@Suite struct SDKTests {
    static func client(_ server: ServeProcess, _ appID: String, _ apiKey: String) -> Cancelflow {
        Cancelflow(baseURL: URL(string: server.baseURL)!, appID: appID, apiKey: apiKey)
    }

    @Test(arguments: TestEngine.allCases)
    func cancelLinksAndCustomersThroughTheSDK(engine: TestEngine) async throws {
        try await LiveServer.with(engine) { server, appID, apiKey in
            let cancelflow = Self.client(server, appID, apiKey)
            let customer = try await cancelflow.upsertCustomer(id: "cus abc/1", email: "Ada@Example.com", name: "Ada")
            #expect(customer.id == "cus abc/1", "a path id with a space and a slash survives encoding")
            #expect(customer.email == "ada@example.com")
            let periodEnd = Date(timeIntervalSince1970: 1_798_761_600)
            let subscription = try await cancelflow.upsertSubscription(
                customerId: "cus abc/1", id: "sub_1", status: .active, planName: "Pro", amount: 1200, currency: "USD", interval: .month,
                currentPeriodEnd: periodEnd)
            #expect(subscription.currency == "usd")
            #expect(subscription.currentPeriodEnd == periodEnd)
            #expect(try await cancelflow.customer(id: "cus abc/1").subscriptions.map(\.id) == ["sub_1"])

            let before = Date()
            let link = try await cancelflow.createCancelLink(
                customerId: "cus abc/1", subscriptionId: "sub_1", expiresIn: .seconds(3600), metadata: ["plan": "pro"])
            #expect(link.token?.hasPrefix("cl_") == true)
            let url = try #require(link.url)
            #expect(url == "\(server.baseURL)/cancel/\(link.token!)")
            #expect(link.status == .active)
            #expect(link.singleUse)
            #expect(link.metadata.additionalProperties == ["plan": "pro"])
            #expect(abs(link.expiresAt.timeIntervalSince(before) - 3600) < 60)
            // The link works: its landing page answers.
            #expect(try await httpStatus(url) == 200)
            // A retry with the same key and date answers the same link; another body with it is refused.
            let expiresAt = Date().addingTimeInterval(1800)
            let first = try await cancelflow.createCancelLink(customerId: "cus abc/1", expiresAt: expiresAt, idempotencyKey: "sdk-1")
            let replay = try await cancelflow.createCancelLink(customerId: "cus abc/1", expiresAt: expiresAt, idempotencyKey: "sdk-1")
            #expect(replay.id == first.id)
            #expect(replay.token == first.token)
            let reused = await #expect(throws: CancelflowAPIError.self) {
                try await cancelflow.createCancelLink(customerId: "cus abc/1", expiresIn: .seconds(60), idempotencyKey: "sdk-1")
            }
            #expect(reused?.code == "idempotency_key_reused")
            #expect(reused?.status == 422)

            let read = try await cancelflow.cancelLink(id: link.id)
            #expect(read.token == nil && read.url == nil, "the token is never read back")
            #expect(read.createdAt == link.createdAt, "milliseconds and whole seconds both decode")

            // Eight links read back in pages of two, newest first, as one sequence.
            for _ in 0..<6 {
                _ = try await cancelflow.createCancelLink(customerId: "cus abc/1", expiresIn: .seconds(600), singleUse: false)
            }
            var seen: [String] = []
            for try await each in cancelflow.cancelLinks(customerId: "cus abc/1", pageSize: 2) { seen.append(each.id) }
            #expect(seen.count == 8)
            #expect(Set(seen).count == 8)
            #expect(seen.last == link.id)
            var firstTwo: [String] = []
            for try await each in cancelflow.cancelLinks(pageSize: 2) {
                firstTwo.append(each.id)
                if firstTwo.count == 2 { break }
            }
            #expect(firstTwo == Array(seen.prefix(2)))

            let revoked = try await cancelflow.revokeCancelLink(id: link.id)
            #expect(revoked.status == .revoked)
            #expect(revoked.revokedAt != nil)

            // Typed errors, from the error body.
            let missing = await #expect(throws: CancelflowAPIError.self) { try await cancelflow.customer(id: "cus_missing") }
            #expect(missing?.status == 404)
            #expect(missing?.code == "customer_not_found")
            #expect(missing?.requestID?.hasPrefix("req_") == true)
            let past = await #expect(throws: CancelflowAPIError.self) {
                try await cancelflow.createCancelLink(customerId: "cus abc/1", expiresIn: .seconds(-60))
            }
            #expect(past?.code == "expires_at_in_past")
            #expect(past?.param == "expiresAt")
            let wrongKey = Self.client(server, appID, "ck_test_wrong")
            let refused = await #expect(throws: CancelflowAPIError.self) { try await wrongKey.cancelLink(id: link.id) }
            #expect(refused?.status == 401)
            #expect(refused?.type == "authentication_error")
            #expect(refused?.description.contains("ck_test_wrong") == false)
            // A transport failure is not dressed up as an API error.
            // (AsyncHTTPClient keeps trying a refused connection until the deadline, hence a short one.)
            let closedPort = try RefusedPort()
            defer { closedPort.close() }
            let nowhere = Cancelflow(
                baseURL: URL(string: "http://127.0.0.1:\(closedPort.port)")!, appID: appID, apiKey: apiKey, timeout: .seconds(2), retries: 0)
            await #expect {
                try await nowhere.cancelLink(id: link.id)
            } throws: { error in
                !(error is CancelflowAPIError)
            }
        }
    }

    /// Over the rate limit, the SDK waits out `Retry-After` and tries again with the same request
    /// (so a mint under its generated idempotency key still mints once); with no retries the 429
    /// surfaces as a typed error. A token every 5 s with a burst of one makes each call after the
    /// first meet a 429 (unless it came over 5 s after the previous one), and the server's own
    /// request counter shows the 429s the SDK retried through.
    @Test func theSDKRetriesARateLimitedRequestWithTheSameKey() async throws {
        let arguments = ["--rate-limit", "0.2", "--rate-limit-burst", "1", "--metrics"]
        try await LiveServer.with(.sqlite, arguments: arguments) { server, appID, apiKey in
            let patient = Cancelflow(baseURL: URL(string: server.baseURL)!, appID: appID, apiKey: apiKey, retries: 4)
            _ = try await patient.upsertCustomer(id: "cus_1")
            let first = try await patient.createCancelLink(customerId: "cus_1", expiresIn: .seconds(600))
            let second = try await patient.createCancelLink(customerId: "cus_1", expiresIn: .seconds(600))
            #expect(first.id != second.id)
            let metrics = try await Self.text("\(server.baseURL)/metrics")
            let refused = metrics.split(separator: "\n").filter {
                $0.hasPrefix("cancelflow_http_requests_total") && $0.contains("status=\"429\"") && $0.contains("cancel-sessions")
            }
            #expect(!refused.isEmpty, "the server answered 429 to a mint the SDK then retried")
            var listed = 0
            for try await _ in patient.cancelLinks(pageSize: 100) { listed += 1 }
            #expect(listed == 2, "each mint minted once")
        }
        // One token per 100 s: the second call is refused, and with no retries that is thrown.
        try await LiveServer.with(.sqlite, arguments: ["--rate-limit", "0.01", "--rate-limit-burst", "1"]) { server, appID, apiKey in
            let impatient = Cancelflow(baseURL: URL(string: server.baseURL)!, appID: appID, apiKey: apiKey, retries: 0)
            _ = try await impatient.upsertCustomer(id: "cus_1")
            let limited = await #expect(throws: CancelflowAPIError.self) { _ = try await impatient.customer(id: "cus_1") }
            #expect(limited?.status == 429)
            #expect(limited?.type == "rate_limit_error")
            #expect((limited?.retryAfter ?? 0) >= 1)
        }
    }

    static func text(_ url: String) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url)!)
        return String(decoding: data, as: UTF8.self)
    }

    @Test(arguments: TestEngine.allCases)
    func webhookEndpointsAndTheVerifierOnRealDeliveries(engine: TestEngine) async throws {
        try await WebhookReceiver.withReceiver { receiver in
            try await LiveServer.with(engine, arguments: ["--allow-private-webhooks"]) { server, appID, apiKey in
                let cancelflow = Self.client(server, appID, apiKey)
                let endpoint = try await cancelflow.createWebhookEndpoint(url: receiver.url, events: [.cancelLinkCreated], description: "SDK")
                let secret = try #require(endpoint.secret)
                #expect(endpoint.events == [.cancelLinkCreated])
                #expect(try await cancelflow.webhookEndpoints().map(\.id) == [endpoint.id])
                #expect(try await cancelflow.webhookEndpoint(id: endpoint.id).secret == nil)

                _ = try await cancelflow.upsertCustomer(id: "cus_1")
                let link = try await cancelflow.createCancelLink(customerId: "cus_1", expiresIn: .seconds(600))
                let pingID = try await cancelflow.testWebhookEndpoint(id: endpoint.id)
                let delivered = try await Self.waitFor { receiver.requests.count >= 2 ? receiver.requests : nil }

                let verifier = try WebhookVerifier(secret: secret)
                var types: Set<EventType> = []
                for request in delivered {
                    let event = try verifier.verify(payload: Data(request.body.utf8), headers: request.headers)
                    types.insert(event._type)
                    #expect(event.livemode == false)
                }
                #expect(types == [.cancelLinkCreated, .ping])
                let created = try #require(delivered.first { $0.body.contains("cancel_link.created") })
                #expect(created.body.contains(link.id))
                #expect(!created.body.contains(link.token!), "events never carry the token")
                let typed = try verifier.verify(payload: Data(created.body.utf8), headers: created.headers, as: CancelLinkEvent.self)
                #expect(typed.data.id == link.id)
                #expect(typed._type == .cancelLinkCreated)
                #expect(typed.data.expiresAt == link.expiresAt)

                // What the verifier refuses: a changed body, another secret, an old or future
                // timestamp, a missing header.
                let body = Data(created.body.utf8)
                let headers = created.headers
                #expect(throws: WebhookVerificationError.noMatchingSignature) {
                    try verifier.verify(payload: Data(created.body.replacingOccurrences(of: "false", with: "true").utf8), headers: headers)
                }
                let other = try WebhookVerifier(secret: "whsec_" + Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString())
                #expect(throws: WebhookVerificationError.noMatchingSignature) { try other.verify(payload: body, headers: headers) }
                #expect(throws: WebhookVerificationError.timestampOutOfTolerance) {
                    try verifier.verify(payload: body, headers: headers, now: Date().addingTimeInterval(600))
                }
                #expect(throws: WebhookVerificationError.timestampOutOfTolerance) {
                    try verifier.verify(payload: body, headers: headers, now: Date().addingTimeInterval(-600))
                }
                #expect(throws: WebhookVerificationError.missingHeader("webhook-signature")) {
                    try verifier.verify(payload: body, headers: headers.filter { $0.key.lowercased() != "webhook-signature" })
                }
                #expect(throws: WebhookVerificationError.invalidSecret) { try WebhookVerifier(secret: "whsec_!!!") }

                // After a rotation both secrets verify (the old one signs alongside for a day).
                let rotated = try await cancelflow.rotateWebhookEndpointSecret(id: endpoint.id)
                let newSecret = try #require(rotated.secret)
                #expect(newSecret != secret)
                try await cancelflow.resendEvent(id: pingID)
                let resent = try await Self.waitFor { receiver.requests.count >= 3 ? receiver.requests[2] : nil }
                for key in [secret, newSecret] {
                    #expect(try WebhookVerifier(secret: key).verify(payload: Data(resent.body.utf8), headers: resent.headers)._type == .ping)
                }

                // Events and deliveries read back.
                var events: [Event] = []
                for try await event in cancelflow.events(pageSize: 1) { events.append(event) }
                #expect(events.map(\.id).contains(pingID))
                #expect(try await cancelflow.event(id: pingID)._type == .ping)
                let deliveries = try await Self.waitFor {
                    let all = try await cancelflow.deliveries(eventId: pingID)
                    return all.first?.attempts.count ?? 0 >= 1 ? all : nil
                }
                #expect(deliveries.first?.endpointId == endpoint.id)
                #expect(deliveries.first?.attempts.first?.statusCode == 200)

                try await cancelflow.deleteWebhookEndpoint(id: endpoint.id)
                let gone = await #expect(throws: CancelflowAPIError.self) { try await cancelflow.webhookEndpoint(id: endpoint.id) }
                #expect(gone?.code == "endpoint_not_found")
            }
        }
    }

    static func waitFor<T>(_ check: () async throws -> T?) async throws -> T {
        for _ in 0..<200 {
            if let value = try await check() { return value }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSetupError("timed out waiting for deliveries")
    }
}
