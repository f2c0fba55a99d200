import CancelflowApp
import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Configuration
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import SQLKit
import Testing

/// Email verification through the hosted pages, with codes read from the real messages a real
/// SMTP server (aiosmtpd) received, on SQLite and on PostgreSQL.
@Suite struct EmailVerificationTests {
    static let known = "cus_abc123@example.com"
    static let unknown = "nobody@example.com"

    static func config(smtp sink: SMTPSink?, _ extra: [String: ConfigContent] = [:]) -> [String: ConfigContent] {
        var values: [String: ConfigContent] = ["trustProxy": .bool(true), "mailFrom": .string("codes@cancel.test")]
        if let sink { values["smtpUrl"] = .string("smtp://127.0.0.1:\(sink.port)") }
        values.merge(extra) { $1 }
        return values
    }

    static func appID(_ ctx: TestContext, _ mode: Mode) -> String {
        mode == .test ? ctx.test.appId : ctx.live.appId
    }

    /// Opens `/verify` in a browser and submits an address.
    static func requestCode(
        _ client: any TestClientProtocol, _ ctx: TestContext, email: String, mode: Mode = .test, ip: String = "203.0.113.7",
        browser: TestBrowser? = nil
    ) async throws -> (TestBrowser, TestResponse) {
        let browser = browser ?? TestBrowser(client, host: "cancel.test", clientIP: ip)
        let form = try await browser.get("/verify?org=\(Self.appID(ctx, mode))")
        #expect(form.status == .ok, "\(form.text)")
        let response = try await browser.post("/verify", ["email": email, "org": Self.appID(ctx, mode)])
        return (browser, response)
    }

    /// Opens the code page and submits a code.
    static func enter(_ browser: TestBrowser, _ ctx: TestContext, code: String, mode: Mode = .test) async throws -> TestResponse {
        let page = try await browser.get("/verify/code?org=\(Self.appID(ctx, mode))")
        #expect(page.status == .ok, "\(page.text)")
        return try await browser.post("/verify/code", ["code": code, "org": Self.appID(ctx, mode)])
    }

