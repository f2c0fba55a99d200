import CancelflowApp
import CancelflowCore
import CancelflowTestSupport
import Configuration
import Foundation
import HummingbirdTesting
import Logging
import Testing

/// The email a customer keeps after a flow changed their subscription: sent through the real
/// SMTP path, retried and recorded when it cannot be, and never undoing the outcome.
@Suite struct ConfirmationEmailTests {
    static let quiet = Logger(label: "confirmations", factory: { _ in SwiftLogNoOpLogHandler() })

    static func cancel(_ client: some TestClientProtocol, _ ctx: TestContext) async throws -> TestBrowser {
        let browser = try await CancelFlowTests.start(client, ctx)
        _ = try await browser.post("/flow/survey", ["reason": "It's too expensive"])
        _ = try await browser.post("/flow/offer", ["decision": "decline"])
        #expect(try await browser.post("/flow/confirm").status == .seeOther)
        return browser
    }

    @Test(arguments: TestEngine.allCases)
    func aCancellationIsConfirmedByEmailWithItsReference(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await withTestApp(engine, configuration: EmailVerificationTests.config(smtp: sink)) { client, ctx in
            try await ctx.seedCustomer()
            let browser = try await Self.cancel(client, ctx)
            let session = try #require(try await CancelFlowTests.session(ctx, browser))
            let reference = FlowConfirmation.reference(sessionID: session.id)
            let done = try await browser.get("/flow").text
            #expect(done.contains("A confirmation is on its way to c•••@example.com (reference \(reference))"), "\(done)")

            let sender = try ConfirmationSender(services: ctx.services, logger: Self.quiet)
            #expect(try await sender.runOnce() == 1)
            #expect(try await sender.runOnce() == 0, "sent once")
            let message = try #require(sink.messages.last { $0.contains("To: cus_abc123@example.com") })
            #expect(message.contains("subscription is cancelled"))
            let text = try #require(mimePart(message, type: "text/plain"))
            #expect(text.contains("Hi Ada,") && text.contains("is cancelled") && text.contains(reference), "\(text)")
            #expect(try await ctx.services.store.confirmation(sessionID: session.id)?.status == .sent)

            // Keeping the subscription changes nothing, so nothing is sent.
            let keeper = try await CancelFlowTests.start(client, ctx)
            _ = try await keeper.post("/flow/keep")
            #expect(try await sender.runOnce() == 0)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aFailedSendIsRetriedRecordedAndNeverUndoesTheOutcome(engine: TestEngine) async throws {
        let refused = try RefusedPort()
        defer { refused.close() }
        let config: [String: ConfigContent] = ["trustProxy": .bool(true), "smtpUrl": .string("smtp://127.0.0.1:\(refused.port)")]
        try await withTestApp(engine, configuration: config) { client, ctx in
            try await ctx.seedCustomer()
            try await CancelFlowTests.setFlow(ctx, offer: .pause(months: 2))
            let browser = try await CancelFlowTests.start(client, ctx)
            _ = try await browser.post("/flow/survey", ["reason": "It's too expensive"])
            #expect(try await browser.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            let session = try #require(try await CancelFlowTests.session(ctx, browser))
            #expect(session.outcome == .paused)

            let sender = try ConfirmationSender(services: ctx.services, logger: Self.quiet)
            #expect(try await sender.runOnce() == 1)
            var stored = try #require(try await ctx.services.store.confirmation(sessionID: session.id))
            #expect(stored.status == .pending && stored.attempts == 1 && stored.lastError != nil)
            #expect(stored.nextAttemptAt == ctx.time.now().addingTimeInterval(60))
            #expect(try await sender.runOnce() == 0, "not before the retry is due")
            #expect(try await browser.get("/flow").text.contains("A confirmation is on its way"))
            // Every retry fails too: after the last it is marked failed, and the outcome stands.
            for _ in FlowConfirmation.retryDelays {
                ctx.time.advance(by: 6 * 3600 + 1)
                #expect(try await sender.runOnce() == 1)
            }
            stored = try #require(try await ctx.services.store.confirmation(sessionID: session.id))
            #expect(stored.status == .failed && stored.attempts == FlowConfirmation.retryDelays.count + 1)
            ctx.time.advance(by: 6 * 3600 + 1)
            #expect(try await sender.runOnce() == 0)
            #expect(try await CancelFlowTests.session(ctx, browser)?.outcome == .paused)
            let subscription = try await ctx.services.store.subscriptions(organizationID: ctx.organization.id, mode: .test, customerID: "cus_abc123")
            #expect(subscription.first?.status == .paused)
        }
    }
}
