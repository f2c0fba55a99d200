import CancelflowAPI
import CancelflowApp
import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Foundation
import Testing

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
            let database: String = switch location {
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
            let stored = try await store.link(tokenHash: CancelTokenCodec.hash(try #require(minted["token"] as? String)))
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
            #expect(unknown.status != 0)
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
            #expect(badGrace.status != 0)
            let noDomain = try await self.run(["orgs", "verify-domain", "--org", orgID], database: database)
            #expect(noDomain.status != 0)
            let configured = try await self.run(
                ["orgs", "configure-flow", "--org", orgID, "--reason", "Too pricey", "--reason", "Other", "--offer", "pause:2",
                 "--cancel-timing", "immediately", "--brand-color", "#0A7C55", "--json"],
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
                #expect(refused.status != 0, "\(bad)")
            }
            #expect(try await store.flowSettings(organizationID: orgID) == settings, "refused settings change nothing")

            let hook = try await self.run(
                ["webhooks", "add", "--org", orgID, "--mode", "test", "--url", "http://127.0.0.1:9/hooks", "--allow-private-webhooks"],
                database: database
            )
            #expect(hook.status == 0, "\(hook.stderr)")
            #expect(hook.stdout.hasPrefix("whsec_"))
            let refused = try await self.run(["webhooks", "add", "--org", orgID, "--mode", "test", "--url", "http://127.0.0.1:9/x"], database: database)
            #expect(refused.status != 0, "private addresses need --allow-private-webhooks")
            let endpointID = try #require(try await store.endpoints(organizationID: orgID, mode: .test).first?.id)
            let listed = try await self.run(["webhooks", "list", "--org", orgID, "--mode", "test"], database: database)
            #expect(listed.stdout.contains(endpointID))
            let rotatedSecret = try await self.run(["webhooks", "rotate-secret", "--org", orgID, "--mode", "test", "--endpoint", endpointID], database: database)
            #expect(rotatedSecret.stdout.hasPrefix("whsec_") && rotatedSecret.stdout != hook.stdout)
            let pinged = try await self.run(["webhooks", "test", "--org", orgID, "--mode", "test", "--endpoint", endpointID], database: database)
            #expect(pinged.status == 0, "\(pinged.stderr)")
            let deleted = try await self.run(["webhooks", "delete", "--org", orgID, "--mode", "test", "--endpoint", endpointID], database: database)
            #expect(deleted.status == 0)
            #expect(try await store.endpoints(organizationID: orgID, mode: .test).isEmpty)

            let taken = try await self.run(["orgs", "create", "--name", "Other", "--subdomain", "acme"], database: database)
            #expect(taken.status != 0)
            #expect(taken.stderr.contains("already taken"))
        }
    }

    @Test func postgresRequiresASharedSecret() async throws {
        let result = try await runProcess(cancelflowBinary(), ["migrate", "--database", "postgres://u@127.0.0.1:1/x"],
                                          environment: ["CANCELFLOW_SECRET": ""])
        #expect(result.status != 0)
        #expect(result.stderr.contains("secret"))
    }

    /// `cancelflow serve` on a fresh folder: SQLite file, secret file, first organization, health,
    /// and a clean exit on SIGINT.
    @Test func serveStartsOnAnEmptyFolderAndStopsGracefully() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cancelflow-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try freePort()
        var environment = ProcessInfo.processInfo.environment
        environment["CANCELFLOW_SECRET"] = nil
        environment["CANCELFLOW_DATABASE"] = nil
        let server = try ChildProcess(cancelflowBinary(), ["serve", "--port", String(port)], environment: environment, directory: folder)
        defer { server.killNow() }

        var ready = false
        for _ in 0..<100 where !ready {
            try await Task.sleep(for: .milliseconds(100))
            ready = (try? await Self.status("http://127.0.0.1:\(port)/readyz")) == 200
        }
        #expect(ready)
        let stopped = await server.stop(signal: SIGINT, grace: .seconds(30))
        #expect(!stopped.killed, "SIGINT stops the server gracefully")
        #expect(stopped.status == 0 && !stopped.signalled)
        let text = stopped.output
        #expect(text.contains("app_test_") && text.contains("ck_test_") && text.contains("ck_live_"))
        let secretPath = folder.appendingPathComponent("cancelflow.sqlite.secret").path
        let attributes = try FileManager.default.attributesOfItem(atPath: secretPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("cancelflow.sqlite").path))
    }

    static func status(_ url: String) async throws -> Int {
        let (_, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}
