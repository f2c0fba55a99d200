import CancelflowCore
import CancelflowTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite struct CancelSessionsTests {
    @Test(arguments: TestEngine.allCases)
    func mintingAnswersTheSeedShapeAndStoresOnlyAHash(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            try await ctx.seedCustomer()
            let expiresAt = isoAfter(ctx, 86400)
            let response = try await client.execute(
                uri: "/v1/cancel-sessions", method: .post, headers: ctx.headers(),
                body: jsonBody(["customerId": "cus_abc123", "subscriptionId": "sub_xyz789", "expiresAt": expiresAt])
            )
            #expect(response.status == .created)
            let json = response.json
            let token = try #require(json["token"] as? String)
            #expect(token.hasPrefix("cl_"))
            #expect(json["url"] as? String == "https://cancel.test/cancel/\(token)")
            #expect(json["expiresAt"] as? String == expiresAt)
            #expect(json["customerId"] as? String == "cus_abc123")
            #expect(json["subscriptionId"] as? String == "sub_xyz789")
            #expect(json["status"] as? String == "active")
            #expect(json["singleUse"] as? Bool == true)
            #expect(json["livemode"] as? Bool == false)
            #expect((json["id"] as? String)?.hasPrefix("cs_") == true)
            #expect(json["createdAt"] as? String == "2026-09-21T14:13:20Z")
            // The seed's fields come first, in the seed's order.
            let order = ["\"url\"", "\"token\"", "\"expiresAt\"", "\"customerId\"", "\"subscriptionId\"", "\"status\""]
            let positions = order.map { response.text.range(of: $0)!.lowerBound }
            #expect(positions == positions.sorted())

            let stored = try #require(try await ctx.services.store.link(tokenHash: independentSHA256(token)))
            #expect(stored.id == json["id"] as? String)
            let plaintext = try await ctx.services.pool.withConnection { db in
                try await db.raw("SELECT COUNT(*) AS n FROM cancel_links WHERE token_hash = \(bind: token)").first()?.decode(
                    column: "n", as: Int.self)
            }
            #expect(plaintext == 0)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func subscriptionIdIsNullWhenOmittedAndSingleUseCanBeTurnedOff(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            try await ctx.seedCustomer()
            let response = try await client.execute(
                uri: "/v1/cancel-sessions", method: .post, headers: ctx.headers(),
                body: jsonBody(["customerId": "cus_abc123", "expiresAt": isoAfter(ctx, 3600), "singleUse": false, "metadata": ["ticket": "T-1"]])
            )
            #expect(response.status == .created)
            #expect(response.text.contains(#""subscriptionId":null"#))
            #expect(response.json["singleUse"] as? Bool == false)
            #expect(response.json["metadata"] as? [String: String] == ["ticket": "T-1"])
        }
    }

    @Test(arguments: TestEngine.allCases)
    func readingNeverShowsTheTokenAndStatusFollowsTime(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            try await ctx.seedCustomer()
            let minted = try await client.mint(ctx, expiresIn: 60)
            let id = try #require(minted.json["id"] as? String)
            let token = try #require(minted.json["token"] as? String)
            let read = try await client.execute(uri: "/v1/cancel-sessions/\(id)", method: .get, headers: ctx.headers())
            #expect(read.status == .ok)
            #expect(read.json["token"] == nil && read.json["url"] == nil)
            #expect(!read.text.contains(token))
            #expect(read.json["status"] as? String == "active")
            ctx.time.advance(by: 60)
            let later = try await client.execute(uri: "/v1/cancel-sessions/\(id)", method: .get, headers: ctx.headers())
            #expect(later.json["status"] as? String == "expired")
            let missing = try await client.execute(uri: "/v1/cancel-sessions/cs_nothing", method: .get, headers: ctx.headers())
            #expect(missing.status == .notFound)
            #expect(missing.error["code"] as? String == "link_not_found")
        }
    }

    /// Each bad request is refused with a 4xx naming the parameter, and writes nothing.
    @Test(arguments: TestEngine.allCases)
    func badInputIsRefusedClearlyAndWritesNothing(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            try await ctx.seedCustomer()
            try await ctx.seedCustomer("cus_other", subscription: "sub_other")
            let ok = isoAfter(ctx, 3600)
            let long = String(repeating: "x", count: 256)
            let cases: [(String, String, Int, String, String?)] = [
                ("{not json", "malformed", 400, "invalid_json", nil),
                ("[1,2]", "not an object", 400, "invalid_json", nil),
                ("", "empty", 400, "body_missing", nil),
                (#"{"expiresAt":"\#(ok)"}"#, "missing customerId", 400, "parameter_missing", "customerId"),
                (#"{"customerId":"cus_abc123"}"#, "missing expiresAt", 400, "parameter_missing", "expiresAt"),
                (#"{"customerId":5,"expiresAt":"\#(ok)"}"#, "number id", 400, "parameter_invalid_type", "customerId"),
                (#"{"customerId":null,"expiresAt":"\#(ok)"}"#, "null id", 400, "parameter_missing", "customerId"),
                (#"{"customerId":"cus_abc123","expiresAt":"\#(ok)","singleUse":"no"}"#, "string bool", 400, "parameter_invalid_type", "singleUse"),
                (
                    #"{"customerId":"cus_abc123","expiresAt":"\#(ok)","metadata":{"a":1}}"#, "number metadata", 400, "parameter_invalid_type",
                    "metadata.a"
                ),
                (#"{"customerId":"cus_abc123","expiresAt":"\#(ok)","expires_at":"x"}"#, "unknown key", 400, "unknown_parameter", "expires_at"),
                (#"{"customerId":"","expiresAt":"\#(ok)"}"#, "empty id", 400, "parameter_empty", "customerId"),
                (#"{"customerId":"\#(long)","expiresAt":"\#(ok)"}"#, "long id", 400, "parameter_too_long", "customerId"),
                (
                    #"{"customerId":"cus_abc123","subscriptionId":"\#(long)","expiresAt":"\#(ok)"}"#, "long sub", 400, "parameter_too_long",
                    "subscriptionId"
                ),
                (#"{"customerId":"cus_abc123","expiresAt":"2026-06-04T12:00:00"}"#, "no zone", 400, "parameter_invalid", "expiresAt"),
                (#"{"customerId":"cus_abc123","expiresAt":"tomorrow"}"#, "not a date", 400, "parameter_invalid", "expiresAt"),
                (#"{"customerId":"cus_abc123","expiresAt":"\#(isoAfter(ctx, 0))"}"#, "now", 422, "expires_at_in_past", "expiresAt"),
                (#"{"customerId":"cus_abc123","expiresAt":"\#(isoAfter(ctx, -60))"}"#, "past", 422, "expires_at_in_past", "expiresAt"),
                (#"{"customerId":"cus_abc123","expiresAt":"\#(isoAfter(ctx, 30 * 86400 + 1))"}"#, "too far", 422, "expires_at_too_far", "expiresAt"),
                (#"{"customerId":"cus_nobody","expiresAt":"\#(ok)"}"#, "unknown customer", 404, "customer_not_found", "customerId"),
                (
                    #"{"customerId":"cus_abc123","subscriptionId":"sub_none","expiresAt":"\#(ok)"}"#, "unknown sub", 404, "subscription_not_found",
                    "subscriptionId"
                ),
                (
                    #"{"customerId":"cus_abc123","subscriptionId":"sub_other","expiresAt":"\#(ok)"}"#, "other's sub", 404, "subscription_not_found",
                    "subscriptionId"
                ),
                (
                    #"{"customerId":"cus_abc123","expiresAt":"\#(ok)","returnUrl":"https://evil.example/x"}"#, "return url", 422,
                    "return_url_not_allowed", "returnUrl"
                ),
                (
                    #"{"customerId":"cus_abc123","expiresAt":"\#(ok)","returnUrl":"javascript:alert(1)"}"#, "return scheme", 400,
                    "return_url_invalid", "returnUrl"
                ),
            ]
            for (body, label, status, code, param) in cases {
                let response = try await client.execute(uri: "/v1/cancel-sessions", method: .post, headers: ctx.headers(), body: jsonBody(body))
                #expect(Int(response.status.code) == status, "\(label)")
                #expect(response.error["code"] as? String == code, "\(label): \(response.text)")
                #expect(response.error["param"] as? String == param, "\(label)")
                #expect((response.error["message"] as? String)?.isEmpty == false, "\(label)")
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, "\(label)")
            }
            var metadata: [String: String] = [:]
            for index in 0..<21 { metadata["k\(index)"] = "v" }
            let tooMany = try await client.execute(
                uri: "/v1/cancel-sessions", method: .post, headers: ctx.headers(),
                body: jsonBody(["customerId": "cus_abc123", "expiresAt": ok, "metadata": metadata])
            )
            #expect(tooMany.status == .badRequest)
            #expect(tooMany.error["param"] as? String == "metadata")
            let huge = try await client.execute(
                uri: "/v1/cancel-sessions", method: .post, headers: ctx.headers(),
                body: jsonBody(#"{"customerId":"cus_abc123","expiresAt":"\#(ok)","metadata":{"a":"\#(String(repeating: "y", count: 70_000))"}}"#)
            )
            #expect(huge.status == .badRequest)
            #expect(huge.error["code"] as? String == "body_too_large")
            #expect(try await ctx.linkCount() == 0)
            // Exactly 30 days ahead is the longest window allowed.
            let edge = try await client.mint(ctx, expiresIn: 30 * 86400)
            #expect(edge.status == .created)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func allowListedReturnURLsAreKept(engine: TestEngine) async throws {
        try await withTestApp(engine, returnHosts: ["app.acme.com", "https://acme.com:8443"]) { client, ctx in
            try await ctx.seedCustomer()
            for url in ["https://app.acme.com/account", "https://acme.com:8443/done"] {
                let response = try await client.mint(ctx, extra: ["returnUrl": url])
                #expect(response.status == .created)
                #expect(response.json["returnUrl"] as? String == url)
            }
            let wrongPort = try await client.mint(ctx, extra: ["returnUrl": "https://acme.com/done"])
            #expect(wrongPort.status == .unprocessableContent)
        }
    }

    /// URLs Foundation reads as an allowed host but a browser sends elsewhere are refused, and
    /// what is accepted is stored and linked to in its re-serialised form.
    @Test(arguments: TestEngine.allCases)
    func returnURLsThatABrowserCouldReadAsAnotherHostAreRefused(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: ["trustProxy": .bool(true)], returnHosts: ["app.acme.com", "localhost"]) { client, ctx in
            try await ctx.seedCustomer()
            for url in [
                #"https://evil.example\@app.acme.com/"#, "https://evil.example@app.acme.com/", "https://app.acme.com./",
                "https://app.acme.com/ x", "http://app.acme.com/", "https://app.acme.com%2f@evil.example/",
            ] {
                let response = try await client.mint(ctx, extra: ["returnUrl": url])
                #expect(response.status == .badRequest, "\(url): \(response.text)")
                #expect(response.error["param"] as? String == "returnUrl", "\(url)")
            }
            let live = try await client.mint(ctx, extra: ["returnUrl": "http://localhost:3000/account"], headers: ctx.headers(.live))
            #expect(live.status == .badRequest, "live mode wants https")
            let local = try await client.mint(ctx, extra: ["returnUrl": "http://localhost:3000/account"])
            #expect(local.status == .created, "test mode may return to the merchant's local backend")
            #expect(try await ctx.linkCount() == 1)

            let minted = try await client.mint(ctx, extra: ["returnUrl": "HTTPS://App.Acme.COM:443/account?from=cancel"])
            #expect(minted.status == .created)
            #expect(minted.json["returnUrl"] as? String == "https://app.acme.com/account?from=cancel")
            let token = try #require(minted.json["token"] as? String)
            let page = try await TestBrowser(client, host: "cancel.test").get("/cancel/\(token)")
            #expect(
                page.text.contains(#"href="https://app.acme.com/account?from&#61;cancel""#)
                    || page.text.contains(#"href="https://app.acme.com/account?from=cancel""#))
        }
    }

    /// A Stripe or Paddle mode without a key cannot check the customer, so it mints nothing and
    /// says what to configure.
    @Test(arguments: TestEngine.allCases)
    func providerModesWithoutAKeyRefuseToMint(engine: TestEngine) async throws {
        for provider in [BillingProviderKind.stripe, .paddle] {
            try await withTestApp(engine, billing: provider) { client, ctx in
                // Paddle scopes by subscription: the subscription id goes in customerId (seed).
                let id = provider == .paddle ? "sub_01h8paddle" : "cus_stripe123"
                let response = try await client.mint(ctx, customer: id)
                #expect(response.status == .badGateway, "\(provider)")
                #expect(response.error["code"] as? String == "billing_provider_not_configured")
                #expect((response.error["message"] as? String)?.contains("configure-billing") == true)
                let count = try await ctx.services.pool.withConnection { db in
                    try await db.raw("SELECT COUNT(*) AS n FROM cancel_links").first()?.decode(column: "n", as: Int.self)
                }
                #expect(count == 0)
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aTestKeyNeverReachesLiveData(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            try await ctx.seedCustomer(mode: .live)
            let live = try await client.mint(ctx, headers: ctx.headers(.live))
            #expect(live.status == .created)
            #expect(live.json["livemode"] as? Bool == true)
            let id = try #require(live.json["id"] as? String)
            // The test key sees neither the live customer nor the live link.
            let mint = try await client.mint(ctx, headers: ctx.headers(.test))
            #expect(mint.error["code"] as? String == "customer_not_found")
            #expect(try await client.execute(uri: "/v1/cancel-sessions/\(id)", method: .get, headers: ctx.headers(.test)).status == .notFound)
            let list = try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: ctx.headers(.test))
            #expect((list.json["data"] as? [Any])?.isEmpty == true)
            #expect(try await client.execute(uri: "/v1/customers/cus_abc123", method: .get, headers: ctx.headers(.test)).status == .notFound)
            #expect(try await client.execute(uri: "/v1/cancel-sessions/\(id)/revoke", method: .post, headers: ctx.headers(.test)).status == .notFound)
            // And the live key sees both.
            #expect(try await client.execute(uri: "/v1/cancel-sessions/\(id)", method: .get, headers: ctx.headers(.live)).status == .ok)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func listingPagesNewestFirstAndFiltersByCustomer(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            try await ctx.seedCustomer("cus_a", subscription: nil)
            try await ctx.seedCustomer("cus_b", subscription: nil)
            var minted: [String] = []
            for index in 0..<5 {
                ctx.time.advance(by: 1)
                let response = try await client.execute(
                    uri: "/v1/cancel-sessions", method: .post, headers: ctx.headers(),
                    body: jsonBody(["customerId": index == 2 ? "cus_b" : "cus_a", "expiresAt": isoAfter(ctx, 3600)])
                )
                minted.append(try #require(response.json["id"] as? String))
            }
            let first = try await client.execute(uri: "/v1/cancel-sessions?limit=2", method: .get, headers: ctx.headers())
            #expect((first.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [minted[4], minted[3]])
            #expect(first.json["hasMore"] as? Bool == true)
            let cursor = try #require(first.json["nextCursor"] as? String)
            let second = try await client.execute(uri: "/v1/cancel-sessions?limit=2&startingAfter=\(cursor)", method: .get, headers: ctx.headers())
            #expect((second.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [minted[2], minted[1]])
            let last = try await client.execute(
                uri: "/v1/cancel-sessions?limit=2&startingAfter=\(minted[1])", method: .get, headers: ctx.headers()
            )
            #expect((last.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [minted[0]])
            #expect(last.json["hasMore"] as? Bool == false)
            let onlyB = try await client.execute(uri: "/v1/cancel-sessions?customerId=cus_b", method: .get, headers: ctx.headers())
            #expect((onlyB.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [minted[2]])
            for bad in ["limit=0", "limit=101", "limit=ten", "startingAfter=cs_nope"] {
                let response = try await client.execute(uri: "/v1/cancel-sessions?\(bad)", method: .get, headers: ctx.headers())
                #expect(response.status == .badRequest, "\(bad)")
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func revokingStopsAnActiveLinkOnly(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            try await ctx.seedCustomer()
            func mint(_ seconds: TimeInterval) async throws -> (id: String, token: String) {
                let response = try await client.mint(ctx, expiresIn: seconds)
                return (try #require(response.json["id"] as? String), try #require(response.json["token"] as? String))
            }
            let (id, revokedToken) = try await mint(3600)
            let revoked = try await client.execute(uri: "/v1/cancel-sessions/\(id)/revoke", method: .post, headers: ctx.headers())
            #expect(revoked.status == .ok)
            #expect(revoked.json["status"] as? String == "revoked")
            #expect(revoked.json["revokedAt"] as? String == "2026-09-21T14:13:20Z")
            let again = try await client.execute(uri: "/v1/cancel-sessions/\(id)/revoke", method: .post, headers: ctx.headers())
            #expect(again.status == .ok)
            // The revoked link's own token: it still resolves, as revoked, and cannot be exchanged.
            let resolved = try #require(try await ctx.services.links.resolve(token: revokedToken))
            #expect(resolved.id == id)
            #expect(resolved.status(at: ctx.time.now()) == .revoked)
            let exchange = try await ctx.services.flow.exchange(
                tokenHash: independentSHA256(revokedToken), sessionHash: "s"
            )
            #expect(exchange == nil, "a revoked link is never exchanged")
            let (short, _) = try await mint(10)
            ctx.time.advance(by: 11)
            let late = try await client.execute(uri: "/v1/cancel-sessions/\(short)/revoke", method: .post, headers: ctx.headers())
            #expect(late.status == .unprocessableContent)
            #expect(late.error["code"] as? String == "link_not_revocable")
            let unknown = try await client.execute(uri: "/v1/cancel-sessions/cs_unknown/revoke", method: .post, headers: ctx.headers())
            #expect(unknown.status == .notFound)
        }
    }
}
