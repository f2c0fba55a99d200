import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Configuration
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing

/// The dashboard through the router: signing in, sessions, CSRF, roles, organizations and
/// modes kept apart, and Generate Cancel Link. Passwords are hashed at bcrypt's lowest cost
/// here, so the suite stays fast; the browser walk runs the real default.
@Suite struct DashboardTests {
    static let config: [String: ConfigContent] = ["passwordHashCost": .int(4), "pagePostLimit": .int(10_000)]
    static let password = "correct-horse-battery"

    /// An account of the test organization (or another), created through its set-up link.
    @discardableResult
    static func account(
        _ ctx: TestContext, email: String, role: DashboardRole, organizationID: String? = nil, password: String = Self.password
    ) async throws -> DashboardUser {
        let auth = ctx.services.dashboardAuth
        let token = try await auth.invite(organizationID: organizationID ?? ctx.organization.id, email: email, role: role, by: .commandLine)
        return try await auth.redeem(token: token, email: nil, name: nil, password: password)
    }

    /// Signs a browser in with the sign-in form; returns the last response.
    @discardableResult
    static func signIn(_ browser: TestBrowser, _ email: String, password: String = Self.password) async throws -> TestResponse {
        let page = try await browser.get("/dashboard/login")
        #expect(page.status == .ok)
        return try await browser.post("/dashboard/login", ["email": email, "password": password])
    }

    static func signedIn(_ client: any TestClientProtocol, _ ctx: TestContext, email: String, role: DashboardRole) async throws -> TestBrowser {
        try await Self.account(ctx, email: email, role: role)
        let browser = TestBrowser(client)
        let response = try await Self.signIn(browser, email)
        #expect(response.status == .seeOther, "\(response.text)")
        return browser
    }

    static func count(_ ctx: TestContext, _ sql: String) async throws -> Int {
        try await ctx.services.pool.withConnection { db in
            try await db.raw(SQLQueryString(sql)).first()?.decode(column: "n", as: Int.self) ?? -1
        }
    }

    static func first(_ pattern: String, in text: String) -> String? {
        text.range(of: pattern, options: .regularExpression).map { String(text[$0]) }
    }

