import CancelflowCore
import CancelflowTestSupport
import Configuration
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The steps after the exchange, and what each outcome does to the built-in subscription.
@Suite struct CancelFlowTests {
    static let config: [String: ConfigContent] = ["trustProxy": .bool(true)]

    /// Mints a link and exchanges it in a fresh browser; returns the browser on the first step.
    static func start(_ client: any TestClientProtocol, _ ctx: TestContext, extra: [String: Any] = [:]) async throws -> TestBrowser {
        let minted = try await client.mint(ctx, extra: extra)
        let token = try #require(minted.json["token"] as? String, "\(minted.text)")
        let browser = TestBrowser(client, host: "cancel.test")
        _ = try await browser.get("/cancel/\(token)")
        let exchanged = try await browser.post("/cancel/\(token)")
        #expect(exchanged.status == .seeOther)
        // Load the first step, as a browser following the redirect would: its forms carry the
        // session's CSRF value.
        #expect(try await browser.get("/flow").status == .ok)
        return browser
    }

    static func subscription(_ ctx: TestContext, _ id: String = "sub_xyz789") async throws -> Subscription? {
        try await ctx.services.store.subscription(organizationID: ctx.organization.id, mode: .test, id: id)
    }

    static func session(_ ctx: TestContext, _ browser: TestBrowser) async throws -> FlowSession? {
        try await ctx.services.store.flowSession(sessionHash: independentSHA256(browser.cookieJar["cf_session"] ?? ""))
    }

    /// The customer with the usual Pro subscription and a second, Team, one.
    static func seedTwoSubscriptions(_ ctx: TestContext) async throws {
        try await ctx.seedCustomer()
        let now = ctx.time.now()
        _ = try await ctx.services.store.upsertSubscription(
            organizationID: ctx.organization.id, mode: .test,
            Subscription(id: "sub_second", customerID: "cus_abc123", status: .active, planName: "Team", createdAt: now, updatedAt: now),
            now: now
        )
    }

    static func setFlow(_ ctx: TestContext, offer: RetentionOffer = FlowSettings.defaults.offer, timing: CancelTiming = .periodEnd) async throws {
        var settings = FlowSettings.defaults
        settings.offer = offer
        settings.cancelTiming = timing
        try await ctx.services.store.setFlowSettings(organizationID: ctx.organization.id, settings, now: ctx.time.now())
    }

