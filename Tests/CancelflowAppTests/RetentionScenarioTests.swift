import CancelflowApp
import CancelflowCore
import CancelflowTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Testing

/// Issue 16's "done means", end to end through the API, the hosted pages, the mail path and the
/// dashboard: two flows (monthly customers get a discount for "too expensive", yearly ones a
/// plan change), an A/B test of two survey wordings with its results, and a French customer who
/// walks the flow in French and receives a French confirmation.
@Suite struct RetentionScenarioTests {
    static func reason(_ id: String, _ label: Any, offer: String) -> [String: Any] {
        ["id": id, "label": label, "offer": offer]
    }

    @Test(arguments: TestEngine.allCases)
    func twoFlowsAnABTestAndAFrenchCustomer(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await withTestApp(engine, configuration: EmailVerificationTests.config(smtp: sink, TargetedFlowsTests.config)) { client, ctx in
            let expensive: [String: String] = ["en": "Too expensive", "fr": "Trop cher"]
            let monthly: [String: Any] = [
                "name": "Monthly", "targeting": ["intervals": ["month"]],
                "survey": ["reasons": [Self.reason("too_expensive", expensive, offer: "discount"), Self.reason("other", "Other", offer: "none")]],
                "offers": [["id": "discount", "type": "discount", "percent": 30, "months": 3]],
                "variants": [
                    [
                        "key": "a", "weight": 50,
                        "survey": ["question": "Why are you leaving?", "reasons": [Self.reason("too_expensive", expensive, offer: "discount")]],
                    ],
                    [
                        "key": "b", "weight": 50,
                        "survey": [
                            "question": ["en": "What made you decide to leave?", "fr": "Qu’est-ce qui vous décide à partir ?"],
                            "reasons": [Self.reason("too_expensive", expensive, offer: "discount")],
                        ],
                    ],
                ],
            ]
            let yearly: [String: Any] = [
                "name": "Yearly", "targeting": ["intervals": ["year"]],
                "survey": ["reasons": [Self.reason("too_expensive", expensive, offer: "cheaper")]],
                "offers": [
                    ["id": "cheaper", "type": "plan_change", "plans": [["id": "lite_yearly", "name": "Lite", "amount": 600, "currency": "usd"]]]
                ],
            ]
            let monthlyID = try await TargetedFlowsTests.publish(client, ctx, monthly)
            let yearlyID = try await TargetedFlowsTests.publish(client, ctx, yearly)

            // A yearly customer is offered the cheaper plan, and takes it.
            try await TargetedFlowsTests.seed(ctx, "cus_yearly", interval: .year)
            let annual = try await TargetedFlowsTests.start(client, ctx, "cus_yearly")
            _ = try await annual.get("/flow")
            #expect(try await annual.post("/flow/survey", ["reason": "too_expensive"]).status == .seeOther)
            #expect(try await annual.get("/flow").text.contains("Switch to Lite"))
            #expect(try await annual.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            let annualSession = try #require(try await CancelFlowTests.session(ctx, annual))
            #expect(annualSession.outcome == .planChanged && annualSession.run?.flowID == yearlyID)
            #expect(
                try await ctx.services.store.subscription(organizationID: ctx.organization.id, mode: .test, id: "sub_cus_yearly")?.planID
                    == "lite_yearly")

            // Monthly customers split between the two wordings; some keep, some cancel.
            for index in 0..<10 {
                let customer = "cus_m\(index)"
                try await TargetedFlowsTests.seed(ctx, customer, interval: .month)
                let browser = try await TargetedFlowsTests.start(client, ctx, customer)
                let survey = try await browser.get("/flow").text
                #expect(survey.contains("Why are you leaving?") || survey.contains("What made you decide to leave?"))
                if index.isMultiple(of: 2) {
                    _ = try await browser.post("/flow/keep")
                } else {
                    _ = try await browser.post("/flow/survey", ["reason": "too_expensive"])
                    _ = try await browser.post("/flow/offer", ["decision": "decline"])
                    #expect(try await browser.post("/flow/confirm").status == .seeOther)
                }
                #expect(try await CancelFlowTests.session(ctx, browser)?.run?.flowID == monthlyID)
            }

            // A French monthly customer: every page in French, the discount, a French email.
            try await TargetedFlowsTests.seed(ctx, "cus_fr", interval: .month)
            let fr = Phrases(PageLocale.supported("fr")!, brand: ctx.organization.name)
            let french = try await TargetedFlowsTests.start(client, ctx, "cus_fr", extra: ["locale": "fr"])
            let survey = try await french.get("/flow").text
            #expect(survey.contains(#"<html lang="fr">"#) && survey.contains("Trop cher"), "\(survey)")
            #expect(try await french.post("/flow/survey", ["reason": "too_expensive"]).status == .seeOther)
            let offer = try await french.get("/flow").text
            #expect(offer.contains(LanguageTests.html(fr.plural("offer.discount.headline", count: 3, ["percent": "30"]))), "\(offer)")
            #expect(try await french.post("/flow/offer", ["decision": "accept"]).status == .seeOther)
            #expect(try await french.get("/flow").text.contains(LanguageTests.html(fr("done.discounted.heading"))))
            let sender = try ConfirmationSender(services: ctx.services, logger: LanguageTests.quiet)
            _ = try await sender.runOnce()
            let email = try #require(sink.messages.last { $0.contains("To: cus_fr@example.com") })
            #expect(mimeSubject(email) == fr("email.discounted.subject"))
            let text = try #require(mimePart(email, type: "text/plain"))
            #expect(text.contains("30\u{00A0}%") && text.contains(fr("email.hi", ["name": "Ada"])), "\(text)")

            // The merchant sees the test's results per wording.
            try await DashboardTests.account(ctx, email: "owner@example.com", role: .owner)
            let admin = TestBrowser(client, host: "cancel.test")
            #expect(try await DashboardTests.signIn(admin, "owner@example.com").status == .seeOther)
            let page = try await admin.get("/dashboard/test/outcomes?days=7").text
            #expect(page.contains("A/B tests") && page.contains("Monthly"), "\(page)")
            #expect(page.contains("<tr><td>a</td>") && page.contains("<tr><td>b</td>"), "\(page)")
            #expect(page.contains("Not yet significant"))
        }
    }
}
