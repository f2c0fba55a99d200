import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Foundation
import Logging
import Testing

/// `cancelflow backup` copies a live SQLite database while the server goes on minting; the copy,
/// opened as a restored database, holds every link answered before the backup began.
@Suite struct BackupTests {
    @Test func aBackupOfALiveDatabaseRestoresEveryLink() async throws {
        let (tokens, stopped) = try await ServeProcess.with { server in
            let (appID, apiKey) = try await server.testCredentials()
            let headers = ["x-ck-app": appID, "x-ck-api-key": apiKey]
            let customer = try await httpRequest("PUT", "\(server.baseURL)/v1/customers/cus_1", headers: headers, body: #"{"name":"Ada"}"#)
            #expect(customer.status == 200, "\(customer.body)")
            let expires = ISO8601DateFormatter().string(from: Date().addingTimeInterval(86400))
            @Sendable func mint() async throws -> String? {
                let answer = try await httpRequest(
                    "POST", "\(server.baseURL)/v1/cancel-sessions", headers: headers, body: #"{"customerId":"cus_1","expiresAt":"\#(expires)"}"#
                )
                guard answer.status == 201 else { return nil }
                return (try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["token"] as? String
            }
            var before: [String] = []
            for _ in 0..<40 { if let token = try await mint() { before.append(token) } }
            #expect(before.count == 40)
            let target = server.folder.appendingPathComponent("backup.sqlite").path
            // Minting goes on while the backup runs.
            async let during: [String?] = (0..<40).asyncMap { _ in try await mint() }
            let backup = try await runProcess(
                cancelflowBinary(),
                ["backup", "--to", target, "--database", "sqlite:" + server.folder.appendingPathComponent("cancelflow.sqlite").path])
            #expect(backup.status == 0, "\(backup.stderr)")
            #expect(backup.stdout.contains("Copied"))
            #expect(try await during.compactMap { $0 }.count == 40, "the server kept answering")
            #expect(PrivateFile.mode(target) == 0o600)
            let again = try await runProcess(
                cancelflowBinary(),
                ["backup", "--to", target, "--database", "sqlite:" + server.folder.appendingPathComponent("cancelflow.sqlite").path])
            #expect(again.status == 1 && again.stderr.contains("already exists"), "a backup never overwrites")

            // Restore: open the copy on its own, as a new server would.
            let restored = try await SQLiteDatabasePool.open(
                path: target, logger: Logger(label: "restore", factory: { _ in SwiftLogNoOpLogHandler() }))
            let store = SQLStore(pool: restored)
            var found = 0
            for token in before {
                // The stored hash is SHA-256 of the token, computed here independently.
                let hash = independentSHA256(token)
                if try await store.link(tokenHash: hash) != nil { found += 1 }
            }
            try await restored.shutdown()
            return before.count == found ? before : []
        }
        #expect(tokens.count == 40, "every link minted before the backup is in the copy")
        #expect(!stopped.killed)
    }

    @Test func postgresBackupsPointToPgDump() async throws {
        let result = try await runProcess(cancelflowBinary(), ["backup", "--to", "/tmp/x.sqlite", "--database", "postgres://u@127.0.0.1:1/x"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("pg_dump"))
    }
}

extension Range where Bound == Int {
    /// Runs `body` for every element concurrently; results in order.
    func asyncMap<T: Sendable>(_ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
        try await withThrowingTaskGroup(of: (Int, T).self) { group in
            for index in self { group.addTask { (index, try await body(index)) } }
            var results: [(Int, T)] = []
            for try await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }
}
