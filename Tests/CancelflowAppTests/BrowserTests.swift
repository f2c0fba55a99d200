import CancelflowTestSupport
import Foundation
import Testing

/// A real browser walks the hosted pages against a real `cancelflow serve`, on each database.
@Suite struct BrowserTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Starts `serve` on a fresh database, runs a walk script against it with the first
    /// organization's test keys, and returns what the script printed and the server logged.
    static let walks = StartLimiter(limit: 2)

    static func walk(
        _ script: String, engine: TestEngine, shots: String,
        prepare: @escaping @Sendable (ServeProcess, _ databaseArguments: [String]) async throws -> [String: String] = { _, _ in [:] }
    ) async throws -> (result: ProcessResult, log: String, exit: Int32?) {
        // Two walks at a time: each is a server and up to four Chromiums, and eight walks at
        // once on two cores starved the rest of the suite into its 20-second client timeouts.
        await Self.walks.acquire()
        defer { Task { await Self.walks.release() } }
        return try await TestDatabase.withPool(engine) { _, location in
            var arguments: [String] = []
            if case .postgres(let url) = location {
                arguments = ["--database", url, "--secret", "browser-test-secret-0123456789-abcdef"]
            }
            let (result, stopped) = try await ServeProcess.with(arguments: arguments) { server in
                // The first start prints the first organization's test keys.
                let (appID, apiKey) = try await server.testCredentials()
                let extra = try await prepare(server, arguments)
                return try await runProcess(
                    "/usr/bin/env",
                    ["python3", Self.root.appendingPathComponent("Tests/browser/\(script)").path],
                    environment: [
                        "CANCELFLOW_BASE_URL": server.baseURL,
                        "CANCELFLOW_APP_ID": appID,
                        "CANCELFLOW_API_KEY": apiKey,
                        "SCREENSHOT_DIR": shots,
                    ].merging(extra) { $1 },
                    timeout: .seconds(240)
                )
            }
            #expect(!stopped.killed, "the server shut down gracefully")
            return (result, stopped.output, stopped.status)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aCustomerCancelsInChromiumAndTheLinkRefusesASecondUse(engine: TestEngine) async throws {
        let shots = Self.root.appendingPathComponent("test-output/browser/\(engine)").path
        let (result, log, exit) = try await Self.walk("walk.py", engine: engine, shots: shots)
        #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
        #expect(result.stdout.contains(#""ok": true"#))
        for step in ["01-landing", "02-survey", "03-offer", "04-confirm", "05-done", "06-expired"] {
            #expect(FileManager.default.fileExists(atPath: "\(shots)/\(step).png"), "\(step)")
        }
        #expect(!log.contains(Self.first("cl_[a-z2-7]{48}", in: log) ?? "cl_no_token_logged"))
        #expect(exit == 0)
    }

    /// The issue's "done means": no mail server, an expired link, the code from /dev/mailbox,
    /// a cancellation.
    @Test(arguments: TestEngine.allCases)
    func aCustomerWithAnExpiredLinkVerifiesByEmailAndCancelsInChromium(engine: TestEngine) async throws {
        let shots = Self.root.appendingPathComponent("test-output/browser-verify/\(engine)").path
        let (result, _, exit) = try await Self.walk("verify_walk.py", engine: engine, shots: shots)
        #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
        #expect(result.stdout.contains(#""ok": true"#))
        for step in ["v1-expired", "v2-email", "v3-code", "v4-mailbox", "v5-survey", "v6-done"] {
            #expect(FileManager.default.fileExists(atPath: "\(shots)/\(step).png"), "\(step)")
        }
        #expect(exit == 0)
    }

    /// The billing providers issue's "done means", in a browser: an organization on Stripe (a
    /// localstripe stand-in, configured with the real command), a customer with two
    /// subscriptions who picks one and cancels it at the period end.
    @Test(arguments: TestEngine.allCases)
    func aStripeCustomerPicksASubscriptionAndCancelsItInChromium(engine: TestEngine) async throws {
        let stripe = try await BillingStandIn(.stripe)
        defer { stripe.stop() }
        let shots = Self.root.appendingPathComponent("test-output/browser-stripe/\(engine)").path
        let (result, log, exit) = try await Self.walk("stripe_walk.py", engine: engine, shots: shots) { server, databaseArguments in
            try await Self.configureBilling(server, databaseArguments, stripe)
            return ["STRIPE_BASE": stripe.base, "STRIPE_KEY": stripe.key]
        }
        #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
        #expect(result.stdout.contains(#""ok": true"#))
        for step in ["s1-landing", "s2-choose", "s3-confirm", "s4-done"] {
            #expect(FileManager.default.fileExists(atPath: "\(shots)/\(step).png"), "\(step)")
        }
        #expect(!log.contains(stripe.key), "the provider key is never logged")
        #expect(exit == 0)
    }

    /// Every offer type accepted on the built-in provider, and the flow in French, German and
    /// Spanish (the link's locale) and in a German browser, each page screenshotted.
    @Test(arguments: TestEngine.allCases)
    func everyOfferTypeAndEveryLanguageInChromium(engine: TestEngine) async throws {
        let shots = Self.root.appendingPathComponent("test-output/browser-offers/\(engine)").path
        let (result, _, exit) = try await Self.walk("offers_walk.py", engine: engine, shots: shots) { server, databaseArguments in
            try await Self.liveKey(server, databaseArguments)
        }
        #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
        #expect(result.stdout.contains(#""ok": true"#))
        let steps =
            ["pause", "discount", "plan_change", "trial_extension", "contact"].enumerated().flatMap { index, key in
                ["o\(index + 1)-\(key)-offer", "o\(index + 1)-\(key)-done"]
            } + ["o6-redirect-offer", "l-browser-de-landing"]
            + ["fr", "de-DE", "es"].flatMap { tag in (1...5).map { "l-\(tag)-\($0)" } }.map { step in step }
        for step in steps {
            let found = (try? FileManager.default.contentsOfDirectory(atPath: shots))?.contains { $0.hasPrefix(step) } ?? false
            #expect(found, "\(step)")
        }
        #expect(exit == 0)
    }

    /// Points the first organization's test mode at a stand-in with the CLI, run in the server's
    /// folder so that on SQLite it finds the same database and secret.
    static func configureBilling(_ server: ServeProcess, _ databaseArguments: [String], _ standIn: BillingStandIn) async throws {
        let organization = try #require(Self.first("org_[a-z0-9]+", in: server.printed), "\(server.printed)")
        let keyFile = server.folder.appendingPathComponent("provider.key")
        try standIn.key.write(to: keyFile, atomically: true, encoding: .utf8)
        let configured = try await runProcess(
            cancelflowBinary(),
            [
                "orgs", "configure-billing", "--org", organization, "--mode", "test", "--provider", standIn.kind == .stripe ? "stripe" : "paddle",
                "--secret-key-file", keyFile.path, "--api-base", standIn.base,
            ] + databaseArguments, directory: server.folder.path)
        #expect(configured.status == 0, "\(configured.stderr)")
    }

    /// Publishing a flow needs a live key: a new one, rotated in with the CLI (the first stays
    /// valid), for the walk's environment.
    static func liveKey(_ server: ServeProcess, _ databaseArguments: [String]) async throws -> [String: String] {
        let organization = try #require(Self.first("org_[a-z0-9]+", in: server.printed), "\(server.printed)")
        let rotated = try await runProcess(
            cancelflowBinary(), ["keys", "rotate", "--org", organization, "--mode", "live", "--grace", "24h", "--json"] + databaseArguments,
            directory: server.folder.path)
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let issued = try #require(try JSONSerialization.jsonObject(with: Data(rotated.stdout.utf8)) as? [String: Any], "\(rotated.stdout)")
        return [
            "CANCELFLOW_LIVE_APP_ID": try #require(issued["appId"] as? String),
            "CANCELFLOW_LIVE_API_KEY": try #require(issued["apiKey"] as? String),
        ]
    }

    /// Plan change, free time, a pause and a discount carried out at the Stripe and Paddle stand-ins from
    /// Chromium, each read back from the stand-in; a paying Paddle customer gets no free time.
    @Test(arguments: TestEngine.allCases, [BillingStandIn.Kind.stripe, .paddle])
    func offersThatChangeTheSubscriptionAtEachProviderInChromium(engine: TestEngine, provider: BillingStandIn.Kind) async throws {
        let standIn = try await BillingStandIn(provider)
        defer { standIn.stop() }
        let shots = Self.root.appendingPathComponent("test-output/browser-provider-offers/\(engine)").path
        let (result, log, exit) = try await Self.walk("provider_offers_walk.py", engine: engine, shots: shots) { server, databaseArguments in
            try await Self.configureBilling(server, databaseArguments, standIn)
            return try await Self.liveKey(server, databaseArguments).merging([
                "PROVIDER": provider == .stripe ? "stripe" : "paddle", "PROVIDER_BASE": standIn.base, "PROVIDER_KEY": standIn.key,
            ]) { $1 }
        }
        #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
        #expect(result.stdout.contains(#""ok": true"#))
        let name = provider == .stripe ? "stripe" : "paddle"
        for step in ["plan_change-offer", "plan_change-done", "trial_extension-offer", "trial_extension-done", "pause-done", "discount-done"] {
            #expect(FileManager.default.fileExists(atPath: "\(shots)/\(name)-\(step).png"), "\(step)")
        }
        #expect(!log.contains(standIn.key), "the provider key is never logged")
        #expect(exit == 0)
    }

    /// The dashboard issue's "done means": the first owner from the printed set-up link invites
    /// a support person, who finds a customer and generates a link in the modal; the customer
    /// cancels with it in a browser of their own; the owner sees it in the outcomes and the audit
    /// log. bcrypt runs at its default cost here, as in production.
    @Test(arguments: TestEngine.allCases)
    func aSupportPersonGeneratesALinkInTheDashboardAndTheCustomerCancelsWithIt(engine: TestEngine) async throws {
        let shots = Self.root.appendingPathComponent("test-output/dashboard/\(engine)").path
        let (result, log, exit) = try await Self.walk("dashboard_walk.py", engine: engine, shots: shots) { server, _ in
            let setup = try #require(Self.first("http://[^ \n]+/dashboard/setup/[a-z2-7]{32}", in: server.printed), "\(server.printed)")
            return ["DASHBOARD_SETUP_URL": setup]
        }
        #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
        #expect(result.stdout.contains(#""ok": true"#))
        for page in [
            "d01-setup", "d02-sign-in", "d03-team", "d03-team-phone", "d04-customers", "d05-customer", "d05-customer-phone", "d06-modal",
            "d07-link-created", "d08-customer-done", "d09-consumed", "d10-outcomes", "d10-outcomes-phone", "d11-audit", "d12-keys",
            "d13-billing", "d14-webhooks", "d15-hosted-setup", "d16-modal-2-hours", "d17-generate-no-js",
        ] {
            #expect(FileManager.default.fileExists(atPath: "\(shots)/\(page).png"), "\(page)")
        }
        // Neither the password nor a link's token reaches the server's log, and the set-up links'
        // tokens are cut out of the request lines (the first one is on the first-start banner only).
        #expect(!log.contains("a-long-enough-password"))
        #expect(log.contains("/dashboard/setup/[redacted]"))
        #expect(
            Self.first(
                "/dashboard/setup/[a-z2-7]{32}",
                in: log.replacingOccurrences(of: Self.first("http://[^ \n]+/dashboard/setup/[a-z2-7]{32}", in: log) ?? "-", with: "")) == nil)
        #expect(Self.first("cl_[a-z2-7]{48}", in: log) == nil)
        #expect(exit == 0)
    }

    static func first(_ pattern: String, in text: String) -> String? {
        text.range(of: pattern, options: .regularExpression).map { String(text[$0]) }
    }
}
