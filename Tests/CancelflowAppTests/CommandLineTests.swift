import CancelflowAPI
import CancelflowApp
import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The `cancelflow` executable itself, run as a child process.
@Suite struct CommandLineTests {
    let secret = "cli-test-secret-cli-test-secret-0123456789"

    func run(_ arguments: [String], database: String) async throws -> ProcessResult {
        try await runProcess(cancelflowBinary(), arguments + ["--database", database, "--secret", self.secret, "--public-url", "https://links.test"])
    }

    static func json(_ result: ProcessResult) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
    }

    @Test(arguments: TestEngine.allCases)
    func organizationsKeysAndLinksFromTheCommandLine(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, location in
            let database: String =
                switch location {
                case .sqlite(let path): "sqlite:\(path)"
                case .postgres(let url): url
                }
            let created = try await self.run(["orgs", "create", "--name", "Acme", "--subdomain", "acme", "--json"], database: database)
            #expect(created.status == 0, "\(created.stderr)")
            let org = try Self.json(created)
            let orgID = try #require(org["id"] as? String)
            let test = try #require(org["test"] as? [String: String])
            let live = try #require(org["live"] as? [String: String])
            #expect(orgID.hasPrefix("org_"))
            #expect(test["appId"]?.hasPrefix("app_test_") == true && test["apiKey"]?.hasPrefix("ck_test_") == true)
            #expect(live["appId"]?.hasPrefix("app_live_") == true && live["apiKey"]?.hasPrefix("ck_live_") == true)

            let store = SQLStore(pool: pool)
            _ = try await store.upsertCustomer(organizationID: orgID, mode: .test, id: "cus_1", email: nil, name: "Ada", now: Date())
            let link = try await self.run(
                ["links", "create", "--org", orgID, "--mode", "test", "--customer", "cus_1", "--expires-in", "2h", "--json"], database: database
            )
            #expect(link.status == 0, "\(link.stderr)")
            let minted = try Self.json(link)
            let url = try #require(minted["url"] as? String)
            #expect(url.hasPrefix("https://links.test/cancel/cl_"))
            #expect(minted["singleUse"] as? Bool == true)
            let expires = try #require((minted["expiresAt"] as? String).flatMap(Timestamp.parse))
            #expect(abs(expires.timeIntervalSinceNow - 7200) < 120)
            let stored = try await store.link(tokenHash: independentSHA256(try #require(minted["token"] as? String)))
            #expect(stored?.customerID == "cus_1")

            let reusable = try await self.run(
                ["links", "create", "--org", orgID, "--mode", "test", "--customer", "cus_1", "--reusable", "--json"], database: database
            )
            let reusableLink = try Self.json(reusable)
            #expect(reusableLink["singleUse"] as? Bool == false)
            // Without --expires-in: the organization's session link expiration, 24 hours.
            let defaultExpiry = try #require((reusableLink["expiresAt"] as? String).flatMap(Timestamp.parse))
            #expect(abs(defaultExpiry.timeIntervalSinceNow - 86400) < 120)

            let unknown = try await self.run(
                ["links", "create", "--org", orgID, "--mode", "live", "--customer", "cus_1", "--json"], database: database
            )
            #expect(unknown.status == 1)
            #expect(unknown.stderr.contains("No customer"))
            #expect(unknown.stdout.isEmpty)

            let rotated = try await self.run(["keys", "rotate", "--org", orgID, "--mode", "test", "--grace", "0", "--json"], database: database)
            #expect(rotated.status == 0, "\(rotated.stderr)")
            let newKey = try #require(try Self.json(rotated)["apiKey"] as? String)
            let credentials = CredentialService(store: store, time: SystemTimeSource())
            await #expect(throws: CancelflowError.self) { _ = try await credentials.authenticate(appID: test["appId"], apiKey: test["apiKey"]) }
            #expect(try await credentials.authenticate(appID: test["appId"], apiKey: newKey).organizationID == orgID)
            #expect(try await credentials.authenticate(appID: live["appId"], apiKey: live["apiKey"]).mode == .live)

            let badGrace = try await self.run(["keys", "rotate", "--org", orgID, "--mode", "test", "--grace", "soon"], database: database)
            #expect(badGrace.status == 1)
            let noDomain = try await self.run(["orgs", "verify-domain", "--org", orgID], database: database)
            #expect(noDomain.status == 1)
            let configured = try await self.run(
                [
                    "orgs", "configure-flow", "--org", orgID, "--reason", "Too pricey", "--reason", "Other", "--offer", "pause:2",
                    "--cancel-timing", "immediately", "--brand-color", "#0A7C55", "--json",
                ],
                database: database
            )
            #expect(configured.status == 0, "\(configured.stderr)")
            let settings = try await store.flowSettings(organizationID: orgID)
            #expect(settings.surveyReasons == ["Too pricey", "Other"])
            #expect(settings.offer == .pause(months: 2))
            #expect(settings.cancelTiming == .immediately)
            #expect(settings.brandColor == "#0a7c55")
            for bad in [["--offer", "pause:99"], ["--brand-color", "red"], ["--cancel-timing", "later"], ["--logo-url", "http://x.test/l.png"]] {
                let refused = try await self.run(["orgs", "configure-flow", "--org", orgID] + bad, database: database)
                #expect(refused.status == 1, "\(bad)")
            }
            #expect(try await store.flowSettings(organizationID: orgID) == settings, "refused settings change nothing")

            let hook = try await self.run(
                ["webhooks", "add", "--org", orgID, "--mode", "test", "--url", "http://127.0.0.1:9/hooks", "--allow-private-webhooks"],
                database: database
            )
            #expect(hook.status == 0, "\(hook.stderr)")
            #expect(hook.stdout.hasPrefix("whsec_"))
            let refused = try await self.run(
                ["webhooks", "add", "--org", orgID, "--mode", "test", "--url", "http://127.0.0.1:9/x"], database: database)
            #expect(refused.status == 1, "private addresses need --allow-private-webhooks")
            let endpointID = try #require(try await store.endpoints(organizationID: orgID, mode: .test).first?.id)
            let listed = try await self.run(["webhooks", "list", "--org", orgID, "--mode", "test"], database: database)
            #expect(listed.stdout.contains(endpointID))
            let rotatedSecret = try await self.run(
                ["webhooks", "rotate-secret", "--org", orgID, "--mode", "test", "--endpoint", endpointID], database: database)
            #expect(rotatedSecret.stdout.hasPrefix("whsec_") && rotatedSecret.stdout != hook.stdout)
            let pinged = try await self.run(["webhooks", "test", "--org", orgID, "--mode", "test", "--endpoint", endpointID], database: database)
            #expect(pinged.status == 0, "\(pinged.stderr)")
            let deleted = try await self.run(["webhooks", "delete", "--org", orgID, "--mode", "test", "--endpoint", endpointID], database: database)
            #expect(deleted.status == 0)
            #expect(try await store.endpoints(organizationID: orgID, mode: .test).isEmpty)

            let taken = try await self.run(["orgs", "create", "--name", "Other", "--subdomain", "acme"], database: database)
            #expect(taken.status == 1)
            #expect(taken.stderr.contains("already taken"))
            // What an operator types follows the API's text rule.
            let control = try await self.run(["orgs", "create", "--name", "Ac\u{1b}[31mme"], database: database)
            #expect(control.status == 1)
            #expect(control.stderr.contains("without control characters"))
        }
    }

    /// `orgs configure-billing` reads the provider key from a file or standard input, never the
    /// command line; refuses a key of the other mode; and never prints the key back.
    /// `users create` prints a one-time set-up link (never takes a password), stored as a hash.
    @Test func dashboardAccountsStartFromOneTimeLinks() async throws {
        try await TestDatabase.withPool(.sqlite) { pool, location in
            guard case .sqlite(let path) = location else { return }
            let database = "sqlite:\(path)"
            let org = try Self.json(try await self.run(["orgs", "create", "--name", "Acme", "--json"], database: database))
            let orgID = try #require(org["id"] as? String)
            let created = try await self.run(
                ["users", "create", "--org", orgID, "--email", "Sam@Example.com", "--role", "support", "--json"], database: database)
            #expect(created.status == 0, "\(created.stderr)")
            let shown = try Self.json(created)
            #expect(shown["email"] as? String == "sam@example.com")
            #expect(shown["role"] as? String == "support")
            let url = try #require(shown["setupUrl"] as? String)
            #expect(url.hasPrefix("https://links.test/dashboard/setup/"))
            let token = String(url.split(separator: "/").last ?? "")
            let stored = try await pool.read { db in
                try await db.raw("SELECT token_hash FROM dashboard_setup_links").all().map { try $0.decode(column: "token_hash", as: String.self) }
            }
            #expect(stored == [Hex.sha256(token)])
            // No such role, no such organization, no such account: refused, and nothing stored.
            let role = try await self.run(["users", "create", "--org", orgID, "--email", "a@example.com", "--role", "root"], database: database)
            #expect(role.status != 0)
            let nobody = try await self.run(
                ["users", "create", "--org", "org_nobody", "--email", "a@example.com", "--role", "owner"], database: database)
            #expect(nobody.status != 0 && nobody.stderr.contains("organization"), "\(nobody.stderr)")
            let reset = try await self.run(["users", "reset-link", "--email", "nobody@example.com"], database: database)
            #expect(reset.status != 0 && reset.stderr.contains("No dashboard account"), "\(reset.stderr)")
            let count = try await pool.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM dashboard_setup_links").first()?.decode(column: "n", as: Int.self)
            }
            #expect(count == 1)
            // There is no way to pass a password.
            let password = try await self.run(
                ["users", "create", "--org", orgID, "--email", "b@example.com", "--role", "owner", "--password", "hunter2hunter2"], database: database
            )
            #expect(password.status != 0)
            #expect(try await self.run(["users", "list", "--org", orgID], database: database).stdout.isEmpty, "no account until the link is used")
        }
    }

    @Test func billingKeysComeFromAFileOrStandardInput() async throws {
        try await TestDatabase.withPool(.sqlite) { pool, location in
            guard case .sqlite(let path) = location else { return }
            let database = "sqlite:\(path)"
            let org = try Self.json(try await self.run(["orgs", "create", "--name", "Acme", "--json"], database: database))
            let orgID = try #require(org["id"] as? String)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("billing-key-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let keyFile = folder.appendingPathComponent("stripe.key").path
            let secret = "sk_test_51Hsecretsecretsecret4242"
            try (secret + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)

            let fromFile = try await self.run(
                [
                    "orgs", "configure-billing", "--org", orgID, "--mode", "test", "--provider", "stripe", "--secret-key-file", keyFile,
                    "--api-base", "http://127.0.0.1:12111", "--json",
                ], database: database)
            #expect(fromFile.status == 0, "\(fromFile.stderr)")
            let shown = try Self.json(fromFile)
            #expect(shown["key"] as? String == "sk_test_…4242")
            #expect(shown["apiBase"] as? String == "http://127.0.0.1:12111")
            #expect(!fromFile.stdout.contains(secret) && !fromFile.stderr.contains(secret))

            // Standard input; a live key for test mode is refused and changes nothing.
            let binary = cancelflowBinary()
            let common = "--database '\(database)' --secret '\(self.secret)' --public-url https://links.test"
            let wrongMode = try await runProcess(
                "/bin/sh",
                [
                    "-c",
                    "printf 'sk_live_51Hlivelivelive9999' | '\(binary)' orgs configure-billing --org \(orgID) --mode test --provider stripe \(common)",
                ])
            #expect(wrongMode.status != 0)
            #expect(wrongMode.stderr.contains("live-mode Stripe key"), "\(wrongMode.stderr)")
            #expect(!wrongMode.stderr.contains("sk_live_51Hlivelivelive9999"))
            let paddle = try await runProcess(
                "/bin/sh",
                [
                    "-c",
                    "printf 'pdl_sdbx_apikey_01abc7777' | '\(binary)' orgs configure-billing --org \(orgID) --mode test --provider paddle \(common) --json",
                ])
            #expect(paddle.status == 0, "\(paddle.stderr)")
            #expect(try Self.json(paddle)["key"] as? String == "pdl_sdbx_apikey_…7777")

            let account = try await SQLStore(pool: pool).billingAccount(organizationID: orgID, mode: .test)
            #expect(account?.provider == .paddle)
            #expect(account?.apiBase == nil, "a new provider starts from its own API address")
            // A key on the command line is not an option at all.
            let argv = try await self.run(
                ["orgs", "configure-billing", "--org", orgID, "--mode", "live", "--provider", "stripe", "--secret-key", "sk_live_x"],
                database: database)
            #expect(argv.status != 0)
        }
    }

    @Test func postgresRequiresASharedSecret() async throws {
        let result = try await runProcess(
            cancelflowBinary(), ["migrate", "--database", "postgres://u@127.0.0.1:1/x"],
            environment: ["CANCELFLOW_SECRET": ""])
        #expect(result.status == 1)
        #expect(result.stderr.contains("secret"))
    }

    /// `cancelflow serve` on a fresh folder: private SQLite and secret files, a first
    /// organization whose test key is printed once and whose live key never is, health, and a
    /// graceful exit on SIGINT and on SIGTERM.
    @Test func serveStartsOnAnEmptyFolderAndStopsGracefully() async throws {
        try await withTemporaryFolder("cancelflow-serve") { folder in
            let port = try freePort()
            let server = try await startServe(in: folder, port: port)
            defer { server.killNow() }
            // While it runs, the WAL and shared-memory files exist: all private, like the database.
            for name in ["cancelflow.sqlite", "cancelflow.sqlite-wal", "cancelflow.sqlite-shm", "cancelflow.sqlite.secret"] {
                let path = folder.appendingPathComponent(name).path
                #expect(PrivateFile.mode(path) == 0o600, "\(name) is \(String(PrivateFile.mode(path) ?? 0, radix: 8))")
            }
            let stopped = await server.stop(signal: SIGINT, grace: .seconds(30))
            #expect(!stopped.killed, "SIGINT stops the server gracefully")
            #expect(stopped.status == 0 && !stopped.signalled)
            let text = stopped.output
            #expect(text.contains("app_test_") && text.contains("ck_test_") && text.contains("app_live_"))
            #expect(!text.contains("ck_live_"), "the live key is never printed")
            #expect(text.contains("keys rotate --org org_") && text.contains("--mode live"), "it says how to get one")

            // A second start on the same folder creates nothing and prints no key; SIGTERM is
            // graceful too.
            let again = try await startServe(in: folder, port: port)
            defer { again.killNow() }
            let second = await again.stop(signal: SIGTERM, grace: .seconds(30))
            #expect(!second.killed, "SIGTERM stops the server gracefully")
            #expect(second.status == 0 && !second.signalled, "\(second.output)")
            #expect(!second.output.contains("ck_test_") && !second.output.contains("first start"), "keys are shown only once")
            #expect(second.output.contains("Starting Cancelflow"))
        }
    }

    /// `--secret-file` is the way to pass the secret; a secret file others can read is refused
    /// with the command that fixes it, and so is the generated one beside the database.
    @Test func secretFilesMustBePrivate() async throws {
        try await withTemporaryFolder("cancelflow-secret") { folder in
            let secretPath = folder.appendingPathComponent("secret").path
            try (self.secret + "\n").write(toFile: secretPath, atomically: false, encoding: .utf8)
            chmod(secretPath, 0o644)
            let database = "sqlite:" + folder.appendingPathComponent("db.sqlite").path
            var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CANCELFLOW_") }
            let open = try await runProcess(
                cancelflowBinary(), ["migrate", "--database", database, "--secret-file", secretPath], environment: environment)
            #expect(open.status == 1, "\(open.stderr)")
            #expect(open.stderr.contains("chmod 600 \(secretPath)"))
            chmod(secretPath, 0o600)
            let migrated = try await runProcess(
                cancelflowBinary(), ["migrate", "--database", database, "--secret-file", secretPath], environment: environment)
            #expect(migrated.status == 0, "\(migrated.stderr)")
            #expect(PrivateFile.mode(folder.appendingPathComponent("db.sqlite").path) == 0o600)
            // The same through the environment.
            environment["CANCELFLOW_SECRET_FILE"] = secretPath
            let created = try await runProcess(
                cancelflowBinary(), ["orgs", "create", "--name", "Acme", "--database", database, "--json"],
                environment: environment)
            #expect(created.status == 0, "\(created.stderr)")
            // Both ways at once is a mistake.
            let both = try await runProcess(
                cancelflowBinary(), ["migrate", "--database", database, "--secret", self.secret], environment: environment)
            #expect(both.status == 1)
            #expect(both.stderr.contains("not both"))
            // The generated secret beside the database is checked the same way.
            environment["CANCELFLOW_SECRET_FILE"] = nil
            let generated = folder.appendingPathComponent("other.sqlite").path
            #expect(try await runProcess(cancelflowBinary(), ["migrate", "--database", generated], environment: environment).status == 0)
            chmod(generated + ".secret", 0o640)
            let loose = try await runProcess(cancelflowBinary(), ["migrate", "--database", generated], environment: environment)
            #expect(loose.status == 1)
            #expect(loose.stderr.contains("chmod 600"))
        }
    }

    static func status(_ url: String) async throws -> Int {
        let (_, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}
