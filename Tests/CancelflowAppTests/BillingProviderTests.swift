import CancelflowCore
import CancelflowTestSupport
import Configuration
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOHTTP1
import Testing

/// Stripe (localstripe with our extensions) and Paddle Billing (our stateful stand-in) carry out
/// the flow's outcome, and the customer's subscriptions come from them.
///
/// Serialized: run side by side, its 34 cases (each an app, a stand-in and a chain of provider
/// calls per step) starved the test process's two-thread pool, and a step's answer could take
/// longer than HummingbirdTesting's socket client waits (20 s, fixed) for any request.
@Suite(.serialized) struct BillingProviderTests {
    /// A short provider deadline, so the timeout cases take seconds.
    static let config: [String: ConfigContent] = [
        "trustProxy": .bool(true), "billingTimeout": .double(3), "allowPrivateWebhooks": .bool(true), "metrics": .bool(true),
    ]

    // MARK: - Fixtures

    /// Points the organization's test mode at a stand-in, and adds a webhook endpoint so that
    /// events are recorded (nothing listens there; the tests read the event log).
    static func configure(_ ctx: TestContext, _ standIn: BillingStandIn, key: String? = nil) async throws {
        try await ctx.services.billingAccounts.configure(
            organizationID: ctx.organization.id, mode: .test,
            .init(provider: standIn.kind == .stripe ? .stripe : .paddle, secretKey: key ?? standIn.key, apiBase: standIn.base))
        let endpoints = try await ctx.services.webhooks.endpoints(organizationID: ctx.organization.id, mode: .test)
        if endpoints.isEmpty {
            _ = try await ctx.services.webhooks.createEndpoint(
                organizationID: ctx.organization.id, mode: .test, url: "http://127.0.0.1:9/hook", events: ["cancel_flow.completed"])
        }
    }

