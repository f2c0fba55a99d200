import CancelflowCore
import CancelflowTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// API keys and `cl_` tokens exist in the clear only in the response that issues them.
@Suite struct SecretsTests {
    @Test(arguments: TestEngine.allCases)
    func logsNeverContainKeysOrTokens(engine: TestEngine) async throws {
        let logs = CapturedLogs()
        let token = try await withTestApp(engine, logger: logs.logger()) { client, ctx in
            try await ctx.seedCustomer()
            var headers = ctx.headers()
            headers[HTTPField.Name("Idempotency-Key")!] = "log-check"
            let minted = try await client.mint(ctx, headers: headers)
            let token = try #require(minted.json["token"] as? String)
            _ = try await client.mint(ctx, headers: headers)
            _ = try await client.execute(uri: "/cancel/\(token)", method: .get)
            _ = try await client.execute(uri: "/v1/cancel-sessions?customerId=cus_abc123", method: .get, headers: ctx.headers())
            var wrong = ctx.headers()
            wrong[HTTPField.Name("x-ck-api-key")!] = ctx.live.apiKey
            _ = try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: wrong)
            let text = logs.text
            #expect(text.contains("Minted cancel session"), "the log is really captured")
            #expect(text.contains("/cancel/[redacted]"))
            for secret in [token, ctx.test.apiKey, ctx.live.apiKey, String(token.dropFirst(3)), "test-secret-test-secret"] {
                #expect(!text.contains(secret))
            }
            return token
        }
        #expect(!logs.text.contains(token))
    }

    @Test(arguments: TestEngine.allCases)
    func aDatabaseDumpHoldsNoPlaintextKeyOrToken(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            try await ctx.seedCustomer()
            var headers = ctx.headers()
            headers[HTTPField.Name("Idempotency-Key")!] = "dump-check"
            let minted = try await client.mint(ctx, headers: headers)
            let token = try #require(minted.json["token"] as? String)
            let id = try #require(minted.json["id"] as? String)
            let rotated = try await ctx.services.credentials.rotateKey(organizationID: ctx.organization.id, mode: .live, grace: 60)
            let dump = try await Self.dump(ctx.location)
            #expect(dump.contains(id), "the dump really holds the data")
            #expect(dump.contains(independentSHA256(token)))
            for secret in [token, String(token.dropFirst(3)), ctx.test.apiKey, ctx.live.apiKey, rotated.apiKey] {
                #expect(!dump.contains(secret))
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aForgedTokenIsRejectedWithoutAnyQuery(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            try await ctx.seedCustomer()
            let minted = try await client.mint(ctx)
            let token = try #require(minted.json["token"] as? String)
            var forged = Array(token)
            forged[10] = forged[10] == "a" ? "b" : "a"
            let other = CancelTokenCodec(serverSecret: try ServerSecret("some-other-server-secret-0123456789")).mint().token
            let before = ctx.services.pool.sessionCount
            for candidate in [String(forged), other, "cl_abc123", "", "cl_" + String(repeating: "a", count: 48)] {
                #expect(try await ctx.services.links.resolve(token: candidate) == nil)
            }
            #expect(ctx.services.pool.sessionCount == before, "no database session was opened for a forged token")
            #expect(try await ctx.services.links.resolve(token: token)?.id == minted.json["id"] as? String)
            #expect(ctx.services.pool.sessionCount == before + 1)
        }
    }

    /// Everything the database holds, as bytes an attacker with a copy would see.
    static func dump(_ location: TestDatabase.Location) async throws -> String {
        switch location {
        case .sqlite(let path):
            var text = ""
            for suffix in ["", "-wal", "-shm", "-journal"] {
                if let data = FileManager.default.contents(atPath: path + suffix) {
                    text += String(decoding: data, as: UTF8.self)
                }
            }
            return text
        case .postgres(let url):
            let pgDump = ProcessInfo.processInfo.environment["CANCELFLOW_TEST_PG_DUMP"] ?? "/usr/bin/pg_dump"
            let result = try await runProcess(pgDump, ["--no-owner", "--data-only", url])
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdout
        }
    }
}
