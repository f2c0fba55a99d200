import CancelflowAPI
import CancelflowCore
import CancelflowTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The hosted flow run from flow documents: the first matching flow wins, each reason leads to
/// its offer, drafts never reach customers, cooldowns hold, variants are sticky.
@Suite struct TargetedFlowsTests {
    static let config = CancelFlowTests.config

    static func reason(_ id: String, _ label: String, offer: String? = nil) -> [String: Any] {
        var reason: [String: Any] = ["id": id, "label": label]
        if let offer { reason["offer"] = offer }
        return reason
    }

    /// Monthly customers: a discount for "too expensive", a pause for "not using it".
    static var monthly: [String: Any] {
        [
            "name": "Monthly", "targeting": ["intervals": ["month"]], "cooldownDays": ["discount": 90],
            "survey": [
                "reasons": [
                    Self.reason("too_expensive", "Too expensive", offer: "discount"), Self.reason("not_using", "Not using it", offer: "pause"),
                    Self.reason("docs", "I can't work out how", offer: "guide"), Self.reason("other", "Something else"),
                ]
            ],
            "offers": [
                ["id": "discount", "type": "discount", "percent": 30, "months": 3], ["id": "pause", "type": "pause", "months": 2],
                ["id": "guide", "type": "redirect", "url": "https://help.example.com/getting-started"],
            ],
        ]
    }

    /// Yearly customers: "too expensive" leads to support.
    static var yearly: [String: Any] {
        [
            "name": "Yearly", "targeting": ["intervals": ["year"]],
            "survey": ["reasons": [Self.reason("too_expensive", "Too expensive for a year", offer: "talk")]],
            "offers": [["id": "talk", "type": "contact", "email": "billing@example.com"]],
        ]
    }

    static func publish(_ client: some TestClientProtocol, _ ctx: TestContext, _ document: [String: Any]) async throws -> String {
        let created = try await client.execute(uri: "/v1/flows", method: .post, headers: ctx.headers(), body: jsonBody(document))
        let id = try #require(created.json["id"] as? String, "\(created.text)")
        let published = try await client.execute(uri: "/v1/flows/\(id)/publish", method: .post, headers: ctx.headers(.live, json: false))
        #expect(published.status == .ok, "\(published.text)")
        return id
    }

    static func seed(_ ctx: TestContext, _ customer: String, interval: BillingInterval) async throws {
        try await ctx.seedCustomer(customer, subscription: nil)
        let now = ctx.time.now()
        _ = try await ctx.services.store.upsertSubscription(
            organizationID: ctx.organization.id, mode: .test,
            Subscription(
                id: "sub_\(customer)", customerID: customer, status: .active, planName: "Pro", amount: 1200, currency: "usd", interval: interval,
                createdAt: now, updatedAt: now),
            now: now)
    }

    static func start(
        _ client: some TestClientProtocol, _ ctx: TestContext, _ customer: String, extra: [String: Any] = [:]
    ) async throws -> TestBrowser {
        let minted = try await client.mint(ctx, customer: customer, extra: extra)
        let token = try #require(minted.json["token"] as? String, "\(minted.text)")
        let browser = TestBrowser(client, host: "cancel.test")
        // The landing page sets the form's CSRF cookie.
        _ = try await browser.get("/cancel/\(token)")
        #expect(try await browser.post("/cancel/\(token)").status == .seeOther)
        return browser
    }

