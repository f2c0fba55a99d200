import CancelflowCore
import Foundation
import SQLKit

extension SQLStore: VerificationStore {
    public func hit(_ buckets: [RateLimitBucket], windowStart: Date) async throws -> Bool {
        let window = Millis.from(windowStart)
        do {
            try await self.pool.transaction { db in
                for bucket in buckets {
                    // One conditional upsert per bucket: the database serialises concurrent hits
                    // from every instance, and a bucket already at its limit is left as it is
                    // and returns no row.
                    let row = try await db.raw(
                        """
                        INSERT INTO rate_limit_counters (bucket, window_start, hits) VALUES (\(bind: bucket.key), \(bind: window), 1)
                        ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_counters.hits + 1
                        WHERE rate_limit_counters.hits < \(bind: bucket.limit)
                        RETURNING hits
                        """
                    ).first()
                    // Over a limit: stop here and roll back the hits already counted, so a
                    // refused request uses up no budget and writes no row.
                    guard row != nil else { throw OverLimit() }
                }
            }
            return true
        } catch is OverLimit {
            return false
        }
    }

    /// Thrown inside `hit`'s transaction to roll it back.
    private struct OverLimit: Error {}

    public func refund(bucketKey: String, windowStart: Date) async throws {
        try await self.pool.write { db in
            try await db.raw(
                """
                UPDATE rate_limit_counters SET hits = hits - 1
                WHERE bucket = \(bind: bucketKey) AND window_start = \(bind: Millis.from(windowStart)) AND hits > 0
                """
            ).run()
        }
    }

    public func customer(organizationID: String, mode: Mode, email: String) async throws -> Customer? {
        try await self.pool.read { db in
            try await db.raw(
                """
                SELECT c.* FROM customers c
                WHERE c.organization_id = \(bind: organizationID) AND c.mode = \(bind: mode.rawValue) AND c.email = \(bind: email)
                ORDER BY CASE WHEN EXISTS (
                    SELECT 1 FROM subscriptions s
                    WHERE s.organization_id = c.organization_id AND s.mode = c.mode AND s.customer_id = c.id
                        AND s.status IN ('active', 'trialing', 'past_due') AND s.cancel_at_period_end = \(bind: false)
                ) THEN 0 ELSE 1 END, c.created_at DESC, c.id DESC
                LIMIT 1
                """
            ).first().map(Self.decodeCustomer)
        }
    }

    public func saveVerification(
        _ verification: EmailVerification, addressHash: String, browserHash: String, codeHash: String
    )
        async throws
    {
        try await self.pool.write { db in
            try await db.raw(
                """
                INSERT INTO email_verifications (id, organization_id, mode, address_hash, browser_hash, customer_id, code_hash, attempts,
                    created_at, expires_at, used_at)
                VALUES (\(bind: verification.id), \(bind: verification.organizationID), \(bind: verification.mode.rawValue),
                    \(bind: addressHash), \(bind: browserHash), \(bind: verification.customerID), \(bind: codeHash), 0,
                    \(bind: Millis.from(verification.createdAt)), \(bind: Millis.from(verification.expiresAt)), NULL)
                ON CONFLICT (organization_id, mode, address_hash) DO UPDATE SET
                    id = excluded.id, browser_hash = excluded.browser_hash, customer_id = excluded.customer_id,
                    code_hash = excluded.code_hash, attempts = 0, created_at = excluded.created_at, expires_at = excluded.expires_at,
                    used_at = NULL
                """
            ).run()
        }
    }

    public func redeemVerification(
        organizationID: String, mode: Mode, browserHash: String, now: Date, maximumAttempts: Int, dailyTries: Int, dayStart: Date,
        session: @escaping @Sendable (EmailVerification) -> FlowSession, sessionHash: String,
        matches: @escaping @Sendable (EmailVerification, String) -> Bool
    ) async throws -> VerificationRedemption {
        let nowMillis = Millis.from(now)
        return try await self.pool.transaction { db in
            let scope = SQLQueryString(
                "browser_hash = \(bind: browserHash) AND organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)"
            )
            // The try is counted before the code is compared: of parallel guesses, no more than the
            // limit ever reach the comparison.
            let row = try await db.raw(
                "UPDATE email_verifications SET attempts = attempts + 1 WHERE " + scope + """
                     AND used_at IS NULL AND expires_at > \(bind: nowMillis) AND attempts < \(bind: maximumAttempts)
                    RETURNING *
                    """
            ).first()
            guard let row else {
                let burnt = try await db.raw(
                    "SELECT 1 AS burnt FROM email_verifications WHERE " + scope
                        + " AND used_at IS NULL AND expires_at > \(bind: nowMillis)"
                ).first()
                return burnt == nil ? .expired : .exhausted
            }
            let verification = try Self.decodeVerification(row)
            let codeHash = try row.decode(column: "code_hash", as: String.self)
            // A daily allowance per address that new codes do not reset: five tries a code and
            // five codes an hour would otherwise allow a slow, endless search.
            let addressHash = try row.decode(column: "address_hash", as: String.self)
            let tries =
                try await db.raw(
                    """
                    INSERT INTO rate_limit_counters (bucket, window_start, hits)
                    VALUES (\(bind: "verify-tries:\(organizationID):\(mode.rawValue):\(addressHash)"), \(bind: Millis.from(dayStart)), 1)
                    ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_counters.hits + 1
                    RETURNING hits
                    """
                ).first()?.decode(column: "hits", as: Int.self) ?? Int.max
            guard tries <= dailyTries else { return .tooManyTries }
            guard matches(verification, codeHash), verification.customerID != nil else {
                let left = maximumAttempts - verification.attempts
                return left > 0 ? .wrongCode(attemptsLeft: left) : .exhausted
            }
            try await db.raw(
                "UPDATE email_verifications SET used_at = \(bind: nowMillis) WHERE id = \(bind: verification.id)"
            ).run()
            let started = session(verification)
            try await Self.insertFlowSession(started, sessionHash: sessionHash, db: db)
            return .redeemed(started)
        }
    }

    static func decodeVerification(_ row: any SQLRow) throws -> EmailVerification {
        EmailVerification(
            id: try row.decode(column: "id", as: String.self),
            organizationID: try row.decode(column: "organization_id", as: String.self),
            mode: try Self.decodeMode(row.decode(column: "mode", as: String.self)),
            customerID: try row.decode(column: "customer_id", as: String?.self),
            attempts: try row.decode(column: "attempts", as: Int.self),
            createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self)),
            expiresAt: Millis.date(try row.decode(column: "expires_at", as: Int64.self)),
            usedAt: try row.decode(column: "used_at", as: Int64?.self).map(Millis.date)
        )
    }
}
