import CancelflowCore
import Foundation
import SQLKit

// MARK: - Idempotency keys

extension SQLStore: IdempotencyStore {
    public func claimIdempotencyKey(
        organizationID: String, mode: Mode, key: String, fingerprint: String, now: Date, staleBefore: Date
    )
        async throws -> IdempotencyClaim
    {
        let nowMillis = Millis.from(now)
        let staleMillis = Millis.from(staleBefore)
        return try await self.pool.write { db in
            // Forget keys older than the window, and claims that never completed within a minute
            // (their request died with its process): the key must not stay "in progress" for a day.
            let abandonedMillis = nowMillis - 60_000
            try await db.raw(
                """
                DELETE FROM idempotency_keys
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue) AND idempotency_key = \(bind: key)
                    AND (created_at < \(bind: staleMillis) OR (response_status IS NULL AND created_at < \(bind: abandonedMillis)))
                """
            ).run()
            // Of concurrent claims, the database's primary key lets exactly one insert.
            let inserted = try await db.raw(
                """
                INSERT INTO idempotency_keys (organization_id, mode, idempotency_key, fingerprint, created_at)
                VALUES (\(bind: organizationID), \(bind: mode.rawValue), \(bind: key), \(bind: fingerprint), \(bind: nowMillis))
                ON CONFLICT (organization_id, mode, idempotency_key) DO NOTHING
                RETURNING idempotency_key
                """
            ).first()
            if inserted != nil { return .claimed }
            let existing = try await db.raw(
                """
                SELECT fingerprint, response_status, response_body FROM idempotency_keys
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue) AND idempotency_key = \(bind: key)
                """
            ).first()
            // Released between our insert and select: treat as still running; the client retries.
            guard let existing else { return .inProgress }
            guard try existing.decode(column: "fingerprint", as: String.self) == fingerprint else { return .mismatch }
            guard let status = try existing.decode(column: "response_status", as: Int64?.self),
                let body = try existing.decode(column: "response_body", as: String?.self),
                let sealed = Data(base64Encoded: body)
            else { return .inProgress }
            return .completed(status: Int(status), sealedBody: Array(sealed))
        }
    }

    public func completeIdempotencyKey(organizationID: String, mode: Mode, key: String, result: IdempotentResult) async throws {
        let completion = IdempotencyCompletion(organizationID: organizationID, mode: mode, key: key, result: result)
        try await self.pool.write { db in try await Self.completeIdempotencyKey(completion, db: db) }
    }

    static func completeIdempotencyKey(_ completion: IdempotencyCompletion, db: any SQLDatabase) async throws {
        let body = Data(completion.result.sealedBody).base64EncodedString()
        try await db.raw(
            """
            UPDATE idempotency_keys SET response_status = \(bind: Int64(completion.result.status)), response_body = \(bind: body)
            WHERE organization_id = \(bind: completion.organizationID) AND mode = \(bind: completion.mode.rawValue)
                AND idempotency_key = \(bind: completion.key)
            """
        ).run()
    }

    public func releaseIdempotencyKey(organizationID: String, mode: Mode, key: String) async throws {
        try await self.pool.run(
            """
            DELETE FROM idempotency_keys
            WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)
                AND idempotency_key = \(bind: key) AND response_status IS NULL
            """
        )
    }
}