    @Test(arguments: TestEngine.allCases)
    func eachSegmentGetsItsFlowAndEachReasonItsOffer(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let monthlyID = try await Self.publish(client, ctx, Self.monthly)
            _ = try await Self.publish(client, ctx, Self.yearly)
            try await Self.seed(ctx, "cus_month", interval: .month)
            try await Self.seed(ctx, "cus_year", interval: .year)

            // Monthly, too expensive: the discount, then the session records the flow it ran.
            let monthly = try await Self.start(client, ctx, "cus_month")
            let survey = try await monthly.get("/flow")
            #expect(survey.text.contains(#"value="too_expensive""#) && survey.text.contains("Not using it"))
            #expect(!survey.text.contains("Too expensive for a year"))
            #expect(try await monthly.post("/flow/survey", ["reason": "too_expensive"]).status == .seeOther)
            #expect(try await monthly.get("/flow").text.contains("30% off for 3 months"))
            #expect(try await monthly.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            let session = try #require(try await CancelFlowTests.session(ctx, monthly))
            #expect(session.outcome == .discounted && session.reasonID == "too_expensive" && session.offerID == "discount")
            #expect(session.run == FlowRun(flowID: monthlyID, version: 1, variant: nil))

            // Yearly, too expensive: support, and the page says how to reach it.
            let yearly = try await Self.start(client, ctx, "cus_year")
            #expect(try await yearly.get("/flow").text.contains("Too expensive for a year"))
            #expect(try await yearly.post("/flow/survey", ["reason": "too_expensive"]).status == .seeOther)
            #expect(try await yearly.get("/flow").text.contains("Talk to us before you go?"))
            #expect(try await yearly.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            let done = try await yearly.get("/flow")
            #expect(done.text.contains("mailto:billing@example.com"))
            #expect(try await CancelFlowTests.session(ctx, yearly)?.outcome == .contacted)

            // A reason of another flow is refused.
            let other = try await Self.start(client, ctx, "cus_year")
            _ = try await other.get("/flow")
            #expect(try await other.post("/flow/survey", ["reason": "not_using"]).status == .badRequest)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func draftsNeverReachCustomersAndCooldownsHold(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let id = try await Self.publish(client, ctx, Self.monthly)
            var draft = Self.monthly
            draft["survey"] = ["reasons": [Self.reason("draft_only", "Only in the draft")]]
            let saved = try await client.execute(uri: "/v1/flows/\(id)/draft", method: .put, headers: ctx.headers(), body: jsonBody(draft))
            #expect(saved.status == .ok)
            try await Self.seed(ctx, "cus_month", interval: .month)

            let first = try await Self.start(client, ctx, "cus_month")
            let page = try await first.get("/flow")
            #expect(!page.text.contains("Only in the draft") && page.text.contains("Not using it"))
            _ = try await first.post("/flow/survey", ["reason": "too_expensive"])
            _ = try await first.post("/flow/offer", ["decision": "accept"])
            #expect(try await CancelFlowTests.session(ctx, first)?.outcome == .discounted)

            // Within the 90-day cooldown the discount is not offered again; the pause still is.
            ctx.time.advance(by: 30 * 86400)
            let again = try await Self.start(client, ctx, "cus_month")
            _ = try await again.get("/flow")
            _ = try await again.post("/flow/survey", ["reason": "too_expensive"])
            #expect(try await again.get("/flow").text.contains("Confirm cancellation"))
            let pause = try await Self.start(client, ctx, "cus_month")
            _ = try await pause.get("/flow")
            _ = try await pause.post("/flow/survey", ["reason": "not_using"])
            #expect(try await pause.get("/flow").text.contains("Pause for 2 months"))
            // After it, the discount is back.
            ctx.time.advance(by: 61 * 86400)
            let later = try await Self.start(client, ctx, "cus_month")
            _ = try await later.get("/flow")
            _ = try await later.post("/flow/survey", ["reason": "too_expensive"])
            #expect(try await later.get("/flow").text.contains("30% off"))

            // A redirect offer sends the customer to the merchant's page.
            let lost = try await Self.start(client, ctx, "cus_month")
            _ = try await lost.get("/flow")
            _ = try await lost.post("/flow/survey", ["reason": "docs"])
            let redirected = try await lost.post("/flow/offer", ["decision": "accept"])
            #expect(redirected.status == .seeOther)
            #expect(redirected.headers[.location] == "https://help.example.com/getting-started")
            #expect(try await CancelFlowTests.session(ctx, lost)?.outcome == .redirected)
        }
    }

    /// Attributes given at mint are what flows target (and are shown with the link); bad ones
    /// are refused naming the attribute, and nothing is minted.
    @Test(arguments: TestEngine.allCases)
    func attributesAtMintChooseTheFlow(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            var agencies = Self.yearly
            agencies["name"] = "Agencies"
            agencies["targeting"] = ["attributes": ["segment": ["agency", "studio"]]]
            agencies["survey"] = ["reasons": [Self.reason("too_expensive", "Too expensive for the agency", offer: "talk")]]
            _ = try await Self.publish(client, ctx, agencies)
            try await Self.seed(ctx, "cus_month", interval: .month)

            let minted = try await client.mint(ctx, customer: "cus_month", extra: ["attributes": ["segment": "studio"], "locale": "fr-CA"])
            #expect(minted.json["attributes"] as? [String: String] == ["segment": "studio"])
            #expect(minted.json["locale"] as? String == "fr-CA")
            let id = try #require(minted.json["id"] as? String)
            let read = try await client.execute(uri: "/v1/cancel-sessions/\(id)", method: .get, headers: ctx.headers(json: false))
            #expect(read.json["attributes"] as? [String: String] == ["segment": "studio"])

            let studio = try await Self.start(client, ctx, "cus_month", extra: ["attributes": ["segment": "studio"]])
            #expect(try await studio.get("/flow").text.contains("Too expensive for the agency"))
            let plain = try await Self.start(client, ctx, "cus_month", extra: ["attributes": ["segment": "retail"]])
            #expect(!(try await plain.get("/flow").text.contains("Too expensive for the agency")), "the default flow")

            let before = try await ctx.linkCount()
            for (extra, param) in [
                (["attributes": ["bad key": "x"]], "attributes.bad key"), (["attributes": ["segment": ""]], "attributes.segment"),
                (["locale": "french"], "locale"),
                (["attributes": Dictionary(uniqueKeysWithValues: (0..<21).map { ("k\($0)", "v") })], "attributes"),
            ] as [([String: Any], String)] {
                let refused = try await client.mint(ctx, customer: "cus_month", extra: extra)
                #expect(refused.status == .badRequest, "\(refused.text)")
                #expect((refused.json["error"] as? [String: Any])?["param"] as? String == param, "\(refused.text)")
            }
            #expect(try await ctx.linkCount() == before)
        }
    }

    /// Plans and tenure come from what the merchant pushes (`planId`, `startedAt`).
    @Test(arguments: TestEngine.allCases)
    func planAndTenureTargetingReadWhatThePushSays(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            var loyal = Self.yearly
            loyal["name"] = "Loyal Pro"
            loyal["targeting"] = ["plans": ["pro_monthly"], "minTenureDays": 365]
            loyal["survey"] = ["reasons": [Self.reason("too_expensive", "Too expensive after all this time", offer: "talk")]]
            _ = try await Self.publish(client, ctx, loyal)
            func push(_ customer: String, startedDaysAgo: Double, plan: String) async throws -> TestResponse {
                try await ctx.seedCustomer(customer, subscription: nil)
                let started = Timestamp.format(ctx.time.now().addingTimeInterval(-startedDaysAgo * 86400))
                return try await client.execute(
                    uri: "/v1/customers/\(customer)/subscriptions/sub_\(customer)", method: .put, headers: ctx.headers(),
                    body: jsonBody(["status": "active", "planName": "Pro", "planId": plan, "interval": "month", "startedAt": started]))
            }
            let pushed = try await push("cus_old", startedDaysAgo: 400, plan: "pro_monthly")
            #expect(pushed.status == .ok && pushed.json["planId"] as? String == "pro_monthly", "\(pushed.text)")
            #expect(pushed.json["startedAt"] as? String != nil)
            _ = try await push("cus_new", startedDaysAgo: 10, plan: "pro_monthly")
            _ = try await push("cus_basic", startedDaysAgo: 400, plan: "basic_monthly")
            for (customer, targeted) in [("cus_old", true), ("cus_new", false), ("cus_basic", false)] {
                let browser = try await Self.start(client, ctx, customer)
                #expect(try await browser.get("/flow").text.contains("Too expensive after all this time") == targeted, "\(customer)")
            }
            let bad = try await client.execute(
                uri: "/v1/customers/cus_old/subscriptions/sub_cus_old", method: .put, headers: ctx.headers(),
                body: jsonBody(["status": "active", "startedAt": "last spring"]))
            #expect(bad.status == .badRequest && (bad.json["error"] as? [String: Any])?["param"] as? String == "startedAt")
        }
    }

    /// Click-to-cancel: the landing page carries the cancel button, one click cancels, and the
    /// only offer is shown beside the cancel button, without a survey first.
    @Test(arguments: TestEngine.allCases)
    func clickToCancelCancelsFromTheFirstPage(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            var quick = Self.monthly
            quick["clickToCancel"] = true
            quick["fallbackOffer"] = "discount"
            _ = try await Self.publish(client, ctx, quick)
            try await Self.seed(ctx, "cus_month", interval: .month)

            // Landing page, one click: cancelled.
            let minted = try await client.mint(ctx, customer: "cus_month")
            let token = try #require(minted.json["token"] as? String)
            let browser = TestBrowser(client, host: "cancel.test")
            let landing = try await browser.get("/cancel/\(token)")
            #expect(landing.text.contains(#"name="intent" value="cancel""#) && landing.text.contains("Cancel my subscription"))
            let cancelled = try await browser.post("/cancel/\(token)", ["intent": "cancel"])
            #expect(cancelled.status == .seeOther)
            #expect(try await CancelFlowTests.session(ctx, browser)?.outcome == .canceled)
            #expect(try await browser.get("/flow").text.contains("Your subscription is cancelled"))

            // "See my options first": the confirm page, with the one offer beside it.
            try await Self.seed(ctx, "cus_two", interval: .month)
            let options = try await Self.start(client, ctx, "cus_two")
            let page = try await options.get("/flow").text
            #expect(page.contains("Confirm cancellation") && page.contains("30% off") && !page.contains("Why are you leaving?"))
            #expect(try await options.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            #expect(try await CancelFlowTests.session(ctx, options)?.outcome == .discounted)

            // A flow that is not click-to-cancel keeps its steps: the intent does nothing more.
            try await Self.seed(ctx, "cus_year", interval: .year)
            let yearly = try await client.mint(ctx, customer: "cus_year")
            let yearlyToken = try #require(yearly.json["token"] as? String)
            let other = TestBrowser(client, host: "cancel.test")
            #expect(!(try await other.get("/cancel/\(yearlyToken)").text.contains(#"value="cancel""#)))
            _ = try await other.post("/cancel/\(yearlyToken)", ["intent": "cancel"])
            #expect(try await CancelFlowTests.session(ctx, other)?.outcome == nil)
            #expect(try await other.get("/flow").text.contains("Why are you leaving?"))
        }
    }

    /// Two survey wordings under test: each customer always sees the same one, and both are seen.
    @Test(arguments: TestEngine.allCases)
    func variantsAreStickyPerCustomer(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            var tested = Self.monthly
            tested["variants"] = [
                ["key": "a", "weight": 50, "survey": ["question": "Why are you leaving?", "reasons": [Self.reason("too_expensive", "Wording A")]]],
                ["key": "b", "weight": 50, "survey": ["question": "Why are you leaving?", "reasons": [Self.reason("too_expensive", "Wording B")]]],
            ]
            _ = try await Self.publish(client, ctx, tested)
            var seen: [String: String] = [:]
            for index in 0..<12 {
                let customer = "cus_\(index)"
                try await Self.seed(ctx, customer, interval: .month)
                for _ in 0..<2 {
                    let browser = try await Self.start(client, ctx, customer)
                    let text = try await browser.get("/flow").text
                    let wording = text.contains("Wording A") ? "a" : (text.contains("Wording B") ? "b" : "none")
                    #expect(seen[customer] == nil || seen[customer] == wording, "\(customer) saw both")
                    seen[customer] = wording
                    #expect(try await CancelFlowTests.session(ctx, browser)?.run?.variant == wording)
                }
            }
            #expect(Set(seen.values) == ["a", "b"], "both variants are shown (\(seen))")

            // Each customer's last session ends: the outcomes page counts them per variant.
            var expected: [String: (sessions: Int, saves: Int)] = [:]
            for index in 0..<12 {
                let customer = "cus_\(index)"
                let browser = try await Self.start(client, ctx, customer)
                _ = try await browser.get("/flow")
                let keep = index.isMultiple(of: 3)
                _ = try await browser.post(keep ? "/flow/keep" : "/flow/survey", ["reason": "too_expensive"])
                if !keep { #expect(try await browser.post("/flow/confirm").status == .seeOther) }
                let variant = seen[customer] ?? ""
                expected[variant, default: (0, 0)].sessions += 1
                if keep { expected[variant, default: (0, 0)].saves += 1 }
            }
            let admin = TestBrowser(client, host: "cancel.test")
            try await DashboardTests.account(ctx, email: "ann@example.com", role: .admin)
            #expect(try await DashboardTests.signIn(admin, "ann@example.com").status == .seeOther)
            let page = try await admin.get("/dashboard/test/outcomes?days=7").text
            #expect(page.contains("A/B tests") && page.contains("95 % interval (Wilson)"))
            for (variant, counts) in expected {
                #expect(page.contains("<tr><td>\(variant)</td><td>\(counts.sessions)</td><td>\(counts.saves)</td>"), "\(variant): \(counts)")
            }
            #expect(page.contains("Not yet significant"))
        }
    }
}