    /// The six-digit code in the newest message the sink received for an address.
    static func code(in sink: SMTPSink, to address: String) -> String? {
        guard let message = sink.messages.last(where: { $0.contains("To: \(address)") }),
            let text = mimePart(message, type: "text/plain"),
            let range = text.range(of: #"\b[0-9]{6}\b"#, options: .regularExpression)
        else { return nil }
        return String(text[range])
    }

    /// A page with the parts that differ per browser (CSRF values) blanked out.
    static func comparable(_ response: TestResponse) -> String {
        response.text.replacingOccurrences(of: #"name="csrf" value="[a-z2-7]+""#, with: "csrf", options: .regularExpression)
    }

    /// Set-Cookie headers without their values.
    static func cookieShapes(_ response: TestResponse) -> [String] {
        response.headers[values: .setCookie].map { cookie in
            // Attribute order is not fixed; what matters is the same attributes.
            cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                .map { $0.hasPrefix("cf_verify=") ? "cf_verify=…" : $0 }.sorted().joined(separator: "; ")
        }
    }

    @Test(arguments: TestEngine.allCases)
    func knownAndUnknownAddressesGetTheSameAnswer(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await withTestApp(engine, configuration: Self.config(smtp: sink)) { client, ctx in
            try await ctx.seedCustomer()
            let (knownBrowser, known) = try await Self.requestCode(client, ctx, email: Self.known)
            let (unknownBrowser, unknown) = try await Self.requestCode(client, ctx, email: Self.unknown)
            #expect(known.status == .seeOther)
            #expect(known.status == unknown.status)
            #expect(known.headers[.location] == "/verify/code?org=\(ctx.test.appId)")
            #expect(known.headers[.location] == unknown.headers[.location])
            #expect(Self.cookieShapes(known) == Self.cookieShapes(unknown))
            #expect(known.headers.map(\.name) == unknown.headers.map(\.name))
            #expect(known.text == unknown.text)
            let knownPage = try await knownBrowser.get("/verify/code?org=\(ctx.test.appId)")
            let unknownPage = try await unknownBrowser.get("/verify/code?org=\(ctx.test.appId)")
            #expect(Self.comparable(knownPage) == Self.comparable(unknownPage))
            #expect(knownPage.text.contains("If that address has a subscription with Acme, we"))
            #expect(knownPage.text.contains("sent it a 6-digit code"))

            // Each address got one email: the customer a code, the stranger a note with none.
            #expect(sink.messages.count == 2)
            let codeMail = try #require(sink.messages.first { $0.contains("To: \(Self.known)") })
            let code = try #require(Self.code(in: sink, to: Self.known))
            #expect(codeMail.contains("From: \"Acme\" <codes@cancel.test>"))
            #expect(codeMail.contains("Subject: \(code) is your Acme verification code"))
            #expect(mimePart(codeMail, type: "text/html")?.contains(code) == true)
            #expect(mimePart(codeMail, type: "text/html")?.contains("#4f46e5") == true, "the brand colour")
            let note = try #require(sink.messages.first { $0.contains("To: \(Self.unknown)") })
            #expect(mimePart(note, type: "text/plain")?.contains("we couldn't find a subscription") == true)
            #expect(Self.code(in: sink, to: Self.unknown) == nil)
            // Nothing readable is stored: no address, no code.
            let rows = try await ctx.services.pool.withConnection { db in
                try await db.raw("SELECT * FROM email_verifications").all()
            }
            #expect(rows.count == 2, "an unknown address stores a row too, so both take the same statements")
            let dump = try await ctx.services.pool.withConnection { db in
                try await db.raw("SELECT address_hash || code_hash || browser_hash AS h FROM email_verifications").all()
                    .map { try $0.decode(column: "h", as: String.self) }.joined()
            }
            #expect(!dump.contains(code) && !dump.contains("example.com"))
        }
    }

    @Test(arguments: TestEngine.allCases)
    func theCodeFromTheEmailStartsTheFlowAndTheWebhookSaysEmail(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await WebhookReceiver.withReceiver { receiver in
            try await withTestApp(engine, configuration: Self.config(smtp: sink, ["allowPrivateWebhooks": .bool(true)])) { client, ctx in
                try await ctx.seedCustomer()
                _ = try await WebhookTests.addEndpoint(client, ctx, url: receiver.url, events: ["cancel_flow.completed"])
                let (browser, requested) = try await Self.requestCode(client, ctx, email: "  CUS_ABC123@Example.com ")
                #expect(requested.status == .seeOther)
                let code = try #require(Self.code(in: sink, to: Self.known), "\(sink.messages)")
                let verifyKey = browser.cookieJar["cf_verify"]
                #expect(verifyKey != nil)
                let entered = try await Self.enter(browser, ctx, code: String(code.prefix(3)) + " " + String(code.suffix(3)))
                #expect(entered.status == .seeOther, "\(entered.text)")
                #expect(entered.headers[.location] == "/flow")
                #expect(browser.cookieJar["cf_session"] != nil)
                #expect(browser.cookieJar["cf_verify"] == nil, "the verification cookie is cleared")

                #expect(try await browser.get("/flow").text.contains("Why are you leaving?"))
                #expect(try await browser.post("/flow/survey", ["reason": "Technical problems"]).status == .seeOther)
                _ = try await browser.get("/flow")
                #expect(try await browser.post("/flow/offer", ["decision": "decline"]).status == .seeOther)
                _ = try await browser.get("/flow")
                #expect(try await browser.post("/flow/confirm").status == .seeOther)
                #expect(try await browser.get("/flow").text.contains("Your subscription is cancelled"))
                let subscription = try await ctx.services.store.subscription(organizationID: ctx.organization.id, mode: .test, id: "sub_xyz789")
                #expect(subscription?.cancelAtPeriodEnd == true)

                // The merchant's endpoint hears how the customer came in.
                let worker = WebhookWorker(services: ctx.services, logger: WebhookTests.quiet)
                let http = WebhookWorker.makeClient()
                try await WebhookTests.drain(worker, http) { !receiver.requests.isEmpty }
                try await http.shutdown()
                let event = try #require(receiver.requests.first?.body)
                #expect(receiver.requests.count == 1)
                #expect(event.contains(#""via":"email""#))
                #expect(event.contains(#""cancelSessionId":null"#))
                #expect(event.contains(#""outcome":"canceled""#))

                // The code worked once: the same cookie and code again are refused.
                let again = TestBrowser(client, host: "cancel.test", clientIP: "203.0.113.7")
                again.setCookie("cf_verify", verifyKey)
                let reused = try await Self.enter(again, ctx, code: code)
                #expect(reused.status == .badRequest)
                #expect(reused.text.contains("This code has expired or was already used."))
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func codesExpireAfterFifteenMinutesAndFiveWrongTriesBurnThem(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await withTestApp(engine, configuration: Self.config(smtp: sink)) { client, ctx in
            try await ctx.seedCustomer()
            let (late, _) = try await Self.requestCode(client, ctx, email: Self.known)
            let lateCode = try #require(Self.code(in: sink, to: Self.known))
            ctx.time.advance(by: 15 * 60)
            let expired = try await Self.enter(late, ctx, code: lateCode)
            #expect(expired.status == .badRequest)
            #expect(expired.text.contains("This code has expired or was already used."))

            let (guesser, _) = try await Self.requestCode(client, ctx, email: Self.known)
            let code = try #require(Self.code(in: sink, to: Self.known))
            let wrong = code == "000000" ? "111111" : "000000"
            for left in [4, 3, 2, 1] {
                let response = try await Self.enter(guesser, ctx, code: wrong)
                #expect(response.status == .badRequest)
                #expect(response.text.contains("You can try \(left) more time\(left == 1 ? "" : "s")."), "\(response.text)")
            }
            #expect(try await Self.enter(guesser, ctx, code: "12ab").text.contains("no longer works"), "malformed input counts as a try")
            let burnt = try await Self.enter(guesser, ctx, code: code)
            #expect(burnt.status == .badRequest)
            #expect(burnt.text.contains("Too many wrong codes: this one no longer works."))
            #expect(guesser.cookieJar["cf_session"] == nil)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aNewRequestReplacesTheOldCode(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await withTestApp(engine, configuration: Self.config(smtp: sink)) { client, ctx in
            try await ctx.seedCustomer()
            let (first, _) = try await Self.requestCode(client, ctx, email: Self.known)
            let firstCode = try #require(Self.code(in: sink, to: Self.known))
            var (second, _) = try await Self.requestCode(client, ctx, email: Self.known)
            var secondCode = try #require(Self.code(in: sink, to: Self.known))
            // One time in a million the new code is the old one; ask once more then.
            if secondCode == firstCode {
                (second, _) = try await Self.requestCode(client, ctx, email: Self.known)
                secondCode = try #require(Self.code(in: sink, to: Self.known))
            }
            try #require(secondCode != firstCode)
            #expect(try await Self.enter(first, ctx, code: firstCode).text.contains("This code has expired or was already used."))
            #expect(try await Self.enter(second, ctx, code: firstCode).text.contains("That code isn"))
            #expect(try await Self.enter(second, ctx, code: secondCode).headers[.location] == "/flow")
        }
    }

    @Test(arguments: TestEngine.allCases)
    func withoutAMailServerTestModeUsesTheMailboxAndLiveModeMasksTheLog(engine: TestEngine) async throws {
        let logs = CapturedLogs()
        try await withTestApp(engine, configuration: Self.config(smtp: nil, ["devMailbox": .bool(true)]), logger: logs.logger()) { client, ctx in
            try await ctx.seedCustomer()
            try await ctx.seedCustomer(mode: .live)
            let (browser, _) = try await Self.requestCode(client, ctx, email: Self.known)
            let codePage = try await browser.get("/verify/code?org=\(ctx.test.appId)")
            let mailboxURL = "/dev/mailbox?org=\(ctx.test.appId)"
            #expect(codePage.text.contains(#"href="\#(mailboxURL)""#))
            let mailbox = try await browser.get(mailboxURL)
            #expect(mailbox.status == .ok)
            let range = try #require(mailbox.text.range(of: #"<strong>[0-9]{6} is your Acme verification code"#, options: .regularExpression))
            let code = String(mailbox.text[range].dropFirst("<strong>".count).prefix(6))
            #expect(try await Self.enter(browser, ctx, code: code).headers[.location] == "/flow")

            // Live mode: nothing on the mailbox page, and the log masks the code and the address.
            let (live, _) = try await Self.requestCode(client, ctx, email: Self.known, mode: .live)
            #expect(!(try await live.get("/verify/code?org=\(ctx.live.appId)")).text.contains("/dev/mailbox"))
            let after = try await browser.get(mailboxURL)
            #expect(after.text.components(separatedBy: "verification code").count == 2, "still only the test message")
            let liveLines = logs.text.split(separator: "\n").filter { $0.contains("a live email was not sent") }
            #expect(liveLines.count == 1)
            let line = String(liveLines.first ?? "")
            #expect(line.contains("subscription: •••••• It works for 15 minutes."))
            #expect(line.range(of: #"\b[0-9]{6}\b"#, options: .regularExpression) == nil, "\(line)")
            #expect(!line.contains(Self.known))
            #expect(!line.contains("Ada"), "nor the customer's name")
            // The mailbox is per organization, test mode only.
            #expect(try await browser.get("/dev/mailbox").status == .notFound)
            #expect(try await browser.get("/dev/mailbox?org=\(ctx.live.appId)").status == .notFound)
            let globex = try await ctx.services.credentials.createOrganization(name: "Globex")
            let theirs = try await browser.get("/dev/mailbox?org=\(globex.test.appId)")
            #expect(theirs.status == .ok)
            #expect(!theirs.text.contains("verification code"), "another organization's mailbox is empty")
        }

        // Off unless asked for when the public URL is not a loopback address.
        try await withTestApp(engine, configuration: Self.config(smtp: nil)) { client, ctx in
            try await ctx.seedCustomer()
            let (browser, _) = try await Self.requestCode(client, ctx, email: Self.known)
            #expect(!(try await browser.get("/verify/code?org=\(ctx.test.appId)")).text.contains("/dev/mailbox"))
            #expect(try await browser.get("/dev/mailbox?org=\(ctx.test.appId)").status == .notFound)
        }

        // With a mail server there is no mailbox page.
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await withTestApp(engine, configuration: Self.config(smtp: sink, ["devMailbox": .bool(true)])) { client, ctx in
            let page = try await TestBrowser(client, host: "cancel.test").get("/dev/mailbox?org=\(ctx.test.appId)")
            #expect(page.status == .notFound)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func liveModeLogsNeverHoldTheAddressOrTheCode(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        let logs = CapturedLogs()
        try await withTestApp(engine, configuration: Self.config(smtp: sink), logger: logs.logger()) { client, ctx in
            try await ctx.seedCustomer(mode: .live)
            let (browser, _) = try await Self.requestCode(client, ctx, email: Self.known, mode: .live)
            let code = try #require(Self.code(in: sink, to: Self.known))
            #expect(try await Self.enter(browser, ctx, code: "000001" == code ? "000002" : "000001", mode: .live).status == .badRequest)
            #expect(try await Self.enter(browser, ctx, code: code, mode: .live).headers[.location] == "/flow")
            #expect(logs.count > 5)
            #expect(!logs.text.contains(code))
            #expect(!logs.text.contains(Self.known) && !logs.text.contains("example.com"))
        }
    }

    @Test(arguments: TestEngine.allCases)
    func theVerifyPageKnowsWhoseItIs(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config(smtp: nil)) { client, ctx in
            let service = TestBrowser(client, host: "cancel.test")
            #expect(try await service.get("/verify").status == .notFound, "the shared host needs ?org=")
            #expect(try await service.get("/verify?org=app_test_nonexistent").status == .notFound)
            #expect(try await TestBrowser(client, host: "evil.test").get("/verify?org=\(ctx.test.appId)").status == .notFound)

            // On the merchant's verified custom domain the page is theirs, in live mode.
            let org = try await ctx.services.credentials.createOrganization(
                name: "Globex", subdomain: "globex", customDomain: "billing.globex.test", billingProvider: .builtin, returnURLAllowlist: []
            )
            _ = try await ctx.services.store.setCustomDomainVerified(organizationID: org.organization.id, verified: true)
            let own = TestBrowser(client, host: "billing.globex.test")
            let page = try await own.get("/verify")
            #expect(page.status == .ok)
            #expect(page.text.contains("Globex"))
            #expect(!page.text.contains(#"name="org""#), "live mode needs no App ID on the merchant's host")
            #expect(try await own.get("/verify?org=\(ctx.test.appId)").status == .notFound, "Acme's App ID on Globex's host")

            // A forged CSRF value is refused, and so is one made for another organization's or
            // mode's page; nothing is sent or stored.
            let visitor = TestBrowser(client, host: "cancel.test")
            #expect(try await visitor.get("/verify?org=\(ctx.test.appId)").status == .ok)
            let genuine = try #require(visitor.csrf)
            let forged = try await visitor.post("/verify", ["email": Self.known, "org": ctx.test.appId], csrf: "forged")
            #expect(forged.status == .forbidden)
            let elsewhere = try await visitor.post("/verify", ["email": Self.known, "org": ctx.live.appId], csrf: genuine)
            #expect(elsewhere.status == .forbidden)
            let stored = try await ctx.services.pool.withConnection { db in
                try await db.raw("SELECT COUNT(*) AS n FROM email_verifications").first()?.decode(column: "n", as: Int.self)
            }
            #expect(stored == 0)
            // A malformed address is refused with the form again.
            let (_, malformed) = try await Self.requestCode(client, ctx, email: "not an address")
            #expect(malformed.status == .badRequest)
            #expect(malformed.text.contains("Enter an email address like name@example.com."))
        }
    }

    /// A provider that cannot answer (here: a Stripe mode with no key) gets every address the
    /// same "try again later", sends nothing, and gives back the address's hit, so an outage uses
    /// up no customer's codes; the organization's hits stay, since they bound the calls made to
    /// the merchant's provider.
    @Test(arguments: TestEngine.allCases)
    func aProviderThatCannotAnswerGetsTheSameAnswerForEveryAddress(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await withTestApp(engine, configuration: Self.config(smtp: sink), billing: .stripe) { client, ctx in
            var answers: [String] = []
            for email in [Self.known, "nobody@example.com"] {
                let (_, posted) = try await Self.requestCode(client, ctx, email: email)
                #expect(posted.status == .badGateway)
                #expect(posted.text.contains("couldn&#39;t check your subscription") || posted.text.contains("couldn't check your subscription"))
                answers.append(posted.text.replacingOccurrences(of: email, with: "ADDRESS"))
            }
            #expect(Set(answers.map { $0.count }).count == 1, "the two answers differ only by the address typed")
            #expect(sink.messages.isEmpty)
            let hits = try await ctx.services.pool.withConnection { db in
                try await db.raw("SELECT bucket, hits FROM rate_limit_counters").all().map {
                    (try $0.decode(column: "bucket", as: String.self), try $0.decode(column: "hits", as: Int.self))
                }
            }
            #expect(hits.filter { $0.0.hasPrefix("verify-address") }.allSatisfy { $0.1 == 0 }, "\(hits)")
            #expect(hits.contains { $0.0.hasPrefix("verify-client") && $0.1 == 2 }, "the client's tries still count")
            #expect(hits.contains { $0.0.hasPrefix("verify-organization") && $0.1 == 2 }, "\(hits)")
        }
    }

    @Test(arguments: TestEngine.allCases)
    func theExpiredScreenLeadsToVerificationForTheLinksOrganizationAndMode(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config(smtp: nil)) { client, ctx in
            try await ctx.seedCustomer()
            let minted = try await client.mint(ctx)
            let token = try #require(minted.json["token"] as? String)
            let id = try #require(minted.json["id"] as? String)
            _ = try await client.execute(uri: "/v1/cancel-sessions/\(id)/revoke", method: .post, headers: ctx.headers())
            let browser = TestBrowser(client, host: "cancel.test", clientIP: "203.0.113.9")
            let expired = try await browser.get("/cancel/\(token)")
            #expect(expired.status == .gone)
            #expect(expired.text.contains(#"href="/verify?org=\#(ctx.test.appId)""#))
            let (_, requested) = try await Self.requestCode(client, ctx, email: Self.known, browser: browser)
            #expect(requested.status == .seeOther)
        }
    }
}
