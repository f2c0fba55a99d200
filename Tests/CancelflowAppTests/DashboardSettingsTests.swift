import CancelflowApp
import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Configuration
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing

/// The dashboard's settings, team, webhooks, outcomes and audit pages through the router: each
/// form's happy path, its validation, the roles that may not use it, and modes kept apart.
@Suite struct DashboardSettingsTests {
    static let config = DashboardTests.config

    static func signedIn(
        _ client: any TestClientProtocol, _ ctx: TestContext, _ email: String, _ role: DashboardRole
    ) async throws
        -> TestBrowser
    {
        try await DashboardTests.signedIn(client, ctx, email: email, role: role)
    }

    static func apiStatus(_ client: any TestClientProtocol, appID: String, key: String) async throws -> HTTPResponse.Status {
        let headers: HTTPFields = [HTTPField.Name("x-ck-app")!: appID, HTTPField.Name("x-ck-api-key")!: key]
        return try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: headers).status
    }

    static func secret(_ page: TestResponse) throws -> String {
        let text = page.text
        let range = try #require(text.range(of: #"id="secret" value="[^"]+""#, options: .regularExpression))
        return String(text[range].split(separator: "\"")[3])
    }

    static func auditActions(_ ctx: TestContext) async throws -> [String] {
        try await ctx.services.audit.entries(organizationID: ctx.organization.id, filter: AuditFilter(), limit: 100, before: nil).map(\.action)
    }

    @Test(arguments: TestEngine.allCases)
    func anAdminCreatesRotatesAndRevokesAPIKeysAndEachKeyIsShownOnce(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let admin = try await Self.signedIn(client, ctx, "ann@example.com", .admin)
            let page = try await admin.get("/dashboard/test/settings/keys")
            #expect(page.status == .ok)
            #expect(page.text.contains(ctx.test.appId))
            #expect(page.text.contains("ck_test_…" + ctx.test.apiKey.suffix(4)))
            #expect(!page.text.contains(ctx.test.apiKey))
            let created = try await admin.post("/dashboard/test/settings/keys/create")
            #expect(created.status == .created)
            let second = try Self.secret(created)
            #expect(second.hasPrefix("ck_test_"))
            #expect(try await Self.apiStatus(client, appID: ctx.test.appId, key: second) == .ok)
            #expect(try await Self.apiStatus(client, appID: ctx.test.appId, key: ctx.test.apiKey) == .ok)
            // The list never shows it again.
            let listed = try await admin.get("/dashboard/test/settings/keys")
            #expect(!listed.text.contains(second))
            // Rotation with no grace: only the new key works.
            _ = try await admin.get("/dashboard/test/settings/keys")
            #expect(try await admin.post("/dashboard/test/settings/keys/rotate", ["grace": "1234"]).status == .badRequest)
            _ = try await admin.get("/dashboard/test/settings/keys")
            let rotated = try await admin.post("/dashboard/test/settings/keys/rotate", ["grace": "0"])
            let third = try Self.secret(rotated)
            #expect(try await Self.apiStatus(client, appID: ctx.test.appId, key: third) == .ok)
            #expect(try await Self.apiStatus(client, appID: ctx.test.appId, key: second) == .unauthorized)
            #expect(try await Self.apiStatus(client, appID: ctx.test.appId, key: ctx.test.apiKey) == .unauthorized)
            // Revoking the last working key.
            let keys = try await ctx.services.credentials.keys(organizationID: ctx.organization.id, mode: .test).keys
            let working = try #require(keys.first { $0.expiresAt == nil })
            _ = try await admin.get("/dashboard/test/settings/keys")
            #expect(try await admin.post("/dashboard/test/settings/keys/\(working.id)/revoke").status == .ok)
            #expect(try await Self.apiStatus(client, appID: ctx.test.appId, key: third) == .unauthorized)
            // Live keys are untouched, and live's page shows live's App ID only.
            #expect(try await Self.apiStatus(client, appID: ctx.live.appId, key: ctx.live.apiKey) == .ok)
            let live = try await admin.get("/dashboard/live/settings/keys")
            #expect(live.text.contains(ctx.live.appId) && !live.text.contains(ctx.test.appId))
            // The audit log names the keys by their last four characters, never whole.
            let entries = try await ctx.services.audit.entries(
                organizationID: ctx.organization.id, filter: AuditFilter(actionPrefix: "key."), limit: 10, before: nil)
            // (One instant on the test clock: the order within it is not defined.)
            #expect(entries.map(\.action).sorted() == ["key.created", "key.revoked", "key.rotated"])
            for entry in entries {
                #expect(![second, third].contains { key in entry.detail.values.contains { $0.contains(key) } })
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func supportIsRefusedEverySettingsPageAndForm(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let support = try await Self.signedIn(client, ctx, "sam@example.com", .support)
            for page in [
                "settings/keys", "settings/billing", "hosted/setup", "team", "audit", "webhooks", "outcomes", "outcomes.csv", "hosted/preview",
            ] {
                let response = try await support.get("/dashboard/test/\(page)")
                #expect(response.status == .forbidden, "\(page)")
                #expect(!response.text.contains(ctx.test.appId), "\(page)")
            }
            _ = try await support.get("/dashboard/test/customers")
            for form in [
                "settings/keys/create", "settings/keys/rotate", "settings/billing", "settings/billing/test", "hosted/setup", "team/invite",
                "webhooks",
            ] {
                #expect(try await support.post("/dashboard/test/\(form)", ["grace": "0", "provider": "builtin"]).status == .forbidden, "\(form)")
            }
            #expect(try await ctx.services.credentials.keys(organizationID: ctx.organization.id, mode: .test).keys.count == 1)
            // An admin may do all of it but the team.
            let admin = try await Self.signedIn(client, ctx, "ann@example.com", .admin)
            #expect(try await admin.get("/dashboard/test/team").status == .forbidden)
            #expect(try await admin.get("/dashboard/test/audit").status == .ok)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func billingSettingsKeepTheKeyWriteOnlyAndRefuseAKeyOfTheOtherMode(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let stripe = try await BillingStandIn(.stripe)
            defer { stripe.stop() }
            let admin = try await Self.signedIn(client, ctx, "ann@example.com", .admin)
            let page = try await admin.get("/dashboard/test/settings/billing")
            #expect(page.text.contains("The built-in billing store"))
            let tested = try await admin.post("/dashboard/test/settings/billing/test")
            #expect(tested.text.contains("needs no connection"))
            _ = try await admin.get("/dashboard/test/settings/billing")
            let live = try await admin.post(
                "/dashboard/test/settings/billing", ["provider": "stripe", "secretKey": "sk_live_abcdefgh12345678", "apiBase": stripe.base])
            #expect(live.status == .unprocessableContent)
            #expect(live.text.contains("live-mode Stripe key"))
            #expect(try await ctx.services.billingAccounts.account(organizationID: ctx.organization.id, mode: .test).provider == .builtin)
            let saved = try await admin.post(
                "/dashboard/test/settings/billing", ["provider": "stripe", "secretKey": stripe.key, "apiBase": stripe.base, "pauseBehavior": "void"])
            #expect(saved.status == .ok)
            #expect(saved.text.contains("sk_test_…" + stripe.key.suffix(4)))
            #expect(!saved.text.contains(stripe.key))
            let connected = try await admin.post("/dashboard/test/settings/billing/test")
            #expect(connected.text.contains("Connected: Stripe accepted the key."))
            // Saved again without a key: the stored one stays.
            _ = try await admin.get("/dashboard/test/settings/billing")
            _ = try await admin.post("/dashboard/test/settings/billing", ["provider": "stripe", "secretKey": "", "apiBase": stripe.base])
            _ = try await admin.get("/dashboard/test/settings/billing")
            #expect(try await admin.post("/dashboard/test/settings/billing/test").text.contains("Connected"))
            // The stored key never follows a new API address by itself: it would be sent there.
            _ = try await admin.get("/dashboard/test/settings/billing")
            let moved = try await admin.post(
                "/dashboard/test/settings/billing", ["provider": "stripe", "secretKey": "", "apiBase": "https://collector.example"])
            #expect(moved.status == .unprocessableContent)
            #expect(moved.text.contains("Enter the API key again"))
            #expect(try await ctx.services.billingAccounts.account(organizationID: ctx.organization.id, mode: .test).apiBase == stripe.base)
            // A wrong key: the connection test says so.
            _ = try await admin.post(
                "/dashboard/test/settings/billing", ["provider": "stripe", "secretKey": "sk_test_wrong_key_1234", "apiBase": stripe.base])
            _ = try await admin.get("/dashboard/test/settings/billing")
            let refused = try await admin.post("/dashboard/test/settings/billing/test")
            #expect(refused.text.contains("The connection failed"))
            let audit = try await ctx.services.audit.entries(
                organizationID: ctx.organization.id, filter: AuditFilter(actionPrefix: "billing."), limit: 10, before: nil)
            #expect(audit.count == 3, "the refused changes are not recorded")
            #expect(!audit.contains { $0.detail.values.contains { $0.contains(stripe.key) } })
        }
    }

    @Test(arguments: TestEngine.allCases)
    func hostedSetupIsValidatedOnTheServerAndTheModalsDefaultFollowsSessionLinkExpiration(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let other = try await ctx.services.credentials.createOrganization(name: "Globex", subdomain: "globex")
            let admin = try await Self.signedIn(client, ctx, "ann@example.com", .admin)
            let form: [String: String] = [
                "name": "Acme Inc", "sessionLinkExpiration": "7200", "subdomain": "acme", "customDomain": "billing.acme.example",
                "brandColor": "#112233", "logoUrl": "https://acme.example/logo.png", "surveyReasons": "Too pricey\nNot needed",
                "offer": "pause:2", "cancelTiming": "immediately", "returnUrlAllowlist": "acme.example\nhttps://app.acme.example",
            ]
            // Each rule is the server's, whatever the page's own inputs allow.
            let bad: [(String, String, String)] = [
                ("sessionLinkExpiration", "1800", "between 1 hour and 7 days"), ("sessionLinkExpiration", "2592000", "between 1 hour and 7 days"),
                ("sessionLinkExpiration", "nan", "between 1 hour and 7 days"), ("sessionLinkExpiration", "1e300", "between 1 hour and 7 days"),
                ("subdomain", "-acme", "subdomain"), ("customDomain", "not a domain", "custom domain"), ("brandColor", "red", "#4f46e5"),
                ("logoUrl", "http://acme.example/logo.png", "https"), ("surveyReasons", "", "survey reasons"), ("offer", "pause:99", "offer"),
                ("subdomain", "globex", "already taken"), ("returnUrlAllowlist", "javascript:alert(1)", "not a host name"),
                ("name", "", "display name"),
            ]
            for (field, value, message) in bad {
                _ = try await admin.get("/dashboard/test/hosted/setup")
                var changed = form
                changed[field] = value
                let response = try await admin.post("/dashboard/test/hosted/setup", changed)
                #expect([.badRequest, .unprocessableContent, .conflict].contains(response.status), "\(field)=\(value)")
                // The page's alert names the problem (the field's label alone would be on any page).
                let alert = DashboardTests.first(#"<p class="error" role="alert">[^<]*</p>"#, in: response.text) ?? ""
                #expect(alert.localizedCaseInsensitiveContains(message), "\(field)=\(value): \(alert)")
            }
            // Nothing of a refused form was kept.
            let unchanged = try await ctx.services.organizations.organization(id: ctx.organization.id)
            #expect(unchanged.name == "Acme" && unchanged.sessionLinkExpiration == 86400 && unchanged.subdomain == nil)
            #expect(try await ctx.services.organizations.flowSettings(organizationID: ctx.organization.id) == .defaults)
            _ = try await admin.get("/dashboard/test/hosted/setup")
            let saved = try await admin.post("/dashboard/test/hosted/setup", form)
            #expect(saved.status == .seeOther)
            let page = try await admin.get(try #require(saved.headers[.location]))
            #expect(page.text.contains("Saved."))
            #expect(page.text.contains("billing.acme.example CNAME cancel.test"))
            let organization = try await ctx.services.organizations.organization(id: ctx.organization.id)
            #expect(organization.name == "Acme Inc" && organization.sessionLinkExpiration == 7200 && organization.subdomain == "acme")
            #expect(organization.customDomain == "billing.acme.example" && !organization.customDomainVerified)
            #expect(organization.returnURLAllowlist == ["acme.example", "https://app.acme.example"])
            let settings = try await ctx.services.organizations.flowSettings(organizationID: ctx.organization.id)
            #expect(settings.surveyReasons == ["Too pricey", "Not needed"] && settings.offer == .pause(months: 2))
            #expect(settings.cancelTiming == .immediately && settings.brandColor == "#112233")
            // The modal's default follows: 2 hours is offered and chosen.
            let customer = try await admin.get("/dashboard/test/customers/cus_abc123")
            #expect(customer.text.contains(#"value="7200" checked"#))
            #expect(customer.text.contains("2 hours (default)"))
            #expect(!customer.text.contains(#"value="86400" checked"#))
            // The preview shows the new reasons in the new colour.
            let preview = try await admin.get("/dashboard/test/hosted/preview?step=survey")
            #expect(preview.text.contains("Too pricey") && preview.text.contains("#112233"))
            #expect(try await admin.get("/dashboard/live/hosted/preview?step=survey").status == .notFound)
            #expect(try await Self.auditActions(ctx).contains("settings.updated"))
            _ = other
        }
    }

    @Test(arguments: TestEngine.allCases)
    func anOwnerManagesTheTeamAndNeverLosesTheLastOwner(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let owner = try await Self.signedIn(client, ctx, "olive@example.com", .owner)
            _ = try await owner.get("/dashboard/test/team")
            let invited = try await owner.post("/dashboard/test/team/invite", ["email": "Ann@Example.com", "role": "admin"])
            #expect(invited.status == .created)
            let link = try Self.secret(invited)
            #expect(link.hasPrefix("https://cancel.test/dashboard/setup/"))
            _ = try await owner.get("/dashboard/test/team")
            #expect(
                try await owner.post("/dashboard/test/team/invite", ["email": "olive@example.com", "role": "admin"]).text.contains("already exists"))
            let token = String(link.split(separator: "/").last ?? "")
            let ann = try await ctx.services.dashboardAuth.redeem(token: token, email: nil, name: "Ann", password: DashboardTests.password)
            #expect(ann.role == .admin && ann.email == "ann@example.com")
            let annBrowser = TestBrowser(client)
            #expect(try await DashboardTests.signIn(annBrowser, "ann@example.com").status == .seeOther)
            #expect(try await annBrowser.get("/dashboard/test/settings/keys").status == .ok)
            // Demoted to support: her open session ends, and the next one cannot see keys.
            _ = try await owner.get("/dashboard/test/team")
            #expect(try await owner.post("/dashboard/test/team/\(ann.id)/role", ["role": "support"]).status == .ok)
            #expect(try await annBrowser.get("/dashboard/test/customers").status == .seeOther)
            #expect(try await DashboardTests.signIn(annBrowser, "ann@example.com").status == .seeOther)
            #expect(try await annBrowser.get("/dashboard/test/settings/keys").status == .forbidden)
            // Disabled: she cannot sign in, with the same answer as a wrong password.
            _ = try await owner.get("/dashboard/test/team")
            _ = try await owner.post("/dashboard/test/team/\(ann.id)/disable")
            #expect(try await annBrowser.get("/dashboard/test/customers").status == .seeOther)
            #expect(try await DashboardTests.signIn(TestBrowser(client), "ann@example.com").status == .unauthorized)
            // The last owner can be neither demoted nor disabled.
            let olive = try #require(try await ctx.services.store.dashboardUser(email: "olive@example.com"))
            _ = try await owner.get("/dashboard/test/team")
            #expect(try await owner.post("/dashboard/test/team/\(olive.id)/role", ["role": "admin"]).text.contains("at least one active owner"))
            _ = try await owner.get("/dashboard/test/team")
            #expect(try await owner.post("/dashboard/test/team/\(olive.id)/disable").text.contains("at least one active owner"))
            #expect(try await ctx.services.store.dashboardUser(email: "olive@example.com")?.role == .owner)
            // Another organization's member is not found.
            let other = try await ctx.services.credentials.createOrganization(name: "Globex")
            let eve = try await DashboardTests.account(ctx, email: "eve@globex.example", role: .owner, organizationID: other.organization.id)
            _ = try await owner.get("/dashboard/test/team")
            #expect(try await owner.post("/dashboard/test/team/\(eve.id)/disable").status == .notFound)
            #expect(try await ctx.services.store.dashboardUser(email: "eve@globex.example")?.disabledAt == nil)
            let actions = try await Self.auditActions(ctx)
            for action in ["user.invited", "user.role_changed", "user.disabled", "user.signed_in"] {
                #expect(actions.contains(action), "\(action)")
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func webhookEndpointsAreManagedPerModeAndTheEventLogShowsEachAttempt(engine: TestEngine) async throws {
        let config = Self.config.merging(["allowPrivateWebhooks": .bool(true)]) { $1 }
        try await WebhookReceiver.withReceiver { receiver in
            try await withTestApp(engine, configuration: config) { client, ctx in
                let admin = try await Self.signedIn(client, ctx, "ann@example.com", .admin)
                _ = try await admin.get("/dashboard/test/webhooks")
                let refused = try await admin.post("/dashboard/test/webhooks", ["url": "ftp://example.com/hook"])
                #expect(refused.status == .unprocessableContent)
                #expect(try await ctx.services.webhooks.endpoints(organizationID: ctx.organization.id, mode: .test).isEmpty)
                _ = try await admin.get("/dashboard/test/webhooks")
                let added = try await admin.post(
                    "/dashboard/test/webhooks", ["url": receiver.url, "description": "Backend", "event4": "cancel_flow.completed"])
                #expect(added.status == .created)
                #expect(try Self.secret(added).hasPrefix("whsec_"))
                let endpoint = try #require(try await ctx.services.webhooks.endpoints(organizationID: ctx.organization.id, mode: .test).first)
                #expect(endpoint.events == [.cancelFlowCompleted])
                // Not in live mode.
                #expect(try await admin.get("/dashboard/live/webhooks/\(endpoint.id)").status == .notFound)
                #expect(!(try await admin.get("/dashboard/live/webhooks").text.contains(receiver.url)))
                // A test event, delivered by the worker, and its attempt on the event page.
                _ = try await admin.get("/dashboard/test/webhooks/\(endpoint.id)")
                let ping = try await admin.post("/dashboard/test/webhooks/\(endpoint.id)/test")
                #expect(ping.status == .seeOther)
                let eventPath = try #require(ping.headers[.location])
                let worker = WebhookWorker(services: ctx.services, logger: WebhookTests.quiet)
                let http = WebhookWorker.makeClient()
                try await WebhookTests.drain(worker, http) { receiver.requests.count >= 1 }
                try await http.shutdown()
                let event = try await admin.get(eventPath)
                #expect(event.text.contains("HTTP 200"))
                #expect(event.text.contains(receiver.url))
                _ = try await admin.get(eventPath)
                #expect(try await admin.post(eventPath + "/resend").text.contains("Queued again"))
                // Disabled: a new event is not queued for it; rotated: a new secret, shown once.
                _ = try await admin.get("/dashboard/test/webhooks/\(endpoint.id)")
                #expect(try await admin.post("/dashboard/test/webhooks/\(endpoint.id)/disable").text.contains("Disabled"))
                _ = try await admin.get("/dashboard/test/webhooks/\(endpoint.id)")
                #expect(try Self.secret(try await admin.post("/dashboard/test/webhooks/\(endpoint.id)/rotate")).hasPrefix("whsec_"))
                _ = try await admin.get("/dashboard/test/webhooks/\(endpoint.id)")
                #expect(try await admin.post("/dashboard/test/webhooks/\(endpoint.id)/delete").status == .seeOther)
                #expect(try await ctx.services.webhooks.endpoints(organizationID: ctx.organization.id, mode: .test).isEmpty)
                let actions = try await Self.auditActions(ctx)
                for action in [
                    "webhook.created", "webhook.test_sent", "webhook.event_resent", "webhook.disabled", "webhook.secret_rotated", "webhook.deleted",
                ] {
                    #expect(actions.contains(action), "\(action)")
                }
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func theOutcomesOverviewCountsAFlowAndTheExportNeutralisesFormulas(engine: TestEngine) async throws {
        let config = Self.config.merging(["trustProxy": .bool(true)]) { $1 }
        try await withTestApp(engine, configuration: config) { client, ctx in
            try await ctx.seedCustomer()
            try await ctx.seedCustomer("cus_two", subscription: "sub_two")
            // One customer cancels with a comment a spreadsheet would run; another keeps.
            for (customer, keep) in [("cus_abc123", false), ("cus_two", true)] {
                let minted = try await client.mint(ctx, customer: customer)
                let token = try #require(minted.json["token"] as? String)
                let customerBrowser = TestBrowser(client, host: "cancel.test")
                try await customerBrowser.openFlow(token: token)
                _ = try await customerBrowser.post("/flow/survey", ["reason": "It's too expensive", "comment": "=HYPERLINK(\"http://x\")"])
                _ = try await customerBrowser.get("/flow")
                _ = try await customerBrowser.post("/flow/offer", ["decision": "decline"])
                _ = try await customerBrowser.get("/flow")
                _ = try await customerBrowser.post(keep ? "/flow/keep" : "/flow/confirm")
            }
            let admin = TestBrowser(client, host: "cancel.test")
            try await DashboardTests.account(ctx, email: "ann@example.com", role: .admin)
            #expect(try await DashboardTests.signIn(admin, "ann@example.com").status == .seeOther)
            let page = try await admin.get("/dashboard/test/outcomes?days=7")
            #expect(page.status == .ok)
            #expect(page.text.contains(#"<span class="stat-value">2</span><span class="stat-label">links minted"#))
            #expect(page.text.contains(#"<span class="stat-value">50%</span>"#))
            #expect(page.text.contains("<svg class=\"chart\""))
            #expect(page.text.contains("It&#39;s too expensive"))
            // Live mode saw none of it.
            #expect(
                try await admin.get("/dashboard/live/outcomes").text.contains(
                    #"<span class="stat-value">0</span><span class="stat-label">links minted"#))
            let csv = try await admin.get("/dashboard/test/outcomes.csv?days=7")
            #expect(csv.headers[.contentType] == "text/csv; charset=utf-8")
            let lines = csv.text.split(separator: "\r\n")
            #expect(lines.count == 3)
            #expect(lines.first?.hasPrefix("session_id,created_at,customer_id") == true)
            #expect(csv.text.contains(#""'=HYPERLINK(""http://x"")""#))
            #expect(csv.text.contains(",canceled,") && csv.text.contains(",kept,"))
        }
    }

    /// Every signed-in form of the dashboard, with an id of the test organization where the
    /// route takes one.
    static func forms(_ ctx: TestContext, linkID: String, keyID: String, endpointID: String, eventID: String, userID: String) -> [String] {
        [
            "/dashboard/logout", "/dashboard/logout-everywhere", "/dashboard/test/account/password", "/dashboard/test/account/totp",
            "/dashboard/test/account/totp/disable", "/dashboard/test/customers/cus_abc123/links", "/dashboard/test/links/\(linkID)/revoke",
            "/dashboard/test/settings/keys/create", "/dashboard/test/settings/keys/rotate", "/dashboard/test/settings/keys/\(keyID)/revoke",
            "/dashboard/test/settings/billing", "/dashboard/test/settings/billing/test", "/dashboard/test/hosted/setup",
            "/dashboard/test/team/invite", "/dashboard/test/team/\(userID)/role", "/dashboard/test/team/\(userID)/disable",
            "/dashboard/test/team/\(userID)/enable", "/dashboard/test/team/\(userID)/sign-out", "/dashboard/test/webhooks",
            "/dashboard/test/webhooks/\(endpointID)/disable", "/dashboard/test/webhooks/\(endpointID)/enable",
            "/dashboard/test/webhooks/\(endpointID)/rotate", "/dashboard/test/webhooks/\(endpointID)/test",
            "/dashboard/test/webhooks/\(endpointID)/delete", "/dashboard/test/events/\(eventID)/resend",
        ]
    }

    /// The issue's "CSRF refusal" and "another organization's user gets 404", for every form.
    @Test(arguments: TestEngine.allCases)
    func everyFormRefusesAWrongCSRFValueAndAnotherOrganizationsOwnerFindsNothing(engine: TestEngine) async throws {
        let config = Self.config.merging(["allowPrivateWebhooks": .bool(true)]) { $1 }
        try await withTestApp(engine, configuration: config) { client, ctx in
            try await ctx.seedCustomer()
            let link = try #require(try await client.mint(ctx).json["id"] as? String)
            let key = try #require(try await ctx.services.credentials.keys(organizationID: ctx.organization.id, mode: .test).keys.first).id
            let (endpoint, _) = try await ctx.services.webhooks.createEndpoint(
                organizationID: ctx.organization.id, mode: .test, url: "http://127.0.0.1:9/hook", events: [])
            let event = try await ctx.services.webhooks.ping(organizationID: ctx.organization.id, mode: .test, id: endpoint.id)
            let owner = try await Self.signedIn(client, ctx, "olive@example.com", .owner)
            let ann = try await DashboardTests.account(ctx, email: "ann@example.com", role: .admin)
            let forms = Self.forms(ctx, linkID: link, keyID: key, endpointID: endpoint.id, eventID: event, userID: ann.id)
            let fields = [
                "grace": "0", "provider": "builtin", "role": "support", "email": "x@example.com", "url": "http://127.0.0.1:9/x", "expiresIn": "3600",
                "nonce": String(repeating: "a", count: 26), "name": "X", "sessionLinkExpiration": "3600", "surveyReasons": "A",
                "brandColor": "#000000",
            ]
            let before = try await Self.auditActions(ctx).count
            for form in forms {
                _ = try await owner.get("/dashboard/test/customers")
                let refused = try await owner.post(form, fields, csrf: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
                #expect(refused.status == .forbidden, "\(form)")
            }
            // Nothing happened: no link, key, setting, member or endpoint changed, nothing audited.
            #expect(try await ctx.linkCount() == 1)
            #expect(try await ctx.services.store.link(organizationID: ctx.organization.id, mode: .test, id: link)?.storedStatus == .active)
            #expect(try await ctx.services.credentials.keys(organizationID: ctx.organization.id, mode: .test).keys.count == 1)
            #expect(try await ctx.services.store.dashboardUser(id: ann.id)?.role == .admin)
            #expect(try await ctx.services.webhooks.endpoints(organizationID: ctx.organization.id, mode: .test).count == 1)
            #expect(try await Self.auditActions(ctx).count == before)
            #expect(try await owner.get("/dashboard/test/customers").status == .ok, "still signed in")

            // Another organization's owner: every id of this organization is not found.
            let other = try await ctx.services.credentials.createOrganization(name: "Globex")
            try await DashboardTests.account(ctx, email: "eve@globex.example", role: .owner, organizationID: other.organization.id)
            let eve = TestBrowser(client)
            #expect(try await DashboardTests.signIn(eve, "eve@globex.example").status == .seeOther)
            for form in forms
            where form.contains(link) || form.contains(key) || form.contains(endpoint.id) || form.contains(event)
                || form.contains(ann.id) || form.contains("cus_abc123")
            {
                _ = try await eve.get("/dashboard/test/customers")
                let response = try await eve.post(form, fields)
                #expect(response.status == .notFound, "\(form)")
            }
            for page in ["/dashboard/test/webhooks/\(endpoint.id)", "/dashboard/test/events/\(event)", "/dashboard/test/customers/cus_abc123"] {
                #expect(try await eve.get(page).status == .notFound, "\(page)")
            }
            #expect(try await ctx.services.store.link(organizationID: ctx.organization.id, mode: .test, id: link)?.storedStatus == .active)
            #expect(try await ctx.services.store.dashboardUser(id: ann.id)?.disabledAt == nil)
            #expect(try await ctx.services.webhooks.endpoints(organizationID: ctx.organization.id, mode: .test).count == 1)
        }
    }

    /// For a Stripe mode, Customers searches Stripe (by email or id) and the customer page reads
    /// the subscriptions from there.
    @Test(arguments: TestEngine.allCases)
    func customersOfAStripeModeAreSearchedAtStripe(engine: TestEngine) async throws {
        let config = Self.config.merging(["allowPrivateWebhooks": .bool(true)]) { $1 }
        try await withTestApp(engine, configuration: config) { client, ctx in
            let stripe = try await BillingStandIn(.stripe)
            defer { stripe.stop() }
            try await BillingProviderTests.configure(ctx, stripe)
            let (customer, subscriptions) = try await BillingProviderTests.seedStripe(
                stripe, email: "grace@example.com", plans: [("basic", "Basic Monthly", 900, "month")])
            let support = try await Self.signedIn(client, ctx, "sam@example.com", .support)
            let empty = try await support.get("/dashboard/test/customers")
            #expect(empty.text.contains("search by their email address or id"))
            let byEmail = try await support.get("/dashboard/test/customers?q=Grace%40Example.com")
            #expect(byEmail.text.contains("/dashboard/test/customers/\(customer)"))
            let byID = try await support.get("/dashboard/test/customers?q=\(customer)")
            #expect(byID.text.contains("/dashboard/test/customers/\(customer)"))
            #expect(!(try await support.get("/dashboard/test/customers?q=nobody%40example.com").text.contains("/dashboard/test/customers/cus_")))
            let page = try await support.get("/dashboard/test/customers/\(customer)")
            #expect(page.status == .ok)
            #expect(page.text.contains("Basic Monthly") && page.text.contains(subscriptions[0]))
            let nonce = try #require(DashboardTests.field(page.text, "nonce"))
            let created = try await support.post(
                "/dashboard/test/customers/\(customer)/links",
                ["expiresIn": "3600", "singleUse": "true", "nonce": nonce, "subscriptionId": subscriptions[0]])
            #expect(created.status == .created)
            #expect(try await ctx.linkCount() == 1)
        }
    }

    /// The review's findings, each held to: two owners demoting each other at once leave one,
    /// ids with characters a URL encodes open, the audit page keeps to its mode, a form sent
    /// twice acts once, password checks after sign-in are limited, and reset links end with a
    /// new password.
    @Test(arguments: TestEngine.allCases)
    func racesEncodedIdsModesAndRepeatsAreHandled(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            let olive = try await DashboardTests.account(ctx, email: "olive@example.com", role: .owner)
            let otto = try await DashboardTests.account(ctx, email: "otto@example.com", role: .owner)
            let store = ctx.services.store
            async let first = store.updateMember(userID: olive.id, role: .admin, disabledAt: nil, keepAnOwner: true)
            async let second = store.updateMember(userID: otto.id, role: .admin, disabledAt: nil, keepAnOwner: true)
            let results = try await [first, second]
            #expect(results.filter { $0 }.count == 1, "\(results)")
            let owners = try await ctx.services.dashboardAuth.team(organizationID: ctx.organization.id).filter { $0.role == .owner }
            #expect(owners.count == 1)
            let owner = try #require(owners.first)

            // A customer id holding characters a URL encodes.
            _ = try await ctx.services.customers.upsertCustomer(
                organizationID: ctx.organization.id, mode: .test, id: "ada@example.com / 7", email: "ada@example.com", name: "Ada")
            let browser = TestBrowser(client)
            #expect(try await DashboardTests.signIn(browser, owner.email).status == .seeOther)
            let list = try await browser.get("/dashboard/test/customers")
            #expect(list.text.contains("/dashboard/test/customers/ada%40example.com%20%2F%207"))
            let page = try await browser.get("/dashboard/test/customers/ada%40example.com%20%2F%207")
            #expect(page.status == .ok)
            let created = try await browser.post("/dashboard/test/customers/ada%40example.com%20%2F%207/links", ["expiresIn": "3600"])
            #expect(created.status == .created)
            #expect(
                try await ctx.services.store.links(
                    organizationID: ctx.organization.id, mode: .test, customerID: "ada@example.com / 7", limit: 5, startingAfter: nil
                ).count == 1)

            // A form sent twice makes one key.
            let keys = try await browser.get("/dashboard/test/settings/keys")
            let nonce = try #require(DashboardTests.field(keys.text, "nonce"))
            #expect(try await browser.post("/dashboard/test/settings/keys/create", ["nonce": nonce]).status == .created)
            _ = try await browser.get("/dashboard/test/settings/keys")
            #expect(try await browser.post("/dashboard/test/settings/keys/create", ["nonce": nonce]).status == .conflict)
            #expect(try await ctx.services.credentials.keys(organizationID: ctx.organization.id, mode: .test).keys.count == 2)

            // The test-mode audit page shows test and organization-wide entries, not live ones.
            _ = try await browser.get("/dashboard/live/settings/keys")
            _ = try await browser.post("/dashboard/live/settings/keys/rotate", ["grace": "86400"])
            let testAudit = try await browser.get("/dashboard/test/audit?action=key.")
            #expect(testAudit.text.contains("key.created") && !testAudit.text.contains("key.rotated"))
            #expect(try await browser.get("/dashboard/live/audit?action=key.").text.contains("key.rotated"))

            // A reset link out there stops working when the password changes.
            let (_, token) = try await ctx.services.dashboardAuth.operatorResetLink(email: owner.email)
            #expect(try await browser.get("/dashboard/reset/\(token)").status == .ok)
            #expect(try await DashboardTests.signIn(browser, owner.email).status == .seeOther)
            _ = try await browser.get("/dashboard/test/account")
            let changed = try await browser.post(
                "/dashboard/test/account/password", ["current": DashboardTests.password, "password": "another-long-password"])
            #expect(changed.status == .seeOther)
            #expect(try await browser.get("/dashboard/reset/\(token)").status == .gone)

            // Wrong current passwords count like failed sign-ins: ten an hour.
            #expect(try await DashboardTests.signIn(browser, owner.email, password: "another-long-password").status == .seeOther)
            for _ in 0..<10 {
                _ = try await browser.get("/dashboard/test/account")
                _ = try await browser.post("/dashboard/test/account/password", ["current": "not-it-at-all", "password": "yet-another-password"])
            }
            _ = try await browser.get("/dashboard/test/account")
            let limited = try await browser.post(
                "/dashboard/test/account/password", ["current": "another-long-password", "password": "yet-another-password"])
            #expect(limited.text.contains("Too many wrong passwords"))
        }
    }

    @Test(arguments: TestEngine.allCases)
    func theAuditLogFiltersByActionAndPerson(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: Self.config) { client, ctx in
            try await ctx.seedCustomer()
            let owner = try await Self.signedIn(client, ctx, "olive@example.com", .owner)
            let support = try await Self.signedIn(client, ctx, "sam@example.com", .support)
            let page = try await support.get("/dashboard/test/customers/cus_abc123")
            let nonce = try #require(DashboardTests.field(page.text, "nonce"))
            _ = try await support.post("/dashboard/test/customers/cus_abc123/links", ["expiresIn": "3600", "singleUse": "true", "nonce": nonce])
            _ = try await owner.get("/dashboard/test/settings/keys")
            _ = try await owner.post("/dashboard/test/settings/keys/create")
            let sam = try #require(try await ctx.services.store.dashboardUser(email: "sam@example.com"))
            let links = try await owner.get("/dashboard/test/audit?action=link.&actor=")
            #expect(links.text.contains("link.generated") && !links.text.contains("key.created"))
            let bySam = try await owner.get("/dashboard/test/audit?action=&actor=\(sam.id)")
            #expect(bySam.text.contains("link.generated") && bySam.text.contains("user.signed_in") && !bySam.text.contains("key.created"))
            let everything = try await owner.get("/dashboard/test/audit")
            #expect(everything.text.contains("key.created") && everything.text.contains("olive@example.com"))
            // Another organization's owner sees none of it.
            let other = try await ctx.services.credentials.createOrganization(name: "Globex")
            try await DashboardTests.account(ctx, email: "eve@globex.example", role: .owner, organizationID: other.organization.id)
            let eve = TestBrowser(client)
            _ = try await DashboardTests.signIn(eve, "eve@globex.example")
            #expect(!(try await eve.get("/dashboard/test/audit").text.contains("link.generated")))
        }
    }
}
