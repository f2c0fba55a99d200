import CancelflowApp
import CancelflowCore
import CancelflowTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The offers that change the subscription rather than end it: a cheaper plan, and free time.
/// Each is carried out by the built-in provider and at the Stripe and Paddle stand-ins, and is
/// not shown where the provider cannot make it.
@Suite struct PlanChangeTests {
    static let config = BillingProviderTests.config

    /// "Too expensive" leads to a plan change, "I need more time" to 14 free days.
    static func document(plan: String, before: [[String: Any]] = []) -> [String: Any] {
        [
            "name": "Default",
            "survey": [
                "reasons": [
                    ["id": "too_expensive", "label": "Too expensive", "offer": "cheaper"],
                    ["id": "more_time", "label": "I need more time", "offer": "trial"],
                    ["id": "other", "label": "Something else", "offer": "none"],
                ]
            ],
            "offers": [
                ["id": "cheaper", "type": "plan_change", "plans": before + [["id": plan, "name": "Basic", "amount": 500, "currency": "usd"]]],
                ["id": "trial", "type": "trial_extension", "days": 14],
            ],
        ]
    }

    /// Publishes `document` as the organization's default flow.
    static func setDefaultFlow(_ client: some TestClientProtocol, _ ctx: TestContext, _ document: [String: Any]) async throws {
        let flows = try await client.execute(uri: "/v1/flows", method: .get, headers: ctx.headers(json: false))
        let id = try #require(((flows.json["data"] as? [[String: Any]])?.first)?["id"] as? String, "\(flows.text)")
        let draft = try await client.execute(uri: "/v1/flows/\(id)/draft", method: .put, headers: ctx.headers(), body: jsonBody(document))
        #expect(draft.status == .ok, "\(draft.text)")
        let published = try await client.execute(uri: "/v1/flows/\(id)/publish", method: .post, headers: ctx.headers(.live, json: false))
        #expect(published.status == .ok, "\(published.text)")
    }

    static func answer(_ browser: TestBrowser, _ reason: String) async throws -> TestResponse {
        #expect(try await browser.post("/flow/survey", ["reason": reason]).status == .seeOther)
        return try await browser.get("/flow")
    }

