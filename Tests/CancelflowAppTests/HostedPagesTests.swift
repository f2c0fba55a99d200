import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Configuration
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The hosted pages, as a browser sees them. Requests arrive as if on `cancel.test`, the public
/// host of the test configuration (through `X-Forwarded-Host`, which the tests' proxy setting
/// trusts).
@Suite struct HostedPagesTests {
    static let host = "cancel.test"
    static let config: [String: ConfigContent] = ["trustProxy": .bool(true)]

    static func mintToken(
        _ client: any TestClientProtocol, _ ctx: TestContext, expiresIn: TimeInterval = 3600,
        extra: [String: Any] = [:]
    ) async throws -> (token: String, id: String) {
        let response = try await client.mint(ctx, expiresIn: expiresIn, extra: extra)
        #expect(response.status == .created, "\(response.text)")
        return (try #require(response.json["token"] as? String), try #require(response.json["id"] as? String))
    }

    static func status(_ client: any TestClientProtocol, _ ctx: TestContext, _ id: String) async throws -> String? {
        try await client.execute(uri: "/v1/cancel-sessions/\(id)", method: .get, headers: ctx.headers()).json["status"] as? String
    }

    static func exchangeCount(_ ctx: TestContext, _ id: String) async throws -> Int? {
        try await ctx.services.store.link(organizationID: ctx.organization.id, mode: .test, id: id)?.exchangeCount
    }

    @Test(arguments: TestEngine.allCases)
    func getAndHeadNeverConsumeALink(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let (token, id) = try await Self.mintToken(client, ctx)
            let browser = TestBrowser(client, host: Self.host)
            for _ in 0..<3 {
                let page = try await browser.get("/cancel/\(token)")
                #expect(page.status == .ok)
                #expect(page.text.contains("Hi Ada"))
                #expect(page.text.contains("Pro"))
            }
            for _ in 0..<2 {
                let head = try await browser.get("/cancel/\(token)", method: .head)
                #expect(head.status == .ok)
                #expect(head.body.readableBytes == 0)
            }
            // A scanner without cookies, too.
            #expect(try await TestBrowser(client, host: Self.host).get("/cancel/\(token)").status == .ok)
            #expect(try await Self.status(client, ctx, id) == "active")
            #expect(try await Self.exchangeCount(ctx, id) == 0)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func anExchangeWithoutTheRightCSRFValueIsRefusedAndConsumesNothing(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let (token, id) = try await Self.mintToken(client, ctx)
            let (other, _) = try await Self.mintToken(client, ctx)
            let stranger = TestBrowser(client, host: Self.host)
            #expect(try await stranger.post("/cancel/\(token)", csrf: "").status == .forbidden)
            let browser = TestBrowser(client, host: Self.host)
            _ = try await browser.get("/cancel/\(other)")
            let otherLinksValue = try #require(browser.csrf)
            _ = try await browser.get("/cancel/\(token)")
            let rightValue = try #require(browser.csrf)
            #expect(try await browser.post("/cancel/\(token)", csrf: "wrong").status == .forbidden)
            #expect(try await browser.post("/cancel/\(token)", csrf: otherLinksValue).status == .forbidden)
            // The right value lifted into a browser without the cookie does not work either.
            #expect(try await stranger.post("/cancel/\(token)", csrf: rightValue).status == .forbidden)
            #expect(try await Self.status(client, ctx, id) == "active")
            #expect(try await Self.exchangeCount(ctx, id) == 0)
            #expect(try await browser.post("/cancel/\(token)", csrf: rightValue).status == .seeOther)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func theExchangeConsumesTheLinkAndOnlyThatBrowserMayReturn(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let (token, id) = try await Self.mintToken(client, ctx)
            let browser = TestBrowser(client, host: Self.host)
            _ = try await browser.get("/cancel/\(token)")
            let exchanged = try await browser.post("/cancel/\(token)")
            #expect(exchanged.status == .seeOther)
            #expect(exchanged.headers[.location] == "/flow")
            let cookie = try #require(exchanged.headers[values: .setCookie].first { $0.hasPrefix("cf_session=") })
            for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
                #expect(cookie.contains(attribute), "\(attribute)")
            }
            #expect(!cookie.contains(token))
            #expect(try await Self.status(client, ctx, id) == "consumed")
            let flow = try await browser.get("/flow")
            #expect(flow.status == .ok)
            #expect(flow.text.contains("Why are you leaving?"))
            #expect(!flow.text.contains(token))
            // The same browser returning to the link carries on; anyone else sees the expired screen.
            let back = try await browser.get("/cancel/\(token)")
            #expect(back.status == .seeOther)
            #expect(back.headers[.location] == "/flow")
            let other = TestBrowser(client, host: Self.host)
            let expired = try await other.get("/cancel/\(token)")
            #expect(expired.status == .gone)
            #expect(expired.text.contains("This link has expired"))
            #expect(expired.text.contains("/verify?org=\(ctx.test.appId)"))
            #expect(other.cookieJar["cf_session"] == nil)
            // A browser holding a valid form for a link that another browser then exchanges is
            // told the link is used (not refused for its CSRF value).
            let (second, _) = try await Self.mintToken(client, ctx)
            let late = TestBrowser(client, host: Self.host)
            #expect(try await late.get("/cancel/\(second)").status == .ok)
            let first = TestBrowser(client, host: Self.host)
            #expect(try await first.get("/cancel/\(second)").status == .ok)
            #expect(try await first.post("/cancel/\(second)").status == .seeOther)
            let refused = try await late.post("/cancel/\(second)")
            #expect(refused.status == .gone)
            #expect(refused.text.contains("This link has expired"))
            #expect(late.cookieJar["cf_session"] == nil)
            // The session cookie is stored only as a hash.
            let key = try #require(browser.cookieJar["cf_session"])
            let stored = try await ctx.services.pool.withConnection { db in
                try await db.raw("SELECT COUNT(*) AS n FROM flow_sessions WHERE session_hash = \(bind: key)").first()?
                    .decode(column: "n", as: Int.self)
            }
            #expect(stored == 0)
            #expect(try await ctx.services.store.flowSession(sessionHash: independentSHA256(key))?.linkID == id)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func ofFiftyConcurrentExchangesExactlyOneWins(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let (token, id) = try await Self.mintToken(client, ctx)
            // Each browser on a connection of its own, so the fifty exchanges really race (the
            // test client's one connection would have the server answer them in turn).
            var browsers: [TestBrowser] = []
            for _ in 0..<50 {
                let browser = TestBrowser(client, host: Self.host)
                #expect(try await browser.get("/cancel/\(token)").status == .ok)
                browsers.append(browser)
            }
            let racers = browsers
            let statuses = try await withOwnConnections(50, to: client) { connections in
                try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for (browser, connection) in zip(racers, connections) {
                        group.addTask { try await browser.post("/cancel/\(token)", over: connection) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            #expect(statuses.filter { $0 == .seeOther }.count == 1)
            #expect(statuses.filter { $0 == .gone }.count == 49)
            #expect(browsers.filter { $0.cookieJar["cf_session"] != nil }.count == 1)
            #expect(try await Self.exchangeCount(ctx, id) == 1)
            let sessions = try await ctx.services.pool.withConnection { db in
                try await db.raw("SELECT COUNT(*) AS n FROM flow_sessions").first()?.decode(column: "n", as: Int.self)
            }
            #expect(sessions == 1)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func reusableLinksExchangeRepeatedlyAndEachExchangeIsRecorded(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let (token, id) = try await Self.mintToken(client, ctx, extra: ["singleUse": false])
            for _ in 0..<3 {
                let browser = TestBrowser(client, host: Self.host)
                _ = try await browser.get("/cancel/\(token)")
                #expect(try await browser.post("/cancel/\(token)").status == .seeOther)
            }
            #expect(try await Self.status(client, ctx, id) == "active")
            #expect(try await Self.exchangeCount(ctx, id) == 3)
            let recorded = try await ctx.services.pool.withConnection { db in
                try await db.raw("SELECT COUNT(*) AS n FROM link_exchanges WHERE link_id = \(bind: id)").first()?.decode(column: "n", as: Int.self)
            }
            #expect(recorded == 3)
            ctx.time.advance(by: 3600)
            let late = TestBrowser(client, host: Self.host)
            #expect(try await late.get("/cancel/\(token)").status == .gone)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func linksStopAtTheirExpiryToTheMillisecond(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let (token, id) = try await Self.mintToken(client, ctx, expiresIn: 60)
            let browser = TestBrowser(client, host: Self.host)
            ctx.time.advance(by: 59.999)
            #expect(try await browser.get("/cancel/\(token)").status == .ok)
            ctx.time.advance(by: 0.001)
            #expect(try await browser.post("/cancel/\(token)").status == .gone)
            #expect(try await browser.get("/cancel/\(token)").status == .gone)
            #expect(try await Self.status(client, ctx, id) == "expired")
            #expect(try await Self.exchangeCount(ctx, id) == 0)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func everyUnusableLinkShowsTheSameExpiredScreen(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config.merging(["subdomainBase": .string("links.test")]) { $1 }) { client, ctx in
            try await ctx.seedCustomer()
            let browser = TestBrowser(client, host: Self.host)
            func main(_ response: TestResponse) -> String {
                let text = response.text
                guard let start = text.range(of: "<main"), let end = text.range(of: "</main>") else { return "" }
                return String(text[start.lowerBound..<end.upperBound])
            }
            // Used.
            let (used, _) = try await Self.mintToken(client, ctx)
            _ = try await browser.get("/cancel/\(used)")
            _ = try await browser.post("/cancel/\(used)")
            let usedPage = try await TestBrowser(client, host: Self.host).get("/cancel/\(used)")
            // Revoked.
            let (revoked, revokedID) = try await Self.mintToken(client, ctx)
            _ = try await client.execute(uri: "/v1/cancel-sessions/\(revokedID)/revoke", method: .post, headers: ctx.headers())
            let revokedPage = try await browser.get("/cancel/\(revoked)")
            // Expired.
            let (expiring, _) = try await Self.mintToken(client, ctx, expiresIn: 5)
            ctx.time.advance(by: 5)
            let expiredPage = try await browser.get("/cancel/\(expiring)")
            for page in [usedPage, revokedPage, expiredPage] {
                #expect(page.status == .gone)
                #expect(main(page) == main(usedPage))
            }
            #expect(main(usedPage).contains("Continue with email verification"))
            // Unknown but well-formed, forged, malformed, and wrong host: the same screen, unbranded.
            let unknown = CancelTokenCodec(serverSecret: ctx.services.secret).mint().token
            let (fresh, freshID) = try await Self.mintToken(client, ctx)
            var forged = Array(fresh)
            forged[20] = forged[20] == "a" ? "b" : "a"
            let other = try await ctx.services.credentials.createOrganization(name: "Other", subdomain: "other")
            let wrongHost = TestBrowser(client, host: "other.links.test")
            let pages = [
                try await browser.get("/cancel/\(unknown)"),
                try await browser.get("/cancel/\(String(forged))"),
                try await browser.get("/cancel/not-a-token"),
                try await wrongHost.get("/cancel/\(fresh)"),
                try await TestBrowser(client, host: "evil.example").get("/cancel/\(fresh)"),
            ]
            // A token that fails its MAC (forged, malformed) is 404 without a lookup; one that is
            // authentic but unknown here, or on the wrong host, is 410.
            let expected: [HTTPResponse.Status] = [.gone, .notFound, .notFound, .gone, .gone]
            for (page, status) in zip(pages, expected) {
                #expect(page.status == status)
                #expect(page.text.contains("This link has expired"))
                #expect(!page.text.contains("Ada"))
            }
            // Even with a valid form and cookie from the right host, the wrong host cannot exchange.
            let right = TestBrowser(client, host: Self.host)
            #expect(try await right.get("/cancel/\(fresh)").status == .ok)
            wrongHost.setCookie("cf_csrf", right.cookieJar["cf_csrf"])
            #expect(try await wrongHost.post("/cancel/\(fresh)", csrf: try #require(right.csrf)).status == .gone)
            #expect(try await Self.status(client, ctx, freshID) == "active")
            // The link's own organization's subdomain host is accepted, and so is the public host.
            _ = try await ctx.services.store.upsertCustomer(
                organizationID: other.organization.id, mode: .test, id: "cus_other",
                email: nil, name: "Otto", now: ctx.time.now())
            let otherHeaders: HTTPFields = [
                HTTPField.Name("x-ck-app")!: other.test.appId, HTTPField.Name("x-ck-api-key")!: other.test.apiKey,
                .contentType: "application/json",
            ]
            let otherLink = try await client.mint(ctx, customer: "cus_other", headers: otherHeaders)
            let otherURL = try #require(otherLink.json["url"] as? String)
            #expect(otherURL.hasPrefix("https://other.links.test/cancel/cl_"))
            let otherToken = try #require(otherLink.json["token"] as? String)
            let onItsHost = try await wrongHost.get("/cancel/\(otherToken)")
            #expect(onItsHost.status == .ok)
            #expect(onItsHost.text.contains("Hi Otto"))
            #expect(try await browser.get("/cancel/\(otherToken)").status == .ok)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aLinkShowsOnlyTheDataOfItsOwnMode(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            _ = try await ctx.services.store.upsertCustomer(
                organizationID: ctx.organization.id, mode: .live, id: "cus_abc123",
                email: nil, name: "Live Larry", now: ctx.time.now())
            let (testToken, _) = try await Self.mintToken(client, ctx)
            let live = try await client.mint(ctx, headers: ctx.headers(.live))
            let liveToken = try #require(live.json["token"] as? String)
            let testPage = try await TestBrowser(client, host: Self.host).get("/cancel/\(testToken)")
            #expect(testPage.text.contains("Hi Ada") && !testPage.text.contains("Larry"))
            #expect(testPage.text.contains("Pro"), "the test subscription")
            let livePage = try await TestBrowser(client, host: Self.host).get("/cancel/\(liveToken)")
            #expect(livePage.text.contains("Hi Live Larry") && !livePage.text.contains("Ada"))
            #expect(!livePage.text.contains("Pro"), "the live customer has no subscription; the test one is not shown")
        }
    }

    @Test(arguments: TestEngine.allCases)
    func pagesCarryTheSecurityHeaders(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let (token, _) = try await Self.mintToken(client, ctx)
            let browser = TestBrowser(client, host: Self.host)
            let pages = [
                try await browser.get("/cancel/\(token)"),
                try await browser.post("/cancel/\(token)"),
                try await browser.get("/flow"),
                try await browser.get("/cancel/\(token)"),
                try await TestBrowser(client, host: Self.host).get("/cancel/\(token)"),
                try await TestBrowser(client, host: Self.host).get("/flow"),
            ]
            for page in pages {
                #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
                #expect(page.headers[.cacheControl] == "no-store")
                #expect(page.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                let csp = try #require(page.headers[.contentSecurityPolicy])
                #expect(csp.contains("frame-ancestors 'none'"))
                #expect(csp.contains("default-src 'none'"))
                #expect(!csp.contains("unsafe-inline"))
                #expect(!page.text.contains("<script"))
            }
            let css = try await client.execute(uri: "/assets/cancelflow.css", method: .get)
            #expect(css.status == .ok)
            #expect(css.headers[.contentType]?.hasPrefix("text/css") == true)
        }
    }
}
