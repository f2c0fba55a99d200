import CancelflowCore
import Foundation
import SQLKit

extension SQLStore: OutcomeStore {
    public func variantOutcomes(organizationID: String, mode: Mode, from: Date, to: Date) async throws -> [VariantOutcomeCount] {
        try await self.pool.read { db in
            try await db.raw(
                """
                SELECT flow_id, flow_version, variant, outcome, COUNT(*) AS n FROM flow_sessions
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue) AND variant IS NOT NULL
                    AND outcome IS NOT NULL AND outcome_at >= \(bind: Millis.from(from)) AND outcome_at < \(bind: Millis.from(to))
                GROUP BY flow_id, flow_version, variant, outcome
                """
            ).all().compactMap { row in
                guard let outcome = FlowOutcome(rawValue: try row.decode(column: "outcome", as: String.self)) else { return nil }
                return VariantOutcomeCount(
                    flowID: try row.decode(column: "flow_id", as: String.self),
                    version: Int(try row.decode(column: "flow_version", as: Int64.self)),
                    variant: try row.decode(column: "variant", as: String.self),
                    outcome: outcome, count: try row.decode(column: "n", as: Int.self))
            }
        }
    }

    public func outcomeCounts(organizationID: String, mode: Mode, from: Date, to: Date) async throws -> OutcomeCounts {
        let (start, end) = (Millis.from(from), Millis.from(to))
        let mode = mode.rawValue
        return try await self.pool.read { db in
            var counts = OutcomeCounts()
            func count(_ query: SQLQueryString) async throws -> Int {
                try await db.raw(query).first()?.decode(column: "n", as: Int.self) ?? 0
            }
            counts.linksMinted = try await count(
                """
                SELECT COUNT(*) AS n FROM cancel_links
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode) AND created_at >= \(bind: start) AND created_at < \(bind: end)
                """)
            counts.linksExchanged = try await count(
                """
                SELECT COUNT(*) AS n FROM link_exchanges e JOIN cancel_links l ON l.id = e.link_id
                WHERE l.organization_id = \(bind: organizationID) AND l.mode = \(bind: mode)
                    AND e.exchanged_at >= \(bind: start) AND e.exchanged_at < \(bind: end)
                """)
            counts.flowsStarted = try await count(
                """
                SELECT COUNT(*) AS n FROM flow_sessions
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode) AND created_at >= \(bind: start) AND created_at < \(bind: end)
                """)
            for row in try await db.raw(
                """
                SELECT outcome, COUNT(*) AS n FROM flow_sessions
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode) AND outcome IS NOT NULL
                    AND outcome_at >= \(bind: start) AND outcome_at < \(bind: end)
                GROUP BY outcome
                """
            ).all() {
                if let outcome = FlowOutcome(rawValue: try row.decode(column: "outcome", as: String.self)) {
                    counts.outcomes[outcome] = try row.decode(column: "n", as: Int.self)
                }
            }
            counts.reasons = try await db.raw(
                """
                SELECT survey_reason, COUNT(*) AS n FROM flow_sessions
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode) AND survey_reason IS NOT NULL
                    AND created_at >= \(bind: start) AND created_at < \(bind: end)
                GROUP BY survey_reason ORDER BY n DESC, survey_reason LIMIT 20
                """
            ).all().map { (try $0.decode(column: "survey_reason", as: String.self), try $0.decode(column: "n", as: Int.self)) }
            counts.comments = try await db.raw(
                """
                SELECT survey_reason, survey_comment, created_at FROM flow_sessions
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode) AND survey_comment IS NOT NULL
                    AND survey_comment <> '' AND created_at >= \(bind: start) AND created_at < \(bind: end)
                ORDER BY created_at DESC LIMIT 50
                """
            ).all().map {
                (
                    try $0.decode(column: "survey_reason", as: String?.self), try $0.decode(column: "survey_comment", as: String.self),
                    Millis.date(try $0.decode(column: "created_at", as: Int64.self))
                )
            }
            // Whole UTC days by integer division, the same on both engines.
            var days: [Int64: (Int, Int)] = [:]
            for row in try await db.raw(
                """
                SELECT created_at / 86400000 AS day, COUNT(*) AS n FROM cancel_links
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode) AND created_at >= \(bind: start) AND created_at < \(bind: end)
                GROUP BY created_at / 86400000
                """
            ).all() {
                days[try row.decode(column: "day", as: Int64.self), default: (0, 0)].0 = try row.decode(column: "n", as: Int.self)
            }
            for row in try await db.raw(
                """
                SELECT outcome_at / 86400000 AS day, COUNT(*) AS n FROM flow_sessions
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode) AND outcome IS NOT NULL AND outcome <> 'abandoned'
                    AND outcome_at >= \(bind: start) AND outcome_at < \(bind: end)
                GROUP BY outcome_at / 86400000
                """
            ).all() {
                days[try row.decode(column: "day", as: Int64.self), default: (0, 0)].1 = try row.decode(column: "n", as: Int.self)
            }
            counts.daily = days.sorted { $0.key < $1.key }.map { (Date(timeIntervalSince1970: TimeInterval($0.key) * 86400), $0.value.0, $0.value.1) }
            return counts
        }
    }

    public func flowSessionRecords(
        organizationID: String, mode: Mode, from: Date, to: Date, after: String?, limit: Int
    ) async throws
        -> [FlowSessionRecord]
    {
        try await self.pool.read { db in
            var query: SQLQueryString = """
                SELECT id, created_at, customer_id, subscription_id, entry, link_id, survey_reason, survey_comment, offer_declined, outcome, outcome_at
                FROM flow_sessions
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)
                    AND created_at >= \(bind: Millis.from(from)) AND created_at < \(bind: Millis.from(to))
                """
            if let after,
                let cursor = try await db.raw("SELECT created_at FROM flow_sessions WHERE id = \(bind: after)").first()?.decode(
                    column: "created_at", as: Int64.self)
            {
                query = query + " AND (created_at > \(bind: cursor) OR (created_at = \(bind: cursor) AND id > \(bind: after)))"
            }
            query = query + " ORDER BY created_at, id LIMIT \(bind: limit)"
            return try await db.raw(query).all().map { row in
                FlowSessionRecord(
                    id: try row.decode(column: "id", as: String.self),
                    createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self)),
                    customerID: try row.decode(column: "customer_id", as: String.self),
                    subscriptionID: try row.decode(column: "subscription_id", as: String?.self),
                    entry: try row.decode(column: "entry", as: String.self),
                    linkID: try row.decode(column: "link_id", as: String?.self),
                    surveyReason: try row.decode(column: "survey_reason", as: String?.self),
                    surveyComment: try row.decode(column: "survey_comment", as: String?.self),
                    offerDeclined: try row.decode(column: "offer_declined", as: Bool.self),
                    outcome: try row.decode(column: "outcome", as: String?.self),
                    outcomeAt: try row.decode(column: "outcome_at", as: Int64?.self).map(Millis.date))
            }
        }
    }
}