    /// A field's value in the last page (the first input with that name).
    static func field(_ page: String, _ name: String) -> String? {
        guard let range = page.range(of: #"name="\#(name)" value="([^"]*)""#, options: .regularExpression) else { return nil }
        return page[range].split(separator: "\"").dropFirst(3).first.map(String.init)
    }

    // MARK: - Set-up and sign-in

    @Test(arguments: TestEngine.allCases)
    func theFirstOwnerSetsUpTheirAccountFromTheLinkAndSignsIn(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let token = try await ctx.services.dashboardAuth.firstOwnerLink(organizationID: ctx.organization.id)
            let browser = TestBrowser(client)
            // Opening the link (as a mail scanner would, twice) does not use it up.
            #expect(try await browser.get("/dashboard/setup/\(token)").status == .ok)
            let page = try await browser.get("/dashboard/setup/\(token)")
            #expect(page.text.contains("name=\"email\""))
            // A password that is too short is refused, and the link still works afterwards.
            let short = try await browser.post("/dashboard/setup/\(token)", ["email": "Olive@Example.com", "password": "short"])
            #expect(short.status == .unprocessableContent)
            #expect(short.text.contains("at least 10 characters"))
            let done = try await browser.post(
                "/dashboard/setup/\(token)", ["email": "Olive@Example.com", "name": "Olive", "password": Self.password])
            #expect(done.status == .seeOther)
            #expect(done.headers[.location] == "/dashboard/login?welcome=1")
            // Used up: a second submission or visit finds nothing.
            #expect(try await browser.get("/dashboard/setup/\(token)").status == .gone)
            #expect(try await ctx.services.store.dashboardUser(email: "olive@example.com")?.role == .owner)
            let signIn = try await Self.signIn(browser, "olive@example.com")
            #expect(signIn.status == .seeOther)
            #expect(signIn.headers[.location] == "/dashboard/test/customers")
            let cookie = try #require(signIn.headers[values: .setCookie].first { $0.hasPrefix("cf_dash=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/dashboard"))
            // The test configuration's public URL is https: the cookie is Secure.
            #expect(cookie.contains("Secure"))
            let customers = try await browser.get("/dashboard/test/customers")
            #expect(customers.status == .ok)
            #expect(customers.text.contains("Test mode"))
            #expect(customers.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(customers.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            // Only the hash of the session key is stored.
            let key = try #require(browser.cookieJar["cf_dash"])
            #expect(try await Self.count(ctx, "SELECT COUNT(*) AS n FROM dashboard_sessions WHERE key_hash = '\(Hex.sha256(key))'") == 1)
            #expect(try await Self.count(ctx, "SELECT COUNT(*) AS n FROM dashboard_sessions WHERE key_hash = '\(key)'") == 0)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func signInAnswersTheSameForAWrongPasswordAndAnUnknownAddressAndLimitsFailures(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.account(ctx, email: "sam@example.com", role: .support)
            let browser = TestBrowser(client)
            let wrong = try await Self.signIn(browser, "sam@example.com", password: "not-the-password")
            let unknown = try await Self.signIn(browser, "nobody@example.com", password: "not-the-password")
            #expect(wrong.status == .unauthorized)
            #expect(unknown.status == .unauthorized)
            let message = "The email address or password is wrong."
            #expect(wrong.text.contains(message) && unknown.text.contains(message))
            #expect(browser.cookieJar["cf_dash"] == nil)
            // Ten failures per address an hour (the first was above); then even the right password waits.
            for _ in 0..<9 { _ = try await Self.signIn(browser, "sam@example.com", password: "not-the-password") }
            let limited = try await Self.signIn(browser, "sam@example.com")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
            // Another address from the same client is not locked out by it…
            try await Self.account(ctx, email: "ann@example.com", role: .admin)
            #expect(try await Self.signIn(browser, "ann@example.com").status == .seeOther)
            // …and an hour later the address can sign in again.
            ctx.time.advance(by: 3600)
            #expect(try await Self.signIn(TestBrowser(client), "sam@example.com").status == .seeOther)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func everyFormIsRefusedWithoutItsCSRFValue(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            try await Self.account(ctx, email: "olive@example.com", role: .owner)
            let browser = TestBrowser(client)
            _ = try await browser.get("/dashboard/login")
            // Sign-in itself (login CSRF): a value for another nonce, or none, is refused.
            let forged = try await browser.post(
                "/dashboard/login", ["email": "olive@example.com", "password": Self.password], csrf: "a" + String(repeating: "b", count: 31))
            #expect(forged.status == .forbidden)
            #expect(browser.cookieJar["cf_dash"] == nil)
            #expect(try await Self.signIn(browser, "olive@example.com").status == .seeOther)
            let page = try await browser.get("/dashboard/test/customers/cus_abc123")
            let nonce = try #require(Self.field(page.text, "nonce"))
            let generate = try await browser.post(
                "/dashboard/test/customers/cus_abc123/links", ["expiresIn": "3600", "singleUse": "true", "nonce": nonce], csrf: "wrong")
            #expect(generate.status == .forbidden)
            #expect(try await ctx.linkCount() == 0)
            // A browser's own cross-site form post is refused even with a valid value.
            let logout = try await browser.send(
                "/dashboard/logout", method: .post, body: .init(string: "csrf=\(browser.csrf ?? "")"),
                headers: [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"])
            #expect(logout.status == .forbidden)
            #expect(try await browser.get("/dashboard/test/customers").status == .ok)
        }
    }

    // MARK: - Sessions

    @Test(arguments: TestEngine.allCases)
    func signOutEverywhereEndsEverySessionOfTheAccount(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let first = try await Self.signedIn(client, ctx, email: "olive@example.com", role: .owner)
            let second = TestBrowser(client)
            #expect(try await Self.signIn(second, "olive@example.com").status == .seeOther)
            #expect(try await second.get("/dashboard/test/customers").status == .ok)
            _ = try await first.get("/dashboard/test/account")
            let out = try await first.post("/dashboard/logout-everywhere")
            #expect(out.status == .seeOther)
            let after = try await second.get("/dashboard/test/customers")
            #expect(after.status == .seeOther)
            #expect(after.headers[.location] == "/dashboard/login?next=/dashboard/test/customers")
            #expect(try await Self.count(ctx, "SELECT COUNT(*) AS n FROM dashboard_sessions") == 0)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aSessionEndsAfterTwoIdleHoursAndAfterTwelveHoursWhateverItsUse(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let browser = try await Self.signedIn(client, ctx, email: "olive@example.com", role: .owner)
            ctx.time.advance(by: 3600 + 59 * 60)
            #expect(try await browser.get("/dashboard/test/customers").status == .ok)
            // Kept busy, it still ends twelve hours after sign-in.
            for _ in 0..<9 {
                ctx.time.advance(by: 3600)
                #expect(try await browser.get("/dashboard/test/customers").status == .ok)
            }
            ctx.time.advance(by: 3600 + 60)
            #expect(try await browser.get("/dashboard/test/customers").status == .seeOther)
            let idle = try await Self.signedIn(client, ctx, email: "ann@example.com", role: .admin)
            ctx.time.advance(by: 2 * 3600 + 1)
            #expect(try await idle.get("/dashboard/test/customers").status == .seeOther)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func twoStepSignInAsksForACodeAndAcceptsEachCodeOnce(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let browser = try await Self.signedIn(client, ctx, email: "olive@example.com", role: .owner)
            let setup = try await browser.get("/dashboard/test/account/totp")
            let secret = try #require(Self.field(setup.text, "secret"))
            #expect(setup.text.contains("otpauth://totp/"))
            let wrong = try await browser.post(
                "/dashboard/test/account/totp", ["secret": secret, "code": Self.otherCode(Self.code(secret, ctx.time.now()))])
            #expect(wrong.status == .unprocessableContent)
            let on = try await browser.post("/dashboard/test/account/totp", ["secret": secret, "code": Self.code(secret, ctx.time.now())])
            #expect(on.status == .seeOther)
            #expect(try await ctx.services.store.dashboardUser(email: "olive@example.com")?.hasTOTP == true)
            // The secret is stored sealed, never as typed.
            #expect(try await Self.count(ctx, "SELECT COUNT(*) AS n FROM dashboard_users WHERE totp_sealed LIKE '%\(secret)%'") == 0)

            ctx.time.advance(by: 60)
            let fresh = TestBrowser(client)
            let password = try await Self.signIn(fresh, "olive@example.com")
            #expect(password.headers[.location]?.hasPrefix("/dashboard/login/code") == true)
            // Half-way through, no dashboard page opens.
            #expect(try await fresh.get("/dashboard/test/customers").headers[.location] == "/dashboard/login/code")
            _ = try await fresh.get("/dashboard/login/code")
            let code = Self.code(secret, ctx.time.now())
            let signedIn = try await fresh.post("/dashboard/login/code", ["code": code])
            #expect(signedIn.status == .seeOther)
            #expect(try await fresh.get("/dashboard/test/customers").status == .ok)
            // The same code again, in another browser, within its 30 seconds: refused.
            let replay = TestBrowser(client)
            _ = try await Self.signIn(replay, "olive@example.com")
            _ = try await replay.get("/dashboard/login/code")
            #expect(try await replay.post("/dashboard/login/code", ["code": code]).status == .unauthorized)
            #expect(try await replay.get("/dashboard/test/customers").status == .seeOther)
        }
    }

    /// RFC 6238 with SHA-1, computed here independently of the library the server uses.
    static func code(_ secret: String, _ date: Date) -> String {
        var counter = UInt64(date.timeIntervalSince1970 / 30).bigEndian
        let message = withUnsafeBytes(of: &counter) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8))))
        let offset = Int(mac[19] & 0x0f)
        let value =
            (UInt32(mac[offset] & 0x7f) << 24 | UInt32(mac[offset + 1]) << 16 | UInt32(mac[offset + 2]) << 8 | UInt32(mac[offset + 3])) % 1_000_000
        return String(format: "%06d", value)
    }

    static func otherCode(_ code: String) -> String {
        String(format: "%06d", ((Int(code) ?? 0) + 1) % 1_000_000)
    }

    @Test(arguments: TestEngine.allCases)
    func aPasswordResetAnswersTheSameForEveryAddressAndItsLinkWorksOnce(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.account(ctx, email: "olive@example.com", role: .owner)
            let browser = TestBrowser(client)
            _ = try await browser.get("/dashboard/reset")
            let known = try await browser.post("/dashboard/reset", ["email": "olive@example.com"])
            _ = try await browser.get("/dashboard/reset")
            let unknown = try await browser.post("/dashboard/reset", ["email": "nobody@example.com"])
            #expect(known.status == .ok && unknown.status == .ok)
            #expect(known.text == unknown.text)
            // The link is made after the answer (so that its time says nothing), for the known address only.
            try await waitUntil("the reset link is stored") {
                try await Self.count(ctx, "SELECT COUNT(*) AS n FROM dashboard_setup_links WHERE purpose = 'reset'") == 1
            }
            // The emailed link (made here the way the service makes it) sets a new password once.
            let (user, token) = try #require(try await ctx.services.dashboardAuth.requestReset(email: "olive@example.com", clientIP: "192.0.2.1"))
            #expect(user.email == "olive@example.com")
            _ = try await browser.get("/dashboard/reset/\(token)")
            // A reset link is not a set-up link.
            #expect(try await browser.get("/dashboard/setup/\(token)").status == .gone)
            _ = try await browser.get("/dashboard/reset/\(token)")
            #expect(try await browser.post("/dashboard/reset/\(token)", ["password": "a-brand-new-password"]).status == .seeOther)
            #expect(try await browser.get("/dashboard/reset/\(token)").status == .gone)
            #expect(try await Self.signIn(TestBrowser(client), "olive@example.com").status == .unauthorized)
            #expect(try await Self.signIn(TestBrowser(client), "olive@example.com", password: "a-brand-new-password").status == .seeOther)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func signInOnlyReturnsToADashboardPageOfThisService(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await Self.account(ctx, email: "olive@example.com", role: .owner)
            for next in ["//evil.example/dashboard/", "https://evil.example/", "/dashboard//evil.example", "/\\evil.example", "/kept"] {
                let browser = TestBrowser(client)
                _ = try await browser.get("/dashboard/login")
                let response = try await browser.post("/dashboard/login", ["email": "olive@example.com", "password": Self.password, "next": next])
                #expect(response.headers[.location] == "/dashboard/test/customers", "next=\(next)")
            }
            let browser = TestBrowser(client)
            _ = try await browser.get("/dashboard/login")
            let response = try await browser.post(
                "/dashboard/login", ["email": "olive@example.com", "password": Self.password, "next": "/dashboard/live/customers?q=ada"])
            #expect(response.headers[.location] == "/dashboard/live/customers?q=ada")
        }
    }

    // MARK: - Customers and Generate Cancel Link

    @Test(arguments: TestEngine.allCases)
    func supportGeneratesALinkThroughTheAPIsPathAndSeesItOnTheCustomerPage(engine: TestEngine) async throws {
        let config = Self.config.merging(["allowPrivateWebhooks": .bool(true)]) { $1 }
        try await withTestApp(engine, configuration: config) { client, ctx in
            try await ctx.seedCustomer()
            _ = try await ctx.services.webhooks.createEndpoint(
                organizationID: ctx.organization.id, mode: .test, url: "http://127.0.0.1:9/hook", events: [])
            let browser = try await Self.signedIn(client, ctx, email: "sam@example.com", role: .support)
            let list = try await browser.get("/dashboard/test/customers?q=ada")
            #expect(list.text.contains("/dashboard/test/customers/cus_abc123"))
            // Support sees only customers in its navigation.
            #expect(!list.text.contains("API keys") && !list.text.contains("Webhooks"))
            let page = try await browser.get("/dashboard/test/customers/cus_abc123")
            #expect(page.status == .ok)
            #expect(page.text.contains("Generate Cancel Link"))
            // The six presets, the organization's default (24 hours) chosen.
            for seconds in [3600, 21600, 86400, 259_200, 604_800, 2_592_000] {
                #expect(page.text.contains("value=\"\(seconds)\""))
            }
            #expect(page.text.contains(#"value="86400" checked"#))
            #expect(page.text.contains(#"name="singleUse" id="single" value="true" checked"#))
            let nonce = try #require(Self.field(page.text, "nonce"))
            let created = try await browser.post(
                "/dashboard/test/customers/cus_abc123/links",
                ["expiresIn": "3600", "singleUse": "true", "nonce": nonce, "subscriptionId": "sub_xyz789"])
            #expect(created.status == .created)
            let url = try #require(
                created.text.range(of: #"https://cancel\.test/cancel/cl_[a-z0-9]+"#, options: .regularExpression).map { String(created.text[$0]) })
            #expect(created.text.contains("data-autocopy"))
            // The same form again (a double click) mints nothing more.
            let again = try await browser.post(
                "/dashboard/test/customers/cus_abc123/links",
                ["expiresIn": "3600", "singleUse": "true", "nonce": nonce, "subscriptionId": "sub_xyz789"])
            #expect(again.status == .conflict)
            #expect(try await ctx.linkCount() == 1)
            let link = try #require(
                try await ctx.services.store.links(
                    organizationID: ctx.organization.id, mode: .test, customerID: "cus_abc123", limit: 5, startingAfter: nil
                ).first)
            let sam = try #require(try await ctx.services.store.dashboardUser(email: "sam@example.com"))
            #expect(link.mintedByUserID == sam.id)
            #expect(link.singleUse)
            #expect(link.subscriptionID == "sub_xyz789")
            #expect(link.expiresAt.timeIntervalSince(ctx.time.now()).rounded() == 3600)
            // The API's own event, queued for the endpoint, and an audit entry without the token.
            #expect(try await Self.count(ctx, "SELECT COUNT(*) AS n FROM events WHERE type = 'cancel_link.created'") == 1)
            #expect(try await Self.count(ctx, "SELECT COUNT(*) AS n FROM webhook_deliveries") == 1)
            let audit = try await ctx.services.audit.entries(
                organizationID: ctx.organization.id, filter: AuditFilter(actionPrefix: "link."), limit: 10, before: nil)
            #expect(audit.map(\.action) == ["link.generated"])
            #expect(audit.first?.actorUserID == sam.id)
            let token = String(url.split(separator: "/").last ?? "")
            #expect(!audit.contains { $0.detail.values.contains { $0.contains(token) } })
            // The customer page lists it, generated by Sam, and lets him revoke it.
            let after = try await browser.get("/dashboard/test/customers/cus_abc123")
            #expect(after.text.contains(link.id))
            #expect(after.text.contains("sam@example.com"))
            #expect(after.text.contains("status-active"))
            let revoked = try await browser.post("/dashboard/test/links/\(link.id)/revoke")
            #expect(revoked.status == .seeOther)
            #expect(try await ctx.services.store.link(organizationID: ctx.organization.id, mode: .test, id: link.id)?.storedStatus == .revoked)
            #expect(try await browser.get("/dashboard/test/customers/cus_abc123").text.contains("status-revoked"))
        }
    }

    @Test(arguments: TestEngine.allCases)
    func generatingRefusesAnExpiryOutsideThePresetsAndWarnsAboutReusableLinks(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let browser = try await Self.signedIn(client, ctx, email: "sam@example.com", role: .support)
            let page = try await browser.get("/dashboard/test/customers/cus_abc123/generate")
            #expect(page.status == .ok)
            #expect(page.text.contains("anyone who gets hold of it"))
            for expiry in ["7200", "31536000", "-3600", "abc", ""] {
                let nonce = try #require(Self.field(try await browser.get("/dashboard/test/customers/cus_abc123/generate").text, "nonce"))
                let refused = try await browser.post("/dashboard/test/customers/cus_abc123/links", ["expiresIn": expiry, "nonce": nonce])
                #expect(refused.status == .badRequest, "expiresIn=\(expiry)")
            }
            #expect(try await ctx.linkCount() == 0)
            let nonce = try #require(Self.field(try await browser.get("/dashboard/test/customers/cus_abc123/generate").text, "nonce"))
            // No singleUse field: the box was unticked.
            let reusable = try await browser.post("/dashboard/test/customers/cus_abc123/links", ["expiresIn": "604800", "nonce": nonce])
            #expect(reusable.status == .created)
            #expect(reusable.text.contains("reusable"))
            let link = try #require(
                try await ctx.services.store.links(organizationID: ctx.organization.id, mode: .test, customerID: nil, limit: 5, startingAfter: nil)
                    .first)
            #expect(!link.singleUse)
            // An unknown customer is the API's customer_not_found, and nothing is minted.
            let other = try #require(Self.field(try await browser.get("/dashboard/test/customers/cus_abc123/generate").text, "nonce"))
            #expect(try await browser.post("/dashboard/test/customers/cus_nobody/links", ["expiresIn": "3600", "nonce": other]).status == .notFound)
            #expect(try await ctx.linkCount() == 1)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func anotherOrganizationsUserAndTheOtherModeFindNothing(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let minted = try await client.mint(ctx)
            let linkID = try #require(minted.json["id"] as? String)
            let other = try await ctx.services.credentials.createOrganization(name: "Globex")
            let stranger = TestBrowser(client)
            try await Self.account(ctx, email: "eve@globex.example", role: .owner, organizationID: other.organization.id)
            #expect(try await Self.signIn(stranger, "eve@globex.example").status == .seeOther)
            #expect(try await stranger.get("/dashboard/test/customers/cus_abc123").status == .notFound)
            #expect(try await stranger.get("/dashboard/test/customers/cus_abc123/generate").status == .notFound)
            let list = try await stranger.get("/dashboard/test/customers")
            #expect(list.status == .ok && !list.text.contains("cus_abc123"))
            _ = try await stranger.get("/dashboard/test/customers")
            #expect(try await stranger.post("/dashboard/test/links/\(linkID)/revoke").status == .notFound)
            #expect(try await ctx.services.store.link(organizationID: ctx.organization.id, mode: .test, id: linkID)?.storedStatus == .active)

            // Acme's own user: the test customer is not in live mode.
            let owner = try await Self.signedIn(client, ctx, email: "olive@example.com", role: .owner)
            #expect(try await owner.get("/dashboard/test/customers/cus_abc123").status == .ok)
            let live = try await owner.get("/dashboard/live/customers/cus_abc123")
            #expect(live.status == .notFound)
            let liveList = try await owner.get("/dashboard/live/customers")
            #expect(!liveList.text.contains("cus_abc123"))
            #expect(!liveList.text.contains("Test mode"))
            _ = try await owner.get("/dashboard/live/customers")
            #expect(try await owner.post("/dashboard/live/links/\(linkID)/revoke").status == .notFound)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func signedOutBrowsersAreSentToSignInAndMerchantHostsDoNotServeTheDashboard(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config.merging(["subdomainBase": .string("cancel.test")]) { $1 }) { client, ctx in
            let browser = TestBrowser(client)
            let page = try await browser.get("/dashboard/test/customers/cus_abc123")
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/dashboard/login?next=/dashboard/test/customers/cus_abc123")
            let post = try await browser.post("/dashboard/test/links/cs_x/revoke")
            #expect(post.status == .seeOther)
            #expect(try await browser.get("/dashboard/assets/dashboard.js").status == .ok)
            _ = ctx
        }
        try await withTestApp(
            engine, configuration: Self.config.merging(["subdomainBase": .string("cancel.test"), "trustProxy": .bool(true)]) { $1 }
        ) { client, _ in
            let merchant = try await TestBrowser(client, host: "acme.cancel.test").get("/dashboard/login")
            #expect(merchant.status == .notFound)
            let service = try await TestBrowser(client, host: "cancel.test").get("/dashboard/login")
            #expect(service.status == .ok)
        }
    }
}