    /// A Stripe customer with a default card, and one subscription per plan given.
    static func seedStripe(
        _ stripe: BillingStandIn, email: String = "jane@example.com", plans: [(String, String, Int, String)]
    ) async throws
        -> (customer: String, subscriptions: [String])
    {
        let card = try await stripe.call(
            .POST, "/v1/payment_methods",
            form: [
                ("type", "card"), ("card[number]", "4242424242424242"), ("card[exp_month]", "12"), ("card[exp_year]", "2030"), ("card[cvc]", "123"),
            ])
        let pm = try #require(card.body["id"] as? String, "\(card)")
        let customer = try await stripe.call(
            .POST, "/v1/customers",
            form: [("email", email), ("name", "Jane Doe"), ("payment_method", pm), ("invoice_settings[default_payment_method]", pm)])
        let customerID = try #require(customer.body["id"] as? String, "\(customer)")
        var subscriptions: [String] = []
        for (id, nickname, amount, interval) in plans {
            _ = try await stripe.call(.POST, "/v1/products", form: [("id", "prod_\(id)"), ("name", nickname)])
            _ = try await stripe.call(
                .POST, "/v1/plans",
                form: [
                    ("id", id), ("product", "prod_\(id)"), ("amount", String(amount)), ("currency", "usd"), ("interval", interval),
                    ("nickname", nickname),
                ])
            let subscription = try await stripe.call(.POST, "/v1/subscriptions", form: [("customer", customerID), ("items[0][plan]", id)])
            subscriptions.append(try #require(subscription.body["id"] as? String, "\(subscription)"))
        }
        return (customerID, subscriptions)
    }

    static func stripeSubscription(_ stripe: BillingStandIn, _ id: String) async throws -> [String: Any] {
        try await stripe.call(.GET, "/v1/subscriptions/\(id)").body
    }

    /// A Paddle customer with one subscription; answers the subscription id.
    static func seedPaddle(
        _ paddle: BillingStandIn, email: String = "jane@example.com", interval: String = "month"
    ) async throws -> (
        customer: String, subscription: String
    ) {
        let customer = try await paddle.call(.POST, "/_test/customers", json: ["name": "Jane Doe", "email": email], authorized: false)
        let customerID = try #require((customer.body["data"] as? [String: Any])?["id"] as? String, "\(customer)")
        let subscription = try await paddle.call(
            .POST, "/_test/subscriptions",
            json: ["customer_id": customerID, "plan_name": "Pro", "amount": "1500", "currency": "USD", "interval": interval],
            authorized: false)
        return (customerID, try #require((subscription.body["data"] as? [String: Any])?["id"] as? String, "\(subscription)"))
    }

    static func paddleSubscription(_ paddle: BillingStandIn, _ id: String) async throws -> [String: Any] {
        try #require(try await paddle.call(.GET, "/subscriptions/\(id)").body["data"] as? [String: Any])
    }

    /// Mints for a customer and exchanges the link; answers the browser on the first step.
    static func start(
        _ client: any TestClientProtocol, _ ctx: TestContext, customer: String, subscription: String? = nil
    ) async throws
        -> TestBrowser
    {
        let minted = try await client.mint(ctx, customer: customer, extra: subscription.map { ["subscriptionId": $0] } ?? [:])
        #expect(minted.status == .created, "\(minted.text)")
        let token = try #require(minted.json["token"] as? String)
        let browser = TestBrowser(client, host: "cancel.test")
        _ = try await browser.get("/cancel/\(token)")
        #expect(try await browser.post("/cancel/\(token)").status == .seeOther)
        #expect(try await browser.get("/flow").status == .ok)
        return browser
    }

    /// A Paddle organization without an offer, and a customer at the confirmation step.
    static func atPaddleConfirmation(
        _ client: any TestClientProtocol, _ ctx: TestContext, _ paddle: BillingStandIn, timing: CancelTiming = .periodEnd
    ) async throws -> (TestBrowser, String) {
        try await Self.configure(ctx, paddle)
        try await CancelFlowTests.setFlow(ctx, offer: .none, timing: timing)
        let (_, subscription) = try await Self.seedPaddle(paddle)
        let browser = try await Self.start(client, ctx, customer: subscription)
        #expect(try await browser.post("/flow/survey", ["reason": "Something else"]).status == .seeOther)
        return (browser, subscription)
    }

    static func completedEvents(_ ctx: TestContext) async throws -> [[String: Any]] {
        let payloads = try await ctx.services.pool.withConnection { db in
            try await db.raw("SELECT payload FROM events WHERE type = 'cancel_flow.completed'").all().map {
                try $0.decode(column: "payload", as: String.self)
            }
        }
        return payloads.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    static func attempt(_ ctx: TestContext, _ browser: TestBrowser) async throws -> BillingAttempt? {
        let session = try #require(try await CancelFlowTests.session(ctx, browser))
        return try await ctx.services.store.billingAction(sessionID: session.id)
    }

    // MARK: - Done means

    /// The issue's "done means" for Stripe: two subscriptions, the customer picks one and
    /// cancels at the period end; Stripe shows exactly that, with the survey answer.
    @Test(arguments: TestEngine.allCases)
    func stripeCancelsTheChosenSubscriptionAtPeriodEnd(engine: TestEngine) async throws {
        let stripe = try await BillingStandIn(.stripe)
        defer { stripe.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.configure(ctx, stripe)
            let (customer, subscriptions) = try await Self.seedStripe(
                stripe, plans: [("pro-monthly", "Pro Monthly", 1500, "month"), ("team-yearly", "Team Yearly", 24000, "year")])
            let browser = try await Self.start(client, ctx, customer: customer)
            let choose = try await browser.get("/flow")
            #expect(choose.text.contains("Pro Monthly") && choose.text.contains("Team Yearly"), "\(choose.text)")
            let chosen = subscriptions[1]
            #expect(try await browser.post("/flow/subscription", ["subscriptionId": chosen]).status == .seeOther)
            #expect(try await browser.post("/flow/survey", ["reason": "It's too expensive", "comment": "Budget cut"]).status == .seeOther)
            #expect(try await browser.post("/flow/offer", ["decision": "decline"]).status == .seeOther)
            #expect(try await browser.get("/flow").text.contains("Confirm cancellation"))
            #expect(try await stripe.writes(pathContaining: "/v1/subscriptions/").isEmpty, "nothing is done before the confirmation")
            #expect(try await browser.post("/flow/confirm").status == .seeOther)
            #expect(try await browser.get("/flow").text.contains("Your subscription is cancelled"))

            let canceled = try await Self.stripeSubscription(stripe, chosen)
            #expect(canceled["cancel_at_period_end"] as? Bool == true)
            let details = canceled["cancellation_details"] as? [String: Any]
            #expect(details?["feedback"] as? String == "too_expensive")
            #expect(details?["comment"] as? String == "It's too expensive: Budget cut")
            let other = try await Self.stripeSubscription(stripe, subscriptions[0])
            #expect(other["cancel_at_period_end"] as? Bool == false)

            // One write, under the pinned version and an idempotency key, with the key we set.
            let writes = try await stripe.writes(pathContaining: "/v1/subscriptions/")
            #expect(writes.count == 1)
            #expect(writes.first?["path"] as? String == "/v1/subscriptions/\(chosen)")
            #expect((writes.first?["idempotency_key"] as? String)?.hasPrefix("cf_") == true)
            #expect(writes.first?["stripe_version"] as? String == "2025-03-31.basil")
            #expect(writes.first?["authorization"] as? String == "Bearer \(stripe.key)")

            let event = try #require(try await Self.completedEvents(ctx).first)
            let data = try #require(event["data"] as? [String: Any])
            #expect(data["outcome"] as? String == "canceled")
            #expect(data["subscriptionId"] as? String == chosen)
            let billing = try #require(data["billing"] as? [String: Any])
            #expect(billing["provider"] as? String == "stripe")
            #expect(billing["objectId"] as? String == chosen)
            #expect(billing["action"] as? String == "cancel_at_period_end")
            #expect(try await Self.attempt(ctx, browser)?.status == .succeeded)
        }
    }

    /// The same for Paddle, with a pause: `customerId` is the Paddle subscription id (seed), the
    /// name comes from its customer, and Paddle schedules the pause with a resume date.
    @Test(arguments: TestEngine.allCases)
    func paddlePausesTheSubscriptionTheLinkNames(engine: TestEngine) async throws {
        let paddle = try await BillingStandIn(.paddle)
        defer { paddle.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.configure(ctx, paddle)
            try await CancelFlowTests.setFlow(ctx, offer: .pause(months: 2))
            let (_, subscription) = try await Self.seedPaddle(paddle)
            // The price flows target by plan, and when the subscription started.
            let read = try await client.execute(uri: "/v1/customers/\(subscription)", method: .get, headers: ctx.headers())
            let shown = (read.json["subscriptions"] as? [[String: Any]])?.first
            #expect((shown?["planId"] as? String)?.hasPrefix("pri_") == true, "\(read.text)")
            #expect(shown?["startedAt"] as? String != nil)
            let browser = try await Self.start(client, ctx, customer: subscription)
            #expect(try await browser.post("/flow/survey", ["reason": "I'm not using it enough"]).status == .seeOther)
            let offer = try await browser.get("/flow")
            #expect(offer.text.contains("Pause"), "\(offer.text)")
            #expect(try await browser.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            let done = try await browser.get("/flow")
            #expect(done.status == .ok)

            let paused = try await Self.paddleSubscription(paddle, subscription)
            let change = try #require(paused["scheduled_change"] as? [String: Any], "\(paused)")
            #expect(change["action"] as? String == "pause")
            let periodEnd = try #require((paused["current_billing_period"] as? [String: Any])?["ends_at"] as? String)
            #expect(change["effective_at"] as? String == periodEnd)
            #expect(change["resume_at"] as? String != nil)
            let writes = try await paddle.writes()
            #expect(writes.count == 1)
            #expect(writes.first?["path"] as? String == "/subscriptions/\(subscription)/pause")
            let billing = try #require((try await Self.completedEvents(ctx).first?["data"] as? [String: Any])?["billing"] as? [String: Any])
            #expect(billing["provider"] as? String == "paddle")
            #expect(billing["objectId"] as? String == subscription)
            #expect(billing["action"] as? String == "pause")
        }
    }

    /// The landing page, which mail scanners and anyone with the link may fetch again and again,
    /// reuses what the provider said in the last seconds; the flow's steps read afresh.
    @Test(arguments: TestEngine.allCases)
    func landingPagesDoNotTurnEachFetchIntoProviderCalls(engine: TestEngine) async throws {
        let stripe = try await BillingStandIn(.stripe)
        defer { stripe.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.configure(ctx, stripe)
            let (customer, _) = try await Self.seedStripe(stripe, plans: [("pro-monthly", "Pro Monthly", 1500, "month")])
            let minted = try await client.mint(ctx, customer: customer)
            let token = try #require(minted.json["token"] as? String)
            func lists() async throws -> Int {
                try await stripe.calls().filter { ($0["method"] as? String) == "GET" && ($0["path"] as? String) == "/v1/subscriptions" }.count
            }
            for _ in 0..<5 {
                let page = try await TestBrowser(client, host: "cancel.test").get("/cancel/\(token)")
                #expect(page.status == .ok && page.text.contains("Pro Monthly"))
            }
            #expect(try await lists() == 1, "five fetches, one read")
            ctx.time.advance(by: FlowService.previewLifetime + 1)
            let browser = TestBrowser(client, host: "cancel.test")
            _ = try await browser.get("/cancel/\(token)")
            #expect(try await lists() == 2, "stale after the preview lifetime")
            #expect(try await browser.post("/cancel/\(token)").status == .seeOther)
            _ = try await browser.get("/flow")
            _ = try await browser.get("/flow")
            #expect(try await lists() == 4, "every step of the flow reads afresh")
        }
    }

    // MARK: - Mint

    /// Mint checks the customer (and subscription) at the provider, and trusts a confirmation
    /// for a while so the hot path does not call out every time.
    @Test(arguments: TestEngine.allCases)
    func mintChecksTheCustomerAtStripeAndCachesTheAnswer(engine: TestEngine) async throws {
        let stripe = try await BillingStandIn(.stripe)
        defer { stripe.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.configure(ctx, stripe)
            let (customer, subscriptions) = try await Self.seedStripe(stripe, plans: [("pro-monthly", "Pro Monthly", 1500, "month")])
            let (other, otherSubscriptions) = try await Self.seedStripe(
                stripe, email: "other@example.com", plans: [("basic", "Basic", 500, "month")])
            _ = other

            let unknown = try await client.mint(ctx, customer: "cus_doesnotexist")
            #expect(unknown.status == .notFound)
            #expect(unknown.error["code"] as? String == "customer_not_found")
            let foreign = try await client.mint(ctx, customer: customer, extra: ["subscriptionId": otherSubscriptions[0]])
            #expect(foreign.error["code"] as? String == "subscription_not_found")
            let notStripe = try await client.mint(ctx, customer: "cus_../../v1/coupons")
            #expect(notStripe.error["code"] as? String == "customer_not_found")

            let before = try await stripe.calls().count
            #expect(try await client.mint(ctx, customer: customer, extra: ["subscriptionId": subscriptions[0]]).status == .created)
            let afterFirst = try await stripe.calls().count
            #expect(afterFirst - before == 2, "the customer and the named subscription")
            #expect(try await client.mint(ctx, customer: customer, extra: ["subscriptionId": subscriptions[0]]).status == .created)
            #expect(try await stripe.calls().count == afterFirst, "a recent confirmation is reused")
            // Not for long: past the cache's lifetime it asks again.
            ctx.time.advance(by: CancelLinkService.customerCheckLifetime + 1)
            #expect(try await client.mint(ctx, customer: customer, extra: ["subscriptionId": subscriptions[0]]).status == .created)
            #expect(try await stripe.calls().count == afterFirst + 2)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func mintChecksThePaddleSubscription(engine: TestEngine) async throws {
        let paddle = try await BillingStandIn(.paddle)
        defer { paddle.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.configure(ctx, paddle)
            let (customer, subscription) = try await Self.seedPaddle(paddle)
            #expect(try await client.mint(ctx, customer: subscription).status == .created)
            #expect(try await client.mint(ctx, customer: "sub_01unknownunknownunknownunk").error["code"] as? String == "customer_not_found")
            // A flow may also cover a Paddle customer's subscriptions.
            #expect(try await client.mint(ctx, customer: customer, extra: ["subscriptionId": subscription]).status == .created)
            #expect(
                try await client.mint(ctx, customer: subscription, extra: ["subscriptionId": "sub_other"]).error["code"] as? String
                    == "subscription_not_found")
            // An unreadable answer, and a 401, are said as what they are; nothing is minted.
            // (The earlier confirmation is cached for a minute; let it lapse first.)
            ctx.time.advance(by: CancelLinkService.customerCheckLifetime + 1)
            try await paddle.fault(method: "GET", pathPrefix: "/subscriptions/", [["malformed": true]])
            let garbled = try await client.mint(ctx, customer: subscription)
            #expect(garbled.status == .badGateway)
            #expect(garbled.error["code"] as? String == "billing_provider_unavailable")
            try await paddle.fault(method: "GET", pathPrefix: "/subscriptions/", [["status": 401]])
            #expect(try await client.mint(ctx, customer: subscription).error["code"] as? String == "billing_provider_auth_failed")
            // Paddle refuses an unknown key with 403 invalid_token: said as a key problem.
            try await Self.configure(ctx, paddle, key: "pdl_sdbx_apikey_wrongwrongwrong")
            let refused = try await client.mint(ctx, customer: "sub_01fresh00000000000000000000")
            #expect(refused.status == .badGateway)
            #expect(refused.error["code"] as? String == "billing_provider_auth_failed")
        }
    }

    /// `/v1/customers` shows a Stripe customer as Stripe has them, and refuses pushes: a pushed
    /// copy would disagree with the provider.
    @Test(arguments: TestEngine.allCases)
    func theCustomersAPIReadsFromTheProviderAndRefusesPushes(engine: TestEngine) async throws {
        let stripe = try await BillingStandIn(.stripe)
        defer { stripe.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.configure(ctx, stripe)
            let (customer, subscriptions) = try await Self.seedStripe(stripe, plans: [("pro-monthly", "Pro Monthly", 1500, "month")])
            let shown = try await client.execute(uri: "/v1/customers/\(customer)", method: .get, headers: ctx.headers())
            #expect(shown.status == .ok, "\(shown.text)")
            #expect(shown.json["email"] as? String == "jane@example.com")
            let subscription = try #require((shown.json["subscriptions"] as? [[String: Any]])?.first)
            #expect(subscription["id"] as? String == subscriptions[0])
            #expect(subscription["planName"] as? String == "Pro Monthly")
            #expect(subscription["planId"] as? String == "pro-monthly", "the plan flows target")
            #expect(subscription["startedAt"] as? String != nil)
            #expect(subscription["amount"] as? Int == 1500)
            #expect(subscription["currency"] as? String == "usd")
            #expect(subscription["interval"] as? String == "month")
            #expect(subscription["status"] as? String == "active")
            #expect(subscription["currentPeriodEnd"] as? String != nil)
            let pushed = try await client.execute(
                uri: "/v1/customers/\(customer)", method: .put, headers: ctx.headers(), body: jsonBody(["email": "x@example.com"]))
            #expect(pushed.status == .conflict)
            #expect(pushed.error["code"] as? String == "customers_managed_by_provider")
            let missing = try await client.execute(uri: "/v1/customers/cus_nobody", method: .get, headers: ctx.headers())
            #expect(missing.error["code"] as? String == "customer_not_found")
            // Test mode's provider says nothing about live mode, which stays built-in.
            #expect(try await client.execute(uri: "/v1/customers/\(customer)", method: .get, headers: ctx.headers(.live)).status == .notFound)
        }
    }

    // MARK: - Failures

    /// A key the provider refuses, a 429 then success, a timeout and an unreadable answer, at
    /// mint: each answers in the one error shape and mints nothing, or mints after the retry.
    @Test(arguments: TestEngine.allCases)
    func providerFailuresAtMintAreClearAndLeaveNothing(engine: TestEngine) async throws {
        let stripe = try await BillingStandIn(.stripe)
        defer { stripe.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let (customer, _) = try await Self.seedStripe(stripe, plans: [("pro-monthly", "Pro Monthly", 1500, "month")])
            try await Self.configure(ctx, stripe, key: "sk_test_revoked")
            let refused = try await client.mint(ctx, customer: customer)
            #expect(refused.status == .badGateway)
            #expect(refused.error["code"] as? String == "billing_provider_auth_failed")
            #expect(!refused.text.contains("sk_test_revoked"))

            try await Self.configure(ctx, stripe)
            try await stripe.fault(method: "GET", pathPrefix: "/v1/customers/", [["status": 429]])
            let retried = try await client.mint(ctx, customer: customer)
            #expect(retried.status == .created, "\(retried.text)")
            let customerReads = try await stripe.calls().filter { ($0["path"] as? String) == "/v1/customers/\(customer)" }
            #expect(customerReads.count == 3, "the refused key's read, the 429 and its retry")

            ctx.time.advance(by: CancelLinkService.customerCheckLifetime + 1)
            try await stripe.fault(method: "GET", pathPrefix: "/v1/customers/", [["delay": 5]])
            let slow = try await client.mint(ctx, customer: customer)
            #expect(slow.status == .badGateway)
            #expect(slow.error["code"] as? String == "billing_provider_unavailable")

            try await stripe.fault(method: "GET", pathPrefix: "/v1/customers/", [["malformed": true]])
            let garbled = try await client.mint(ctx, customer: customer)
            #expect(garbled.status == .badGateway)
            #expect(garbled.error["code"] as? String == "billing_provider_unavailable")

            // More 500s than the retries within the deadline can use up.
            try await stripe.fault(method: "GET", pathPrefix: "/v1/customers/", Array(repeating: ["status": 500], count: 30))
            let down = try await client.mint(ctx, customer: customer)
            #expect(down.error["code"] as? String == "billing_provider_unavailable")

            let links = try await ctx.services.pool.withConnection { db in
                try await db.raw("SELECT COUNT(*) AS n FROM cancel_links").first()?.decode(column: "n", as: Int.self)
            }
            #expect(links == 1, "only the retried mint made a link")

            // Every exchange with the provider is counted by how it ended, with nothing from the
            // request in the labels.
            let scrape = try await client.execute(uri: "/metrics", method: .get).text
            for result in ["ok", "auth_error", "rate_limited", "timeout", "server_error"] {
                #expect(scrape.contains(#"cancelflow_billing_calls_total{provider="stripe",result="\#(result)"}"#), "\(result)")
            }
            #expect(!scrape.contains(customer) && !scrape.contains("sk_test_"))
        }
    }

    /// The provider fails at the final step: the page says so, the flow stays where it was, the
    /// attempt is recorded, and trying again carries it out once.
    @Test(arguments: TestEngine.allCases)
    func aFailedFinalStepCanBeTriedAgainAndActsOnce(engine: TestEngine) async throws {
        let stripe = try await BillingStandIn(.stripe)
        defer { stripe.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.configure(ctx, stripe)
            try await CancelFlowTests.setFlow(ctx, offer: .none)
            let (customer, subscriptions) = try await Self.seedStripe(stripe, plans: [("pro-monthly", "Pro Monthly", 1500, "month")])
            let browser = try await Self.start(client, ctx, customer: customer)
            #expect(try await browser.post("/flow/survey", ["reason": "Technical problems"]).status == .seeOther)
            #expect(try await browser.get("/flow").text.contains("Confirm cancellation"))
            try await stripe.fault(method: "POST", pathPrefix: "/v1/subscriptions/", [["status": 400]])
            let failed = try await browser.post("/flow/confirm")
            #expect(failed.status == .badGateway)
            #expect(failed.text.contains("Nothing has changed"))
            #expect(failed.text.contains("Confirm cancellation"), "the same step, ready to try again")
            let recorded = try #require(try await Self.attempt(ctx, browser))
            #expect(recorded.status == .failed)
            #expect(recorded.lastError == "billing_provider_error")
            #expect(try await CancelFlowTests.session(ctx, browser)?.outcome == nil)
            #expect(try await Self.completedEvents(ctx).isEmpty, "nothing is reported as done")
            #expect(try await Self.stripeSubscription(stripe, subscriptions[0])["cancel_at_period_end"] as? Bool == false)

            #expect(try await browser.post("/flow/confirm").status == .seeOther)
            #expect(try await Self.stripeSubscription(stripe, subscriptions[0])["cancel_at_period_end"] as? Bool == true)
            #expect(try await Self.attempt(ctx, browser)?.attempts == 2)
            // Once done, another click (even with a valid form) acts no more.
            _ = try await browser.post("/flow/confirm")
            let writes = try await stripe.writes(pathContaining: "/v1/subscriptions/")
            #expect(writes.count == 2, "the refused one and the one that worked")
            // Each try has its own key: after a refusal, a retry is a new request (Stripe would
            // replay a stored error to the old key).
            #expect(Set(writes.compactMap { $0["idempotency_key"] as? String }).count == 2)
            #expect(try await Self.completedEvents(ctx).count == 1)
        }
    }

    /// The provider acted but the answer never came (a timeout): trying again finds the change
    /// already made and ends the flow without a second write. Counted on Paddle, which honours
    /// no idempotency key, so only our own reconciliation prevents a double action.
    @Test(arguments: TestEngine.allCases)
    func aStepRetriedAfterATimeoutNeverActsTwice(engine: TestEngine) async throws {
        let paddle = try await BillingStandIn(.paddle)
        defer { paddle.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let (browser, subscription) = try await Self.atPaddleConfirmation(client, ctx, paddle)
            try await paddle.fault(method: "POST", pathPrefix: "/subscriptions/", [["delay": 5]])
            let timedOut = try await browser.post("/flow/confirm")
            #expect(timedOut.status == .badGateway)
            #expect(timedOut.text.contains("did not confirm the change in time"), "\(timedOut.text)")
            #expect(try await Self.attempt(ctx, browser)?.status == .unknown)
            // The stand-in finishes the cancellation after its delay.
            try await waitUntil("the stand-in has scheduled the cancellation", timeout: .seconds(15)) {
                (try await Self.paddleSubscription(paddle, subscription)["scheduled_change"] as? [String: Any])?["action"] as? String == "cancel"
            }
            let again = try await browser.post("/flow/confirm")
            #expect(again.status == .seeOther)
            #expect(try await browser.get("/flow").text.contains("Your subscription is cancelled"))
            #expect(try await paddle.writes().count == 1, "the provider was asked once")
            #expect(try await CancelFlowTests.session(ctx, browser)?.outcome == .canceled)
            #expect(try await Self.attempt(ctx, browser)?.status == .succeeded)
            #expect(try await Self.completedEvents(ctx).count == 1)
        }
    }

    /// No clear answer (a 5xx from Paddle, which takes no idempotency key): nothing more is tried
    /// during the quiet period, not even by a retry; afterwards the subscription is read back,
    /// shows nothing was done, and the retry acts once.
    @Test(arguments: TestEngine.allCases)
    func anUnconfirmedTryWaitsForItsQuietPeriodThenIsReadBack(engine: TestEngine) async throws {
        let paddle = try await BillingStandIn(.paddle)
        defer { paddle.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let (browser, subscription) = try await Self.atPaddleConfirmation(client, ctx, paddle, timing: .immediately)
            try await paddle.fault(method: "POST", pathPrefix: "/subscriptions/", [["status": 500]])
            let first = try await browser.post("/flow/confirm")
            #expect(first.status == .badGateway)
            #expect(try await Self.attempt(ctx, browser)?.status == .unknown)
            let early = try await browser.post("/flow/confirm")
            #expect(early.status == .conflict)
            #expect(early.text.contains("still confirming your last request"))
            #expect(try await paddle.writes().count == 1, "nothing tried during the quiet period")
            ctx.time.advance(by: FlowService.quietPeriod + 1)
            #expect(try await browser.post("/flow/confirm").status == .seeOther)
            #expect(try await Self.paddleSubscription(paddle, subscription)["status"] as? String == "canceled")
            #expect(try await paddle.writes().count == 2)
            let attempt = try #require(try await Self.attempt(ctx, browser))
            #expect(attempt.status == .succeeded && attempt.attempts == 2)
            let billing = (try await Self.completedEvents(ctx).first?["data"] as? [String: Any])?["billing"] as? [String: Any]
            #expect(billing?["action"] as? String == "cancel_now")
        }
    }

    /// A session that expires with an unconfirmed try is read back by the sweeper: the change
    /// that did land is reported as the outcome, not as abandoned; one that did not is abandoned.
    @Test(arguments: TestEngine.allCases)
    func theSweeperReadsBackUnconfirmedTriesBeforeAbandoning(engine: TestEngine) async throws {
        let paddle = try await BillingStandIn(.paddle)
        defer { paddle.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.configure(ctx, paddle)
            try await CancelFlowTests.setFlow(ctx, offer: .none)
            let (_, landed) = try await Self.seedPaddle(paddle)
            let (_, lost) = try await Self.seedPaddle(paddle, email: "other@example.com")
            let landedBrowser = try await Self.start(client, ctx, customer: landed)
            let lostBrowser = try await Self.start(client, ctx, customer: lost)
            for browser in [landedBrowser, lostBrowser] {
                #expect(try await browser.post("/flow/survey", ["reason": "Something else"]).status == .seeOther)
            }
            try await paddle.fault(method: "POST", pathPrefix: "/subscriptions/\(landed)", [["delay": 5]])
            try await paddle.fault(method: "POST", pathPrefix: "/subscriptions/\(lost)", [["status": 503]])
            #expect(try await landedBrowser.post("/flow/confirm").status == .badGateway)
            #expect(try await lostBrowser.post("/flow/confirm").status == .badGateway)
            try await waitUntil("the delayed cancellation landed", timeout: .seconds(15)) {
                (try await Self.paddleSubscription(paddle, landed)["scheduled_change"] as? [String: Any])?["action"] as? String == "cancel"
            }
            // The customers never come back.
            ctx.time.advance(by: FlowService.sessionLifetime + 1)
            _ = try await ctx.services.flow.abandonExpired()
            #expect(try await CancelFlowTests.session(ctx, landedBrowser)?.outcome == .canceled)
            #expect(try await CancelFlowTests.session(ctx, lostBrowser)?.outcome == .abandoned)
            let events = try await Self.completedEvents(ctx).compactMap { $0["data"] as? [String: Any] }
            let landedEvent = try #require(events.first { $0["subscriptionId"] as? String == landed })
            #expect(landedEvent["outcome"] as? String == "canceled")
            #expect((landedEvent["billing"] as? [String: Any])?["action"] as? String == "cancel_at_period_end")
            #expect(events.first { $0["subscriptionId"] as? String == lost }?["outcome"] as? String == "abandoned")
            #expect(try await paddle.writes().count == 2, "nothing was tried again")
        }
    }

    /// Stripe's other two actions: a pause (collection paused, resuming after the offer's
    /// months) and an immediate cancellation (DELETE, the survey in its query).
    @Test(arguments: TestEngine.allCases)
    func stripePausesAndCancelsAtOnce(engine: TestEngine) async throws {
        let stripe = try await BillingStandIn(.stripe)
        defer { stripe.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.configure(ctx, stripe)
            let (customer, subscriptions) = try await Self.seedStripe(
                stripe, plans: [("pro-monthly", "Pro Monthly", 1500, "month"), ("team-monthly", "Team Monthly", 4500, "month")])
            try await CancelFlowTests.setFlow(ctx, offer: .pause(months: 2))
            let pausing = try await Self.start(client, ctx, customer: customer, subscription: subscriptions[0])
            #expect(try await pausing.post("/flow/survey", ["reason": "I'm not using it enough"]).status == .seeOther)
            #expect(try await pausing.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            let paused = try await Self.stripeSubscription(stripe, subscriptions[0])
            let collection = try #require(paused["pause_collection"] as? [String: Any], "\(paused)")
            #expect(collection["behavior"] as? String == "mark_uncollectible")
            let expected = FlowService.adding(months: 2, to: ctx.time.now()).timeIntervalSince1970
            #expect(abs((collection["resumes_at"] as? Double ?? 0) - expected) < 2)

            try await CancelFlowTests.setFlow(ctx, offer: .none, timing: .immediately)
            let canceling = try await Self.start(client, ctx, customer: customer, subscription: subscriptions[1])
            #expect(try await canceling.post("/flow/survey", ["reason": "I'm switching to another product"]).status == .seeOther)
            #expect(try await canceling.post("/flow/confirm").status == .seeOther)
            let canceled = try await Self.stripeSubscription(stripe, subscriptions[1])
            #expect(canceled["status"] as? String == "canceled")
            #expect((canceled["cancellation_details"] as? [String: Any])?["feedback"] as? String == "switched_service")
            let delete = try #require(try await stripe.writes(pathContaining: subscriptions[1]).first)
            #expect(delete["method"] as? String == "DELETE")
            #expect((delete["query"] as? String)?.contains("cancellation_details") == true)
            let actions = try await Self.completedEvents(ctx).compactMap { ($0["data"] as? [String: Any])?["billing"] as? [String: Any] }
            #expect(Set(actions.compactMap { $0["action"] as? String }) == ["pause", "cancel_now"])
        }
    }

    /// Paddle: a 429 on a write is retried (it was not processed); an immediate cancellation.
    @Test(arguments: TestEngine.allCases)
    func paddleRetriesA429AndCancelsAtOnce(engine: TestEngine) async throws {
        let paddle = try await BillingStandIn(.paddle)
        defer { paddle.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let (browser, subscription) = try await Self.atPaddleConfirmation(client, ctx, paddle, timing: .immediately)
            try await paddle.fault(method: "POST", pathPrefix: "/subscriptions/", [["status": 429, "retry_after": 1]])
            #expect(try await browser.post("/flow/confirm").status == .seeOther)
            let canceled = try await Self.paddleSubscription(paddle, subscription)
            #expect(canceled["status"] as? String == "canceled")
            let writes = try await paddle.writes()
            #expect(writes.count == 2)
            #expect(writes.allSatisfy { ($0["body"] as? String)?.contains("immediately") == true })
        }
    }

    /// Four confirmations of one session at once, straight into the flow service (the test
    /// client's one connection would queue them, and the server answer them one after the
    /// other): one claims the provider action, the others are told to wait or that the session
    /// has ended; the provider is asked once.
    @Test(arguments: TestEngine.allCases)
    func concurrentFinalClicksActOnce(engine: TestEngine) async throws {
        let paddle = try await BillingStandIn(.paddle)
        defer { paddle.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let (browser, _) = try await Self.atPaddleConfirmation(client, ctx, paddle)
            let session = try #require(try await CancelFlowTests.session(ctx, browser))
            try await paddle.fault(method: "POST", pathPrefix: "/subscriptions/", [["delay": 1]])
            let flow = ctx.services.flow
            let results = await withTaskGroup(of: String.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        do {
                            try await flow.confirmCancellation(session)
                            return "done"
                        } catch let error as CancelflowError {
                            return error.code
                        } catch {
                            return "\(error)"
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0 == "done" }.count == 1, "\(results)")
            #expect(results.allSatisfy { ["done", "action_in_progress", "session_closed", "not_ready"].contains($0) }, "\(results)")
            // (Which of the others met the claim and which the ended session depends on timing;
            // that exactly one claim wins is tested in BillingStoreTests.)
            #expect(try await paddle.writes().count == 1)
            #expect(try await Self.completedEvents(ctx).count == 1)
            #expect(try await CancelFlowTests.session(ctx, browser)?.outcome == .canceled)
        }
    }

    // MARK: - Offers at the provider

    /// A discount on Stripe is a coupon of ours, created once per offer shape and reused.
    @Test(arguments: TestEngine.allCases)
    func stripeDiscountsReuseOneCouponPerOffer(engine: TestEngine) async throws {
        let stripe = try await BillingStandIn(.stripe)
        defer { stripe.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.configure(ctx, stripe)
            try await CancelFlowTests.setFlow(ctx, offer: .discount(percent: 25, months: 3))
            let (customer, subscriptions) = try await Self.seedStripe(
                stripe, plans: [("pro-monthly", "Pro Monthly", 1500, "month"), ("addon", "Add-on", 300, "month")])
            for subscription in subscriptions {
                let browser = try await Self.start(client, ctx, customer: customer, subscription: subscription)
                #expect(try await browser.post("/flow/survey", ["reason": "It's too expensive"]).status == .seeOther)
                #expect(try await browser.get("/flow").text.contains("25% off for 3 months"))
                #expect(try await browser.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
                let discounted = try await stripe.call(.GET, "/v1/subscriptions/\(subscription)?expand[]=discounts").body
                let discount = try #require((discounted["discounts"] as? [[String: Any]])?.first)
                let coupon = try #require(discount["coupon"] as? [String: Any])
                #expect(coupon["id"] as? String == "cancelflow_25_off_3_months")
                #expect(coupon["percent_off"] as? Double == 25)
                #expect(coupon["duration_in_months"] as? Int == 3)
            }
            #expect(try await stripe.writes(pathContaining: "/v1/coupons").count == 1)
        }
    }

    /// Paddle counts a discount in billing periods: on a yearly plan only whole years can be
    /// offered, so a 3-month discount is not offered there, and a 12-month one is one period; on
    /// a monthly plan 3 months are 3 periods.
    @Test(arguments: TestEngine.allCases)
    func paddleDiscountsCountBillingPeriods(engine: TestEngine) async throws {
        let paddle = try await BillingStandIn(.paddle)
        defer { paddle.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.configure(ctx, paddle)
            let (_, yearly) = try await Self.seedPaddle(paddle, interval: "year")
            try await CancelFlowTests.setFlow(ctx, offer: .discount(percent: 20, months: 3))
            let skipped = try await Self.start(client, ctx, customer: yearly)
            #expect(try await skipped.post("/flow/survey", ["reason": "It's too expensive"]).status == .seeOther)
            #expect(try await skipped.get("/flow").text.contains("Confirm cancellation"), "no offer it cannot honour")

            try await CancelFlowTests.setFlow(ctx, offer: .discount(percent: 20, months: 12))
            let browser = try await Self.start(client, ctx, customer: yearly)
            #expect(try await browser.post("/flow/survey", ["reason": "It's too expensive"]).status == .seeOther)
            #expect(try await browser.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            let discounts = try await paddle.call(.GET, "/discounts?code=CANCELFLOW20OFF1X").body["data"] as? [[String: Any]]
            let discount = try #require(discounts?.first)
            #expect(discount["maximum_recurring_intervals"] as? Int == 1)
            #expect(discount["type"] as? String == "percentage")
            let subscription = try await Self.paddleSubscription(paddle, yearly)
            #expect((subscription["discount"] as? [String: Any])?["id"] as? String == discount["id"] as? String)

            let (_, monthly) = try await Self.seedPaddle(paddle, email: "monthly@example.com")
            try await CancelFlowTests.setFlow(ctx, offer: .discount(percent: 20, months: 3))
            let monthlyBrowser = try await Self.start(client, ctx, customer: monthly)
            #expect(try await monthlyBrowser.post("/flow/survey", ["reason": "It's too expensive"]).status == .seeOther)
            #expect(try await monthlyBrowser.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            let three = try await paddle.call(.GET, "/discounts?code=CANCELFLOW20OFF3X").body["data"] as? [[String: Any]]
            #expect(three?.first?["maximum_recurring_intervals"] as? Int == 3)
        }
    }

    /// A Paddle discount that was applied although its answer never came back is recognised
    /// when read back: the retry ends the flow as discounted without applying it again.
    @Test(arguments: TestEngine.allCases)
    func aPaddleDiscountAppliedWithoutAnAnswerIsReadBackNotRepeated(engine: TestEngine) async throws {
        let paddle = try await BillingStandIn(.paddle)
        defer { paddle.stop() }
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.configure(ctx, paddle)
            let (_, subscription) = try await Self.seedPaddle(paddle)
            try await CancelFlowTests.setFlow(ctx, offer: .discount(percent: 20, months: 3))
            let browser = try await Self.start(client, ctx, customer: subscription)
            #expect(try await browser.post("/flow/survey", ["reason": "It's too expensive"]).status == .seeOther)
            try await paddle.fault(method: "PATCH", pathPrefix: "/subscriptions/", [["delay": 5]])
            let timedOut = try await browser.post("/flow/offer", ["decision": "accept"])
            #expect(timedOut.status == .badGateway)
            #expect(try await Self.attempt(ctx, browser)?.status == .unknown)
            try await waitUntil("the stand-in has applied the discount", timeout: .seconds(15)) {
                (try await Self.paddleSubscription(paddle, subscription)["discount"] as? [String: Any])?["id"] != nil
            }
            let patches = try await paddle.writes(pathContaining: "/subscriptions/").filter { $0["method"] as? String == "PATCH" }.count
            #expect(try await browser.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            #expect(try await CancelFlowTests.session(ctx, browser)?.outcome == .discounted)
            #expect(
                try await paddle.writes(pathContaining: "/subscriptions/").filter { $0["method"] as? String == "PATCH" }.count == patches,
                "not applied twice")
            #expect(try await Self.attempt(ctx, browser)?.status == .succeeded)
        }
    }

    // MARK: - Email verification

    /// A customer without a link finds their Stripe subscription by email.
    @Test(arguments: TestEngine.allCases)
    func emailVerificationFindsTheStripeCustomer(engine: TestEngine) async throws {
        let stripe = try await BillingStandIn(.stripe)
        defer { stripe.stop() }
        let sink = try await SMTPSink()
        defer { sink.stop() }
        let config = EmailVerificationTests.config(smtp: sink).merging(["allowPrivateWebhooks": .bool(true)]) { $1 }
        try await withTestApp(engine, configuration: config) { client, ctx in
            try await Self.configure(ctx, stripe)
            let (customer, subscriptions) = try await Self.seedStripe(stripe, plans: [("pro-monthly", "Pro Monthly", 1500, "month")])
            let (browser, requested) = try await EmailVerificationTests.requestCode(client, ctx, email: "jane@example.com")
            #expect(requested.status == .seeOther, "\(requested.text)")
            try await waitUntil("the code email arrived", timeout: .seconds(10)) { !sink.messages.isEmpty }
            let code = try #require(EmailVerificationTests.code(in: sink, to: "jane@example.com"))
            #expect(try await EmailVerificationTests.enter(browser, ctx, code: code).status == .seeOther)
            let session = try #require(try await CancelFlowTests.session(ctx, browser))
            #expect(session.customerID == customer)
            #expect(try await browser.get("/flow").text.contains("Why are you leaving?"))
            _ = subscriptions
        }
    }

    /// On Paddle, a customer without a link is found by email, and the flow covers that
    /// customer's subscriptions (the session carries the `ctm_` id).
    @Test(arguments: TestEngine.allCases)
    func emailVerificationFindsThePaddleCustomerAndCancels(engine: TestEngine) async throws {
        let paddle = try await BillingStandIn(.paddle)
        defer { paddle.stop() }
        let sink = try await SMTPSink()
        defer { sink.stop() }
        let config = EmailVerificationTests.config(smtp: sink).merging(["allowPrivateWebhooks": .bool(true)]) { $1 }
        try await withTestApp(engine, configuration: config) { client, ctx in
            try await Self.configure(ctx, paddle)
            try await CancelFlowTests.setFlow(ctx, offer: .none)
            let (customer, subscription) = try await Self.seedPaddle(paddle, email: "Jane@Example.com")
            let (browser, requested) = try await EmailVerificationTests.requestCode(client, ctx, email: "jane@example.com")
            #expect(requested.status == .seeOther, "\(requested.text)")
            try await waitUntil("the code email arrived", timeout: .seconds(10)) { !sink.messages.isEmpty }
            let code = try #require(EmailVerificationTests.code(in: sink, to: "jane@example.com"))
            #expect(try await EmailVerificationTests.enter(browser, ctx, code: code).status == .seeOther)
            #expect(try await CancelFlowTests.session(ctx, browser)?.customerID == customer)
            #expect(try await browser.get("/flow").text.contains("Why are you leaving?"))
            #expect(try await browser.post("/flow/survey", ["reason": "Something else"]).status == .seeOther)
            #expect(try await browser.post("/flow/confirm").status == .seeOther)
            let canceled = try await Self.paddleSubscription(paddle, subscription)
            #expect((canceled["scheduled_change"] as? [String: Any])?["action"] as? String == "cancel")
            let event = try #require(try await Self.completedEvents(ctx).first?["data"] as? [String: Any])
            #expect(event["via"] as? String == "email")
            #expect((event["billing"] as? [String: Any])?["objectId"] as? String == subscription)
        }
    }

    // MARK: - Configuration

    /// Keys are checked against the mode, stored only sealed, and shown as prefix and last four.
    @Test(arguments: TestEngine.allCases)
    func providerKeysMatchTheirModeAndAreStoredSealed(engine: TestEngine) async throws {
        try await withTestApp(engine) { _, ctx in
            let accounts = ctx.services.billingAccounts
            let org = ctx.organization.id
            for (mode, key) in [(Mode.test, "sk_live_abcdefgh12345678"), (.live, "sk_test_abcdefgh12345678"), (.live, "pk_live_notasecret")] {
                let error = await #expect(throws: CancelflowError.self) {
                    try await accounts.configure(organizationID: org, mode: mode, .init(provider: .stripe, secretKey: key, apiBase: nil))
                }
                #expect(error?.code == "secret_key_mode_mismatch")
                #expect(error?.message.contains(key) == false, "the key is not repeated back")
            }
            await #expect(throws: CancelflowError.self) {
                try await accounts.configure(
                    organizationID: org, mode: .test, .init(provider: .paddle, secretKey: "pdl_live_apikey_0123456789", apiBase: nil))
            }
            await #expect(throws: CancelflowError.self, "live mode talks to the provider over https only") {
                try await accounts.configure(
                    organizationID: org, mode: .live, .init(provider: .stripe, secretKey: "rk_live_abcdefgh12345678", apiBase: "http://127.0.0.1:9"))
            }
            #expect(try await ctx.services.store.billingAccount(organizationID: org, mode: .live) == nil, "nothing half-written")

