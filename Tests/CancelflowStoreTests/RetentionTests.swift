import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Foundation
import SQLKit
import Testing

/// Tables that would only grow: the sweep deletes what expired, in bounded batches, and the
/// table sizes fall back to what is still live, on both engines.
@Suite struct RetentionTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    func count(_ pool: any DatabasePool, _ table: String) async throws -> Int {
        try await pool.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()?.decode(column: "n", as: Int.self) ?? -1
        }
    }

    /// Inserts `rows` rows made by `values` (given the row number as SQL) in one statement.
    func fill(_ pool: any DatabasePool, rows: Int, into table: String, columns: String, values: String) async throws {
        try await pool.transaction { db in
            try await db.raw(
                """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(unsafeRaw: String(rows)))
                INSERT INTO \(unsafeRaw: table) (\(unsafeRaw: columns)) SELECT \(unsafeRaw: values) FROM n
                """
            ).run()
        }
    }

    @Test(arguments: TestEngine.allCases)
    func theSweepDeletesWhatExpiredAndKeepsWhatIsLive(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let org = Organization(id: Identifier.make("org_"), name: "Acme", createdAt: self.now)
            _ = try await store.createOrganization(org, credentials: [], onlyIfFirst: false)
            let old = Millis.from(self.now.addingTimeInterval(-3 * 86400))
            let fresh = Millis.from(self.now.addingTimeInterval(-60))
            let later = Millis.from(self.now.addingTimeInterval(600))
            try await self.fill(
                pool, rows: 1, into: "dashboard_users", columns: "id, organization_id, email, role, created_at, updated_at",
                values: "'usr_1', '\(org.id)', 'olive@example.com', 'owner', \(old), \(old)"
            )
            for (label, at, rows) in [("old", old, 1_234), ("new", fresh, 7)] {
                try await self.fill(
                    pool, rows: rows, into: "idempotency_keys", columns: "organization_id, mode, idempotency_key, fingerprint, created_at",
                    values: "'\(org.id)', 'test', '\(label)-' || i, 'f', \(at)"
                )
                try await self.fill(
                    pool, rows: rows, into: "rate_limit_counters", columns: "bucket, window_start, hits",
                    values: "'\(label)-' || i, \(at), 1"
                )
                try await self.fill(
                    pool, rows: rows, into: "email_verifications",
                    columns: "id, organization_id, mode, address_hash, browser_hash, code_hash, attempts, created_at, expires_at",
                    values:
                        "'ev_\(label)' || i, '\(org.id)', 'test', '\(label)-a' || i, '\(label)-b' || i, 'c', 0, \(at), \(label == "old" ? old : later)"
                )
                try await self.fill(
                    pool, rows: rows, into: "dashboard_sessions",
                    columns: "id, key_hash, user_id, stage, created_at, last_seen_at, expires_at",
                    values: "'dss_\(label)' || i, '\(label)-k' || i, 'usr_1', 'full', \(at), \(at), \(label == "old" ? old : later)"
                )
                try await self.fill(
                    pool, rows: rows, into: "dashboard_setup_links",
                    columns: "token_hash, organization_id, role, purpose, clears_totp, created_at, expires_at",
                    values:
                        "'\(label)-t' || i, '\(org.id)', 'owner', 'setup', \(engine == .postgres ? "false" : "0"), \(at), \(label == "old" ? old : later)"
                )
            }
            for table in ExpiringRecords.allCases {
                #expect(try await self.count(pool, table.rawValue) == 1_241, "\(table) before")
            }

            let retention = RetentionService(store: store, time: ManualTimeSource(self.now))
            #expect(try await retention.sweep().isEmpty, "everything expired went in one sweep")
            for table in ExpiringRecords.allCases {
                #expect(try await self.count(pool, table.rawValue) == 7, "\(table) after")
            }

            // A backlog larger than one sweep's batches is left for the next, and said so.
            try await self.fill(
                pool, rows: 25, into: "idempotency_keys", columns: "organization_id, mode, idempotency_key, fingerprint, created_at",
                values: "'\(org.id)', 'live', 'again-' || i, 'f', \(old)"
            )
            let cutoff = retention.cutoff(.idempotencyKeys, now: self.now)
            #expect(try await store.purge(.idempotencyKeys, before: cutoff, batchSize: 10, maximumBatches: 2) == (batches: 2, more: true))
            #expect(try await self.count(pool, "idempotency_keys") == 7 + 5)
            #expect(try await store.purge(.idempotencyKeys, before: cutoff, batchSize: 10, maximumBatches: 2) == (batches: 1, more: false))
            #expect(try await self.count(pool, "idempotency_keys") == 7)
        }
    }
}
