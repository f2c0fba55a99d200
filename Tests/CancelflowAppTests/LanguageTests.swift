import CancelflowAPI
import CancelflowCore
import CancelflowTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Testing

@testable import CancelflowApp

/// The customer's language: the link's `locale`, else the browser's, else the organization's
/// default, on every hosted page, the verification pages and every email; and the merchant's
/// own wording per language from the dashboard.
@Suite struct LanguageTests {
    static let quiet = Logger(label: "languages", factory: { _ in SwiftLogNoOpLogHandler() })

    static func phrases(_ tag: String, brand: String = "Test Org") -> Phrases {
        Phrases(PageLocale.supported(tag)!, brand: brand)
    }

    /// A phrase as the page's HTML carries it (Mustache escapes these five).
    static func html(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }

    static func contains(_ response: TestResponse, _ phrase: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.text.contains(Self.html(phrase)), "no “\(phrase)” in \(response.text.prefix(1500))", sourceLocation: sourceLocation)
    }

    @Test(arguments: TestEngine.allCases)
    func aFrenchCustomerWalksTheFlowInFrenchAndGetsAFrenchConfirmation(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await withTestApp(engine, configuration: EmailVerificationTests.config(smtp: sink)) { client, ctx in
            try await ctx.seedCustomer()
            let fr = Self.phrases("fr", brand: ctx.organization.name)
            let minted = try await client.mint(ctx, extra: ["locale": "fr"])
            let token = try #require(minted.json["token"] as? String, "\(minted.text)")
            // The browser asks for English; the link's language wins.
            let browser = TestBrowser(client, host: "cancel.test", language: "en-US,en;q=0.9")
            let landing = try await browser.get("/cancel/\(token)")
            #expect(landing.text.contains(#"<html lang="fr">"#) && landing.headers[.contentLanguage] == "fr")
            Self.contains(landing, fr("landing.heading.named", ["name": "Ada"]))
            Self.contains(landing, fr("landing.continue"))
            Self.contains(landing, fr("subscription.price.month", ["price": fr.money(1200, currency: "usd")]))
            #expect(!landing.text.contains("Sorry to see you go"))
            #expect(try await browser.post("/cancel/\(token)").status == .seeOther)

            let survey = try await browser.get("/flow")
            Self.contains(survey, fr("survey.question"))
            Self.contains(survey, "C’est trop cher")
            Self.contains(survey, fr("survey.optional"))
            // A refused answer is explained in French too.
            let refused = try await browser.post("/flow/survey", ["reason": "nope"])
            #expect(refused.status == .badRequest)
            Self.contains(refused, fr("error.reason_invalid"))
            #expect(try await browser.post("/flow/survey", ["reason": "reason_1"]).status == .seeOther)
            let offer = try await browser.get("/flow")
            Self.contains(offer, fr.plural("offer.discount.headline", count: 3, ["percent": "20"]))
            Self.contains(offer, fr("offer.decline"))
            #expect(try await browser.post("/flow/offer", ["decision": "decline"]).status == .seeOther)
            let confirm = try await browser.get("/flow")
            Self.contains(confirm, fr("confirm.end.plan", ["plan": "Pro"]))
            #expect(try await browser.post("/flow/confirm").status == .seeOther)
            let done = try await browser.get("/flow")
            Self.contains(done, fr("done.canceled.heading"))
            let session = try #require(try await CancelFlowTests.session(ctx, browser))
            #expect(session.locale == "fr")
            let reference = FlowConfirmation.reference(sessionID: session.id)
            Self.contains(done, fr("done.confirmation.sent", ["email": "c•••@example.com", "reference": reference]))

            let sender = try ConfirmationSender(services: ctx.services, logger: Self.quiet)
            #expect(try await sender.runOnce() == 1)
            let message = try #require(sink.messages.last { $0.contains("To: cus_abc123@example.com") })
            #expect(mimeSubject(message) == fr("email.canceled.subject"), "\(String(describing: mimeSubject(message)))")
            let text = try #require(mimePart(message, type: "text/plain"))
            #expect(text.contains(fr("email.hi", ["name": "Ada"])) && text.contains(fr("email.reference", ["reference": reference])), "\(text)")
            #expect(text.contains(fr.day(ctx.time.now())), "\(text)")
            #expect(mimePart(message, type: "text/html")?.contains(#"<html lang="fr">"#) == true)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func withoutALinkLocaleTheBrowserThenTheOrganizationDecides(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: CancelFlowTests.config) { client, ctx in
            try await ctx.seedCustomer()
            let de = Self.phrases("de-DE", brand: ctx.organization.name)
            let es = Self.phrases("es", brand: ctx.organization.name)
            let en = Self.phrases("en", brand: ctx.organization.name)

            // The browser's first language we speak; its region shapes the prices.
            let german = TestBrowser(client, host: "cancel.test", language: "it-IT, de-DE;q=0.8, en;q=0.5")
            let token = try #require(try await client.mint(ctx).json["token"] as? String)
            let landing = try await german.get("/cancel/\(token)")
            #expect(landing.headers[.contentLanguage] == "de-DE")
            Self.contains(landing, de("landing.heading.named", ["name": "Ada"]))
            // The session keeps the language it began in, whatever the next request asks for.
            #expect(try await german.post("/cancel/\(token)").status == .seeOther)
            #expect(try await CancelFlowTests.session(ctx, german)?.locale == "de-DE")
            Self.contains(try await german.send("/flow", method: .get, body: nil, headers: [.acceptLanguage: "fr"]), de("survey.question"))

            // A browser we cannot serve gets the organization's default, else English.
            let italian = TestBrowser(client, host: "cancel.test", language: "it")
            let plain = try await italian.get("/cancel/\(try #require(try await client.mint(ctx).json["token"] as? String))")
            Self.contains(plain, en("landing.heading.named", ["name": "Ada"]))
            _ = try await ctx.services.organizations.updateFlowSettings(organizationID: ctx.organization.id, .init(defaultLocale: "es"))
            let spanish = try await italian.get("/cancel/\(try #require(try await client.mint(ctx).json["token"] as? String))")
            Self.contains(spanish, es("landing.heading.named", ["name": "Ada"]))

            // A used link's page speaks the browser's language too.
            let used = try await TestBrowser(client, host: "cancel.test", language: "de").get("/cancel/\(token)")
            Self.contains(used, de("expired.title"))
            let unknown = try await german.get("/cancel/cl_unknown")
            Self.contains(unknown, de("expired.message"))
        }
    }

    @Test(arguments: TestEngine.allCases)
    func theVerificationPagesAndEmailsSpeakTheBrowsersLanguage(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await withTestApp(engine, configuration: EmailVerificationTests.config(smtp: sink)) { client, ctx in
            try await ctx.seedCustomer()
            let es = Self.phrases("es", brand: ctx.organization.name)
            let browser = TestBrowser(client, host: "cancel.test", clientIP: "203.0.113.9", language: "es-ES,es;q=0.9")
            let form = try await browser.get("/verify?org=\(ctx.test.appId)")
            Self.contains(form, es("verify.intro"))
            let invalid = try await browser.post("/verify", ["email": "not an address", "org": ctx.test.appId])
            Self.contains(invalid, es("verify.email_invalid"))
            _ = try await browser.post("/verify", ["email": EmailVerificationTests.known, "org": ctx.test.appId])
            let message = try #require(sink.messages.last { $0.contains("To: \(EmailVerificationTests.known)") })
            let code = try #require(EmailVerificationTests.code(in: sink, to: EmailVerificationTests.known))
            #expect(mimeSubject(message) == es("email.code.subject", ["code": code]))
            #expect(mimePart(message, type: "text/plain")?.contains(es("email.code.validity")) == true)
            let page = try await browser.get("/verify/code?org=\(ctx.test.appId)")
            Self.contains(page, es("code.intro"))
            let wrong = try await browser.post("/verify/code", ["code": code == "000000" ? "111111" : "000000", "org": ctx.test.appId])
            Self.contains(wrong, es.plural("code.wrong", count: VerificationService.maximumAttempts - 1))
            _ = try await browser.get("/verify/code?org=\(ctx.test.appId)")
            #expect(try await browser.post("/verify/code", ["code": code, "org": ctx.test.appId]).status == .seeOther)
            // The session begun here speaks Spanish, whatever browser comes next.
            #expect(try await CancelFlowTests.session(ctx, browser)?.locale == "es-ES")
            Self.contains(try await browser.get("/flow"), es("survey.question"))
        }
    }

    @Test(arguments: TestEngine.allCases)
    func theMerchantsWordsReplaceOursInTheirLanguageOnly(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: CancelFlowTests.config) { client, ctx in
            try await ctx.seedCustomer()
            let browser = try await DashboardTests.signedIn(client, ctx, email: "owner@example.com", role: .owner)
            let page = try await browser.get("/dashboard/test/hosted/texts?lang=fr")
            #expect(page.status == .ok)
            Self.contains(page, Catalogue.table("fr")["landing.title"]!)
            let saved = try await browser.post(
                "/dashboard/test/hosted/texts", ["lang": "fr", "group": "pages", "landing.title": "Partir de chez {brand}", "page.keep": ""])
            #expect(saved.status == .seeOther, "\(saved.text)")
            // A placeholder the phrase does not have is refused, and nothing is stored.
            _ = try await browser.get("/dashboard/test/hosted/texts?lang=fr")
            let refused = try await browser.post("/dashboard/test/hosted/texts", ["lang": "fr", "group": "pages", "landing.intro": "Bye {plan}"])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("{plan} is not a placeholder of landing.intro"), "\(refused.text.prefix(2000))")
            let settings = try await ctx.services.organizations.flowSettings(organizationID: ctx.organization.id)
            #expect(settings.texts == ["fr": ["landing.title": "Partir de chez {brand}"]])

            let french = TestBrowser(client, host: "cancel.test", language: "fr")
            let landing = try await french.get("/cancel/\(try #require(try await client.mint(ctx).json["token"] as? String))")
            #expect(landing.text.contains("<title>Partir de chez \(Self.html(ctx.organization.name))"), "\(landing.text.prefix(400))")
            let english = try await TestBrowser(client, host: "cancel.test").get(
                "/cancel/\(try #require(try await client.mint(ctx).json["token"] as? String))")
            #expect(english.text.contains("<title>\(Catalogue.table("en")["landing.title"]!)"), "\(english.text.prefix(400))")

            // A flow's own wording beats the organization's, for that flow's customers.
            let flows = try await client.execute(uri: "/v1/flows", method: .get, headers: ctx.headers(json: false))
            let id = try #require(((flows.json["data"] as? [[String: Any]])?.first)?["id"] as? String)
            var document = try #require(
                (((flows.json["data"] as? [[String: Any]])?.first)?["published"] as? [String: Any])?["document"] as? [String: Any])
            // Emails take the organization's wording only: a flow may not reword them.
            document["texts"] = ["fr": ["email.hi": "Salut {name}"]]
            let emailWording = try await client.execute(uri: "/v1/flows/\(id)/draft", method: .put, headers: ctx.headers(), body: jsonBody(document))
            #expect(emailWording.status == .badRequest && emailWording.text.contains("texts.fr.email.hi"), "\(emailWording.text)")
            document["texts"] = ["fr": ["survey.intro": "Un mot pour {brand} ?"]]
            let draft = try await client.execute(uri: "/v1/flows/\(id)/draft", method: .put, headers: ctx.headers(), body: jsonBody(document))
            #expect(draft.status == .ok, "\(draft.text)")
            #expect(try await client.execute(uri: "/v1/flows/\(id)/publish", method: .post, headers: ctx.headers(.live, json: false)).status == .ok)
            let walker = TestBrowser(client, host: "cancel.test", language: "fr")
            try await walker.openFlow(token: try #require(try await client.mint(ctx).json["token"] as? String))
            Self.contains(try await walker.get("/flow"), "Un mot pour \(ctx.organization.name) ?")

            // The settings form sets the default language and the click-to-cancel switch.
            _ = try await browser.get("/dashboard/test/hosted/setup")
            let form: [String: String] = [
                "name": ctx.organization.name, "sessionLinkExpiration": "86400", "brandColor": "#4f46e5",
                "surveyReasons": FlowSettings.defaultReasons.joined(separator: "\n"), "offer": "discount:20:3", "cancelTiming": "period_end",
                "defaultLocale": "de", "clickToCancel": "1",
            ]
            #expect(try await browser.post("/dashboard/test/hosted/setup", form).status == .seeOther)
            let after = try await ctx.services.organizations.flowSettings(organizationID: ctx.organization.id)
            #expect(after.defaultLocale == "de" && after.clickToCancel && after.texts.count == 1)
            let oneClick = try await TestBrowser(client, host: "cancel.test").get(
                "/cancel/\(try #require(try await client.mint(ctx).json["token"] as? String))")
            Self.contains(oneClick, Self.phrases("de")("landing.cancel"))
            #expect(oneClick.text.contains(#"value="cancel""#))
        }
    }

    /// Every `{{t.…}}` a template names is a phrase: a typo would render as nothing.
    @Test func everyPhraseATemplateNamesExists() throws {
        let pattern = try Regex(#"\{\{t\.([a-z0-9_.]+)\}\}"#)
        var named = Set<String>()
        for (name, text) in Templates.all {
            for match in text.matches(of: pattern) {
                let key = String(text[match.range].dropFirst(4).dropLast(2))
                named.insert(key)
                #expect(Catalogue.keys.contains(key), "\(name) names \(key)")
            }
        }
        #expect(named.count > 40, "\(named.count)")
    }

    /// No template but the developer's mailbox carries words of its own: with its tags and
    /// `{{…}}` taken out, only punctuation is left, so nothing reaches a French customer in English.
    @Test func noTemplateHoldsWordsOutsideThePhrases() throws {
        let tags = try Regex(#"<[^>]*>"#)
        let mustache = try Regex(#"\{\{[^}]*\}\}"#)
        for (name, text) in Templates.all where name != "mailbox" {
            let bare = text.replacing(mustache, with: " ").replacing(tags, with: " ")
            let words = bare.split(whereSeparator: { !$0.isLetter }).filter { !$0.isEmpty }
            #expect(words.isEmpty, "\(name) has its own words: \(words.prefix(10))")
        }
    }
}
