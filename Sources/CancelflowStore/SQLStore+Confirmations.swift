import CancelflowCore
import Foundation
import SQLKit

extension SQLStore: ConfirmationStore {
    static func insertConfirmation(_ c: FlowConfirmation, db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO flow_confirmations (flow_session_id, organization_id, mode, to_address, reference, outcome, customer_name, plan_name,
                effective_at, ends_at, percent, months, locale, status, attempts, next_attempt_at, created_at)
            VALUES (\(bind: c.sessionID), \(bind: c.organizationID), \(bind: c.mode.rawValue), \(bind: c.to), \(bind: c.reference),
                \(bind: c.outcome.rawValue), \(bind: c.customerName), \(bind: c.planName), \(bind: Millis.from(c.effectiveAt)),
                \(bind: c.endsAt.map(Millis.from)), \(bind: c.percent.map(Int64.init)), \(bind: c.months.map(Int64.init)), \(bind: c.locale),
                'pending', 0, \(bind: Millis.from(c.nextAttemptAt ?? c.createdAt)), \(bind: Millis.from(c.createdAt)))
            ON CONFLICT (flow_session_id) DO NOTHING
            """
        ).run()
    }

    public func claimConfirmations(now: Date, lockUntil: Date, limit: Int) async throws -> [FlowConfirmation] {
        let nowMillis = Millis.from(now)
        return try await self.pool.write { db in
            // One conditional update: of two senders, each row goes to one.
            try await db.raw(
                """
                UPDATE flow_confirmations SET locked_until = \(bind: Millis.from(lockUntil))
                WHERE flow_session_id IN (
                    SELECT flow_session_id FROM flow_confirmations
                    WHERE status = 'pending' AND next_attempt_at <= \(bind: nowMillis)
                        AND (locked_until IS NULL OR locked_until <= \(bind: nowMillis))
                    ORDER BY next_attempt_at LIMIT \(bind: Int64(limit)))
                    AND status = 'pending' AND (locked_until IS NULL OR locked_until <= \(bind: nowMillis))
                RETURNING *
                """
            ).all().map(Self.decodeConfirmation)
        }
    }

    public func recordConfirmation(sessionID: String, sentAt: Date?, error: String?, nextAttemptAt: Date?) async throws {
        let status: FlowConfirmation.Status = sentAt != nil ? .sent : (nextAttemptAt == nil ? .failed : .pending)
        try await self.pool.write { db in
            try await db.raw(
                """
                UPDATE flow_confirmations SET status = \(bind: status.rawValue), attempts = attempts + 1, last_error = \(bind: error),
                    sent_at = \(bind: sentAt.map(Millis.from)), next_attempt_at = \(bind: nextAttemptAt.map(Millis.from)), locked_until = NULL
                WHERE flow_session_id = \(bind: sessionID) AND status = 'pending'
                """
            ).run()
        }
    }

    public func confirmation(sessionID: String) async throws -> FlowConfirmation? {
        try await self.pool.read { db in
            try await db.raw("SELECT * FROM flow_confirmations WHERE flow_session_id = \(bind: sessionID)").first().map(Self.decodeConfirmation)
        }
    }

    static func decodeConfirmation(_ row: any SQLRow) throws -> FlowConfirmation {
        guard let outcome = FlowOutcome(rawValue: try row.decode(column: "outcome", as: String.self)) else {
            throw StoreError.corrupt("unknown confirmation outcome")
        }
        var confirmation = FlowConfirmation(
            sessionID: try row.decode(column: "flow_session_id", as: String.self),
            organizationID: try row.decode(column: "organization_id", as: String.self),
            mode: try Self.decodeMode(row.decode(column: "mode", as: String.self)),
            to: try row.decode(column: "to_address", as: String.self), outcome: outcome,
            customerName: try row.decode(column: "customer_name", as: String?.self),
            planName: try row.decode(column: "plan_name", as: String?.self),
            effectiveAt: Millis.date(try row.decode(column: "effective_at", as: Int64.self)),
            endsAt: try row.decode(column: "ends_at", as: Int64?.self).map(Millis.date),
            percent: try row.decode(column: "percent", as: Int64?.self).map { Int($0) },
            months: try row.decode(column: "months", as: Int64?.self).map { Int($0) },
            locale: try row.decode(column: "locale", as: String?.self),
            createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self)))
        confirmation.reference = try row.decode(column: "reference", as: String.self)
        confirmation.status = FlowConfirmation.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .pending
        confirmation.attempts = Int(try row.decode(column: "attempts", as: Int64.self))
        confirmation.lastError = try row.decode(column: "last_error", as: String?.self)
        confirmation.nextAttemptAt = try row.decode(column: "next_attempt_at", as: Int64?.self).map(Millis.date)
        confirmation.sentAt = try row.decode(column: "sent_at", as: Int64?.self).map(Millis.date)
        return confirmation
    }
}