    @Test(arguments: TestEngine.allCases)
    func surveyThenDeclineThenConfirmCancelsAtPeriodEnd(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let browser = try await Self.start(client, ctx)
            let survey = try await browser.get("/flow")
            #expect(survey.text.contains("Why are you leaving?"))
            #expect(survey.text.contains("It&#39;s too expensive") || survey.text.contains("It's too expensive"))
            // A reason that was not offered is refused, and the step is shown again.
            let bad = try await browser.post("/flow/survey", ["reason": "Because"])
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("Choose one of the reasons shown."))
            #expect(try await browser.post("/flow/survey", ["reason": "It's too expensive", "comment": "  Price went up  "]).status == .seeOther)
            let offer = try await browser.get("/flow")
            #expect(offer.text.contains("20% off for 3 months"))
            #expect(try await browser.post("/flow/offer", ["decision": "decline"]).status == .seeOther)
            let confirm = try await browser.get("/flow")
            #expect(confirm.text.contains("Confirm cancellation"))
            #expect(try await Self.subscription(ctx)?.cancelAtPeriodEnd == false, "nothing changes before the confirmation")
            let done = try await browser.post("/flow/confirm")
            #expect(done.status == .seeOther)
            #expect(done.headers[.location] == "/flow")
            #expect(try await browser.get("/flow").text.contains("Your subscription is cancelled"))
            let subscription = try #require(try await Self.subscription(ctx))
            #expect(subscription.cancelAtPeriodEnd)
            #expect(subscription.canceledAt == ctx.time.now())
            #expect(subscription.status == .active, "it runs until the end of the period")
            let session = try #require(try await Self.session(ctx, browser))
            #expect(session.outcome == .canceled)
            #expect(session.surveyReason == "It's too expensive")
            #expect(session.surveyComment == "Price went up")
            #expect(session.subscriptionID == "sub_xyz789")
            // The API shows it too; the link stays consumed.
            let customer = try await client.execute(uri: "/v1/customers/cus_abc123", method: .get, headers: ctx.headers())
            #expect((customer.json["subscriptions"] as? [[String: Any]])?.first?["cancelAtPeriodEnd"] as? Bool == true)
            // A second confirmation, even with the session's CSRF value, changes nothing.
            let csrf = try #require(
                confirm.text.range(of: #"name="csrf" value="([a-z2-7]+)""#, options: .regularExpression)
                    .map { String(confirm.text[$0].split(separator: "\"")[3]) })
            #expect(try await browser.post("/flow/confirm", csrf: csrf).status == .badRequest)
            #expect(try await Self.subscription(ctx)?.canceledAt == subscription.canceledAt)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func immediateCancellationEndsTheSubscriptionAndGoesToTheReturnURL(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config, returnHosts: ["app.acme.com"]) { client, ctx in
            try await ctx.seedCustomer()
            try await Self.setFlow(ctx, offer: .none, timing: .immediately)
            let browser = try await Self.start(client, ctx, extra: ["returnUrl": "https://app.acme.com/account"])
            _ = try await browser.post("/flow/survey", ["reason": "Technical problems"])
            let confirm = try await browser.get("/flow")
            #expect(confirm.text.contains("cancelled right away"), "no offer step when the organization has none")
            #expect(confirm.headers[.contentSecurityPolicy]?.contains("form-action 'self' https://app.acme.com") == true)
            let done = try await browser.post("/flow/confirm")
            #expect(done.status == .seeOther)
            #expect(done.headers[.location] == "https://app.acme.com/account")
            #expect(try await Self.subscription(ctx)?.status == .canceled)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func acceptingAPausePausesTheSubscription(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            try await Self.setFlow(ctx, offer: .pause(months: 2))
            let browser = try await Self.start(client, ctx)
            _ = try await browser.post("/flow/survey", ["reason": "I'm not using it enough"])
            #expect(try await browser.get("/flow").text.contains("Pause for 2 months instead?"))
            #expect(try await browser.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            #expect(try await browser.get("/flow").text.contains("Your subscription is paused"))
            let subscription = try #require(try await Self.subscription(ctx))
            #expect(subscription.status == .paused)
            #expect(subscription.pauseResumesAt == Date(timeIntervalSince1970: 1_795_270_400), "two calendar months later")
            #expect(try await Self.session(ctx, browser)?.outcome == .paused)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func acceptingADiscountKeepsTheSubscriptionAtAReducedPrice(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let browser = try await Self.start(client, ctx)
            _ = try await browser.post("/flow/survey", ["reason": "Something else"])
            #expect(try await browser.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            let subscription = try #require(try await Self.subscription(ctx))
            #expect(subscription.status == .active)
            #expect(subscription.discountPercent == 20)
            #expect(subscription.discountEndsAt != nil)
            #expect(try await Self.session(ctx, browser)?.outcome == .discounted)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func yearlyPlansAreNeverOfferedAPause(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            var yearly = try #require(try await Self.subscription(ctx))
            yearly.interval = .year
            _ = try await ctx.services.store.upsertSubscription(organizationID: ctx.organization.id, mode: .test, yearly, now: ctx.time.now())
            try await Self.setFlow(ctx, offer: .pause(months: 1))
            let browser = try await Self.start(client, ctx)
            _ = try await browser.post("/flow/survey", ["reason": "Technical problems"])
            #expect(try await browser.get("/flow").text.contains("Confirm cancellation"))
            #expect(try await browser.post("/flow/offer", ["decision": "accept"]).status == .badRequest)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func keepingTheSubscriptionChangesNothingAndIsOneClickFromEveryStep(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let before = try await Self.subscription(ctx)
            let browser = try await Self.start(client, ctx)
            let survey = try await browser.get("/flow")
            #expect(survey.text.contains("Why are you leaving?"), "the flow starts with the survey")
            #expect(survey.text.contains(#"action="/flow/keep""#))
            #expect(try await browser.post("/flow/survey", ["reason": "Technical problems"]).status == .seeOther)
            let offer = try await browser.get("/flow")
            #expect(!offer.text.contains("Why are you leaving?"), "the next step is the offer")
            #expect(offer.text.contains(#"action="/flow/keep""#))
            #expect(try await browser.post("/flow/keep").status == .seeOther)
            #expect(try await browser.get("/flow").text.contains("Your subscription continues"))
            #expect(try await Self.subscription(ctx) == before)
            #expect(try await Self.session(ctx, browser)?.outcome == .kept)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aCustomerWithSeveralSubscriptionsChoosesOne(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.seedTwoSubscriptions(ctx)
            let browser = try await Self.start(client, ctx)
            let choose = try await browser.get("/flow")
            #expect(choose.text.contains("Which subscription do you want to cancel?"))
            #expect(choose.text.contains("Team") && choose.text.contains("Pro"))
            #expect(try await browser.post("/flow/subscription", ["subscriptionId": "sub_someone_elses"]).status == .badRequest)
            #expect(try await browser.post("/flow/subscription", ["subscriptionId": "sub_second"]).status == .seeOther)
            _ = try await browser.post("/flow/survey", ["reason": "Technical problems"])
            _ = try await browser.post("/flow/offer", ["decision": "decline"])
            _ = try await browser.post("/flow/confirm")
            #expect(try await Self.subscription(ctx, "sub_second")?.cancelAtPeriodEnd == true)
            #expect(try await Self.subscription(ctx)?.cancelAtPeriodEnd == false)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aLinkNamingOneSubscriptionSkipsTheChoice(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.seedTwoSubscriptions(ctx)
            let browser = try await Self.start(client, ctx, extra: ["subscriptionId": "sub_second"])
            #expect(try await browser.get("/flow").text.contains("Why are you leaving?"))
        }
    }

    @Test(arguments: TestEngine.allCases)
    func anUndecidedSessionIsAbandonedWhenItRunsOut(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let browser = try await Self.start(client, ctx)
            _ = try await browser.post("/flow/survey", ["reason": "Technical problems"])
            let flow = ctx.services.flow
            ctx.time.advance(by: FlowService.sessionLifetime - 1)
            #expect(try await flow.abandonExpired() == 0)
            ctx.time.advance(by: 1)
            #expect(try await browser.post("/flow/offer", ["decision": "accept"]).status == .badRequest)
            #expect(try await flow.abandonExpired() == 1)
            #expect(try await flow.abandonExpired() == 0)
            #expect(try await Self.session(ctx, browser)?.outcome == .abandoned)
            #expect(try await browser.get("/flow").text.contains("This session has ended"))
            #expect(try await Self.subscription(ctx)?.discountPercent == nil)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func revokingALinkEndsTheSessionsOpenedFromIt(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let minted = try await client.mint(ctx, extra: ["singleUse": false])
            let token = try #require(minted.json["token"] as? String)
            let id = try #require(minted.json["id"] as? String)
            let browser = TestBrowser(client, host: "cancel.test")
            _ = try await browser.get("/cancel/\(token)")
            _ = try await browser.post("/cancel/\(token)")
            #expect(try await browser.get("/flow").text.contains("Why are you leaving?"))
            _ = try await client.execute(uri: "/v1/cancel-sessions/\(id)/revoke", method: .post, headers: ctx.headers())
            #expect(try await browser.post("/flow/survey", ["reason": "Technical problems"]).status == .badRequest)
            #expect(try await browser.get("/flow").text.contains("This session has ended"))
            #expect(try await ctx.services.flow.abandonExpired() == 1)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func flowFormsNeedTheSessionsCSRFValue(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let browser = try await Self.start(client, ctx)
            #expect(try await browser.post("/flow/keep", csrf: "forged").status == .forbidden)
            #expect(try await browser.post("/flow/survey", ["reason": "Technical problems"], csrf: "forged").status == .forbidden)
            #expect(try await Self.session(ctx, browser)?.surveyReason == nil)
            #expect(try await TestBrowser(client, host: "cancel.test").post("/flow/keep").status == .gone)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func theFlowNeverLogsTheToken(engine: TestEngine) async throws {
        let logs = CapturedLogs()
        try await withTestApp(engine, configuration: Self.config, logger: logs.logger()) { client, ctx in
            try await ctx.seedCustomer()
            let minted = try await client.mint(ctx)
            let token = try #require(minted.json["token"] as? String)
            let browser = TestBrowser(client, host: "cancel.test")
            _ = try await browser.get("/cancel/\(token)")
            _ = try await browser.post("/cancel/\(token)")
            let session = try #require(browser.cookieJar["cf_session"])
            _ = try await browser.get("/flow")
            _ = try await browser.post("/flow/keep")
            _ = try await TestBrowser(client, host: "cancel.test").get("/cancel/\(token)")
            #expect(logs.text.contains("Exchanged cancel link"))
            #expect(logs.text.contains("Cancel flow completed"))
            #expect(!logs.text.contains(token))
            #expect(!logs.text.contains(String(token.dropFirst(3))))
            #expect(!logs.text.contains(session))
        }
    }
}
