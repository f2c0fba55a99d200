import CancelflowCore
import Foundation
import SQLKit

extension SQLStore: BillingAccountStore {
    public func billingAccount(organizationID: String, mode: Mode) async throws -> BillingAccount? {
        try await self.pool.read { db in
            try await db.raw(
                "SELECT * FROM billing_accounts WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)"
            ).first().map(Self.decodeBillingAccount)
        }
    }

    public func setBillingAccount(_ account: BillingAccount) async throws {
        let sealed = account.sealedKey.map { Data($0).base64EncodedString() }
        try await self.pool.write { db in
            try await db.raw(
                """
                INSERT INTO billing_accounts (organization_id, mode, provider, sealed_key, key_hint, api_base, pause_behavior, updated_at)
                VALUES (\(bind: account.organizationID), \(bind: account.mode.rawValue), \(bind: account.provider.rawValue), \(bind: sealed),
                    \(bind: account.keyHint), \(bind: account.apiBase), \(bind: account.pauseBehavior.rawValue),
                    \(bind: Millis.from(account.updatedAt)))
                ON CONFLICT (organization_id, mode) DO UPDATE SET
                    provider = excluded.provider, sealed_key = excluded.sealed_key, key_hint = excluded.key_hint,
                    api_base = excluded.api_base, pause_behavior = excluded.pause_behavior, updated_at = excluded.updated_at
                """
            ).run()
        }
    }

    static func decodeBillingAccount(_ row: any SQLRow) throws -> BillingAccount {
        let provider = try row.decode(column: "provider", as: String.self)
        let sealed = try row.decode(column: "sealed_key", as: String?.self)
        return BillingAccount(
            organizationID: try row.decode(column: "organization_id", as: String.self),
            mode: try Self.decodeMode(row.decode(column: "mode", as: String.self)),
            provider: BillingProviderKind(rawValue: provider) ?? .builtin,
            sealedKey: sealed.flatMap { Data(base64Encoded: $0) }.map { Array($0) },
            keyHint: try row.decode(column: "key_hint", as: String?.self),
            apiBase: try row.decode(column: "api_base", as: String?.self),
            pauseBehavior: StripePauseBehavior(rawValue: try row.decode(column: "pause_behavior", as: String.self)) ?? .markUncollectible,
            updatedAt: Millis.date(try row.decode(column: "updated_at", as: Int64.self))
        )
    }
}

extension SQLStore: BillingActionStore {
    public func claimBillingAction(_ attempt: BillingAttempt, now: Date, claimUntil: Date) async throws -> BillingAttempt? {
        let nowMillis = Millis.from(now)
        return try await self.pool.write { db in
            // One statement decides who may call the provider: a new action, one the provider
            // refused, or one whose claim ran out (its request died, or an unknown try's quiet
            // period is over). A live claim or a success is left alone and nothing comes back.
            try await db.raw(
                """
                INSERT INTO billing_actions (flow_session_id, organization_id, mode, provider, subscription_id, action, status, attempts,
                    claimed_until, created_at, updated_at)
                VALUES (\(bind: attempt.sessionID), \(bind: attempt.organizationID), \(bind: attempt.mode.rawValue),
                    \(bind: attempt.provider.rawValue), \(bind: attempt.subscriptionID), \(bind: attempt.action), 'pending', 1,
                    \(bind: Millis.from(claimUntil)), \(bind: Millis.from(attempt.createdAt)), \(bind: nowMillis))
                ON CONFLICT (flow_session_id) DO UPDATE SET
                    status = 'pending', attempts = billing_actions.attempts + 1, claimed_until = excluded.claimed_until,
                    created_at = CASE WHEN billing_actions.action = excluded.action AND billing_actions.subscription_id = excluded.subscription_id
                        THEN billing_actions.created_at ELSE excluded.created_at END,
                    action = excluded.action, subscription_id = excluded.subscription_id, provider = excluded.provider,
                    updated_at = excluded.updated_at
                WHERE billing_actions.status = 'failed'
                    OR (billing_actions.status IN ('pending', 'unknown') AND billing_actions.claimed_until < \(bind: nowMillis))
                RETURNING *
                """
            ).first().map(Self.decodeBillingAttempt)
        }
    }

    public func billingAction(sessionID: String) async throws -> BillingAttempt? {
        try await self.pool.read { db in
            try await db.raw("SELECT * FROM billing_actions WHERE flow_session_id = \(bind: sessionID)").first().map(Self.decodeBillingAttempt)
        }
    }

    public func failBillingAction(
        sessionID: String, attempt: Int, error: String, status: BillingAttemptStatus, now: Date, quietUntil: Date
    ) async throws {
        try await self.pool.write { db in
            // Only the try that holds the claim: a late answer to an older one changes nothing.
            try await db.raw(
                """
                UPDATE billing_actions SET status = \(bind: status.rawValue), last_error = \(bind: error),
                    claimed_until = \(bind: Millis.from(status == .unknown ? quietUntil : now)), updated_at = \(bind: Millis.from(now))
                WHERE flow_session_id = \(bind: sessionID) AND status = 'pending' AND attempts = \(bind: Int64(attempt))
                """
            ).run()
        }
    }

    public func dismissBillingAction(sessionID: String, attempt: Int, now: Date) async throws {
        try await self.pool.write { db in
            try await db.raw(
                """
                UPDATE billing_actions SET status = 'failed', updated_at = \(bind: Millis.from(now))
                WHERE flow_session_id = \(bind: sessionID) AND status IN ('pending', 'unknown') AND attempts = \(bind: Int64(attempt))
                    AND claimed_until < \(bind: Millis.from(now))
                """
            ).run()
        }
    }

    public func unsettledExpiredSessions(now: Date, limit: Int) async throws -> [FlowSession] {
        let nowMillis = Millis.from(now)
        return try await self.pool.read { db in
            try await db.raw(
                """
                SELECT flow_sessions.* FROM flow_sessions JOIN billing_actions ON billing_actions.flow_session_id = flow_sessions.id
                WHERE flow_sessions.outcome IS NULL AND flow_sessions.expires_at <= \(bind: nowMillis)
                    AND billing_actions.status IN ('pending', 'unknown') AND billing_actions.claimed_until < \(bind: nowMillis)
                ORDER BY flow_sessions.expires_at LIMIT \(bind: Int64(limit))
                """
            ).all().map(Self.decodeFlowSession)
        }
    }

    static func decodeBillingAttempt(_ row: any SQLRow) throws -> BillingAttempt {
        BillingAttempt(
            sessionID: try row.decode(column: "flow_session_id", as: String.self),
            organizationID: try row.decode(column: "organization_id", as: String.self),
            mode: try Self.decodeMode(row.decode(column: "mode", as: String.self)),
            provider: BillingProviderKind(rawValue: try row.decode(column: "provider", as: String.self)) ?? .builtin,
            subscriptionID: try row.decode(column: "subscription_id", as: String.self),
            action: try row.decode(column: "action", as: String.self),
            status: BillingAttemptStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
            attempts: Int(try row.decode(column: "attempts", as: Int64.self)),
            lastError: try row.decode(column: "last_error", as: String?.self),
            createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self)),
            claimedUntil: Millis.date(try row.decode(column: "claimed_until", as: Int64.self))
        )
    }
}