    @Test(arguments: TestEngine.allCases)
    func theBuiltInProviderChangesThePlanAndGivesFreeTime(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await withTestApp(engine, configuration: EmailVerificationTests.config(smtp: sink, Self.config)) { client, ctx in
            try await ctx.seedCustomer()
            let now = ctx.time.now()
            let end = now.addingTimeInterval(10 * 86400)
            _ = try await ctx.services.store.upsertSubscription(
                organizationID: ctx.organization.id, mode: .test,
                Subscription(
                    id: "sub_xyz789", customerID: "cus_abc123", status: .active, planName: "Pro", amount: 1200, currency: "usd", interval: .month,
                    currentPeriodEnd: end, createdAt: now, updatedAt: now),
                now: now)
            // The customer's own plan (named, without an id) listed first: neither shown nor
            // applied; nor, once on Basic, is the dearer Pro offered back.
            try await Self.setDefaultFlow(
                client, ctx, Self.document(plan: "basic", before: [["id": "Pro", "name": "Pro", "amount": 1200, "currency": "usd"]]))
            // An endpoint that wants the event, so that it is recorded (nothing listens there).
            _ = try await ctx.services.webhooks.createEndpoint(
                organizationID: ctx.organization.id, mode: .test, url: "http://127.0.0.1:9/hook", events: ["cancel_flow.completed"])
            let t = Phrases(.english, brand: ctx.organization.name)

            let browser = try await CancelFlowTests.start(client, ctx)
            let offer = try await Self.answer(browser, "too_expensive")
            #expect(offer.text.contains(t("offer.plan_change.accept", ["plan": "Basic"])), "\(offer.text)")
            #expect(offer.text.contains(t("subscription.price.month", ["price": t.money(500, currency: "usd")])))
            #expect(try await browser.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            #expect(try await CancelFlowTests.session(ctx, browser)?.outcome == .planChanged)
            var subscription = try #require(try await CancelFlowTests.subscription(ctx))
            #expect(subscription.planID == "basic" && subscription.planName == "Basic" && subscription.amount == 500)
            #expect(subscription.status == .active && !subscription.cancelAtPeriodEnd)
            #expect(try await browser.get("/flow").text.contains(t("done.plan_changed.heading")))
            let sender = try ConfirmationSender(services: ctx.services, logger: ConfirmationEmailTests.quiet)
            #expect(try await sender.runOnce() == 1)
            let changed = try #require(sink.messages.last)
            #expect(mimeSubject(changed) == t("email.plan_changed.subject"))
            #expect(
                mimePart(changed, type: "text/plain")?.contains(t("email.plan_changed", ["plan": "Basic", "date": t.day(ctx.time.now())])) == true)

            // Now on Basic, the plan change has nothing left to offer; free time still has.
            let second = try await CancelFlowTests.start(client, ctx)
            #expect(try await Self.answer(second, "too_expensive").text.contains(t("confirm.title")), "no plan to change to")
            let third = try await CancelFlowTests.start(client, ctx)
            let trial = try await Self.answer(third, "more_time")
            #expect(trial.text.contains(t.plural("offer.trial_extension.headline", count: 14)), "\(trial.text)")
            #expect(try await third.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            #expect(try await CancelFlowTests.session(ctx, third)?.outcome == .trialExtended)
            subscription = try #require(try await CancelFlowTests.subscription(ctx))
            #expect(subscription.currentPeriodEnd.map { abs($0.timeIntervalSince(end.addingTimeInterval(14 * 86400))) < 1 } == true)
            let events = try await BillingProviderTests.completedEvents(ctx)
            #expect(Set(events.compactMap { ($0["data"] as? [String: Any])?["outcome"] as? String }) == ["plan_changed", "trial_extended"])
        }
    }

    @Test(arguments: TestEngine.allCases)
    func stripeMovesTheItemToTheNewPriceAndSetsTheTrialEnd(engine: TestEngine) async throws {
        let stripe = try await BillingStandIn(.stripe)
        defer { stripe.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await BillingProviderTests.configure(ctx, stripe)
            let (customer, subscriptions) = try await BillingProviderTests.seedStripe(
                stripe, plans: [("pro-monthly", "Pro Monthly", 1500, "month"), ("basic-monthly", "Basic Monthly", 500, "month")])
            try await Self.setDefaultFlow(client, ctx, Self.document(plan: "basic-monthly"))
            let pro = subscriptions[0]

            let browser = try await BillingProviderTests.start(client, ctx, customer: customer, subscription: pro)
            #expect(try await Self.answer(browser, "too_expensive").text.contains("Switch to Basic"))
            #expect(try await browser.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            let changed = try await BillingProviderTests.stripeSubscription(stripe, pro)
            let item = try #require(((changed["items"] as? [String: Any])?["data"] as? [[String: Any]])?.first)
            #expect((item["plan"] as? [String: Any])?["id"] as? String == "basic-monthly", "\(changed)")
            let write = try #require(try await stripe.writes(pathContaining: "/v1/subscriptions/\(pro)").last)
            #expect((write["body"] as? String)?.contains("proration_behavior=create_prorations") == true, "\(write)")
            #expect(try await CancelFlowTests.session(ctx, browser)?.outcome == .planChanged)

            // Free time on a paying subscription: Stripe makes it trialing until the new end.
            let before = try #require((try await BillingProviderTests.stripeSubscription(stripe, pro))["current_period_end"] as? Int)
            let again = try await BillingProviderTests.start(client, ctx, customer: customer, subscription: pro)
            #expect(try await Self.answer(again, "more_time").text.contains("Take 14 more days free?"))
            #expect(try await again.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            let trialing = try await BillingProviderTests.stripeSubscription(stripe, pro)
            #expect(trialing["status"] as? String == "trialing")
            #expect(trialing["trial_end"] as? Int == before + 14 * 86400, "\(trialing)")
            #expect(try await CancelFlowTests.session(ctx, again)?.outcome == .trialExtended)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func paddleChangesItemsAndExtendsOnlyTrials(engine: TestEngine) async throws {
        let paddle = try await BillingStandIn(.paddle)
        defer { paddle.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await BillingProviderTests.configure(ctx, paddle)
            // A Basic subscription elsewhere puts Basic's price in the catalogue.
            let basic = try await paddle.call(
                .POST, "/_test/subscriptions",
                json: [
                    "customer_id": try await Self.paddleCustomer(paddle, "basic@example.com"), "plan_name": "Basic", "amount": "500",
                    "currency": "USD", "interval": "month",
                ], authorized: false)
            let basicPrice = try #require(
                (((basic.body["data"] as? [String: Any])?["items"] as? [[String: Any]])?.first?["price"] as? [String: Any])?["id"] as? String)
            try await Self.setDefaultFlow(client, ctx, Self.document(plan: basicPrice))
            let (_, pro) = try await BillingProviderTests.seedPaddle(paddle)

            let browser = try await BillingProviderTests.start(client, ctx, customer: pro)
            #expect(try await Self.answer(browser, "too_expensive").text.contains("Switch to Basic"))
            #expect(try await browser.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            let changed = try await BillingProviderTests.paddleSubscription(paddle, pro)
            let item = try #require((changed["items"] as? [[String: Any]])?.first)
            #expect((item["price"] as? [String: Any])?["id"] as? String == basicPrice, "\(changed)")
            let write = try #require(try await paddle.writes(pathContaining: "/subscriptions/\(pro)").last)
            #expect((write["body"] as? String)?.contains("prorated_immediately") == true, "\(write)")

            // A paying Paddle subscription gets no free time: Paddle would bill the change.
            let paying = try await BillingProviderTests.start(client, ctx, customer: pro)
            #expect(try await Self.answer(paying, "more_time").text.contains("Confirm cancellation"))

            // A trial does: its next billing date moves 14 days.
            let trial = try await paddle.call(
                .POST, "/_test/subscriptions",
                json: [
                    "customer_id": try await Self.paddleCustomer(paddle, "trial@example.com"), "plan_name": "Pro", "amount": "1500",
                    "currency": "USD", "interval": "month", "status": "trialing",
                ], authorized: false)
            let trialData = try #require(trial.body["data"] as? [String: Any])
            let trialID = try #require(trialData["id"] as? String)
            let nextBilled = try #require((trialData["next_billed_at"] as? String).flatMap(Self.date))
            let trialBrowser = try await BillingProviderTests.start(client, ctx, customer: trialID)
            #expect(try await Self.answer(trialBrowser, "more_time").text.contains("Take 14 more days free?"))
            #expect(try await trialBrowser.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            let extended = try await BillingProviderTests.paddleSubscription(paddle, trialID)
            let moved = try #require((extended["next_billed_at"] as? String).flatMap(Self.date))
            #expect(abs(moved.timeIntervalSince(nextBilled) - 14 * 86400) < 2, "\(extended)")
            #expect(try await CancelFlowTests.session(ctx, trialBrowser)?.outcome == .trialExtended)
        }
    }

    static func paddleCustomer(_ paddle: BillingStandIn, _ email: String) async throws -> String {
        let customer = try await paddle.call(.POST, "/_test/customers", json: ["name": "Jane Doe", "email": email], authorized: false)
        return try #require((customer.body["data"] as? [String: Any])?["id"] as? String)
    }

    static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}
