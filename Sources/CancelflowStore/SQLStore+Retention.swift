import CancelflowCore
import Foundation
import SQLKit

extension SQLStore: RetentionStore {
    /// The primary key and the expiry column of each kind (trusted text, never input).
    static func retentionColumns(_ kind: ExpiringRecords) -> (key: String, time: String) {
        switch kind {
        case .idempotencyKeys: ("(organization_id, mode, idempotency_key)", "created_at")
        case .emailVerifications: ("id", "expires_at")
        case .rateLimitCounters: ("(bucket, window_start)", "window_start")
        case .dashboardSessions: ("id", "expires_at")
        case .dashboardSetupLinks: ("token_hash", "expires_at")
        }
    }

    public func purge(_ kind: ExpiringRecords, before: Date, batchSize: Int, maximumBatches: Int) async throws -> (batches: Int, more: Bool) {
        let table = kind.rawValue
        let (key, time) = Self.retentionColumns(kind)
        let cutoff = Millis.from(before)
        let columns = key.trimmingCharacters(in: CharacterSet(charactersIn: "()"))
        var batches = 0
        while batches < maximumBatches {
            // A row-value IN over a bounded sub-select: portable (no DELETE … LIMIT on either
            // engine), served by the expiry column's index, and nothing comes back to us.
            try await self.pool.write { db in
                try await db.raw(
                    SQLQueryString(
                        "DELETE FROM \(unsafeRaw: table) WHERE \(unsafeRaw: key) IN (SELECT \(unsafeRaw: columns) FROM \(unsafeRaw: table) "
                    ) + "WHERE \(unsafeRaw: time) < \(bind: cutoff) LIMIT \(bind: batchSize))"
                ).run()
            }
            batches += 1
            let left = try await self.pool.read { db in
                try await db.raw(
                    "SELECT 1 AS more FROM \(unsafeRaw: table) WHERE \(unsafeRaw: time) < \(bind: cutoff) LIMIT 1"
                ).first()
            }
            if left == nil { return (batches, false) }
        }
        return (batches, true)
    }
}