            let secret = "sk_live_51Habcdefghijklmnopqrstuvwxyz9876"
            let account = try await accounts.configure(organizationID: org, mode: .live, .init(provider: .stripe, secretKey: secret, apiBase: nil))
            #expect(account.keyHint == "sk_live_…9876")
            let stored = try await ctx.services.pool.withConnection { db in
                try await db.raw("SELECT * FROM billing_accounts").all().map { row in
                    try ["sealed_key", "key_hint", "provider"].map { try row.decode(column: $0, as: String?.self) ?? "" }.joined(separator: " ")
                }
            }
            #expect(stored.count == 1)
            #expect(!stored.joined().contains(secret) && !stored.joined().contains("abcdefghijklmnop"))
            // What is stored is sealed: it opens only with the server secret's billing key, and
            // its bytes do not hold the key.
            let sealed = try #require(try await ctx.services.store.billingAccount(organizationID: org, mode: .live)?.sealedKey)
            #expect(!String(decoding: sealed, as: UTF8.self).contains("abcdefghijklmnop"))
            #expect(try SecretBox.billingKeys(ctx.services.secret).open(sealed) == secret)
            #expect(throws: (any Error).self) { try SecretBox(secret: ctx.services.secret, purpose: "webhook-endpoint-secret-v1").open(sealed) }
            // A new API base without the key again is refused: the stored key would be sent there.
            let moved = await #expect(throws: CancelflowError.self) {
                try await accounts.configure(
                    organizationID: org, mode: .live, .init(provider: .stripe, secretKey: nil, apiBase: "https://stripe-proxy.example.com/"))
            }
            #expect(moved?.code == "secret_key_required")
            #expect(try await accounts.account(organizationID: org, mode: .live).apiBase == nil)
            let kept = try await accounts.configure(
                organizationID: org, mode: .live, .init(provider: .stripe, secretKey: secret, apiBase: "https://stripe-proxy.example.com/"))
            #expect(kept.keyHint == "sk_live_…9876")
            #expect(kept.apiBase == "https://stripe-proxy.example.com")
            // Configuring again without an API base keeps it; an empty one returns to Stripe's own.
            let again = try await accounts.configure(organizationID: org, mode: .live, .init(provider: .stripe, secretKey: nil, apiBase: nil))
            #expect(again.apiBase == "https://stripe-proxy.example.com")
            let reset = try await accounts.configure(organizationID: org, mode: .live, .init(provider: .stripe, secretKey: nil, apiBase: ""))
            #expect(reset.apiBase == nil)
        }
    }

    /// The Paddle stand-in speaks Paddle: Paddle's own Python SDK reads and changes subscriptions,
    /// customers and discounts through it and parses every answer into its entities.
    @Test func thePaddleStandInSatisfiesPaddlesOwnSDK() async throws {
        let paddle = try await BillingStandIn(.paddle)
        defer { paddle.stop() }
        let result = try await runProcess(
            "/usr/bin/env", ["python3", BillingStandIn.folder + "paddle_fidelity.py", String(paddle.port), paddle.key])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("ok"))
    }
}
