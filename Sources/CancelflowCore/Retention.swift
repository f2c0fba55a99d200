import Foundation

/// Records that are worth nothing once they expire, and are deleted by the sweeper.
public enum ExpiringRecords: String, Sendable, CaseIterable {
    /// Idempotency keys, after their 24-hour replay window.
    case idempotencyKeys = "idempotency_keys"
    /// Email verification codes, an hour after they stopped working.
    case emailVerifications = "email_verifications"
    /// Rate-limit counters, once their window (an hour, or a day for code tries) is long over.
    case rateLimitCounters = "rate_limit_counters"
    /// Dashboard sessions, once past their absolute lifetime.
    case dashboardSessions = "dashboard_sessions"
    /// Dashboard set-up and reset links, a day after they stopped working.
    case dashboardSetupLinks = "dashboard_setup_links"
}

/// Deletes expired records in bounded batches.
public protocol RetentionStore: Sendable {
    /// Deletes records of `kind` that expired before `before`, `batchSize` at a time (each batch
    /// its own short write, so the writer is never held for long and nothing is loaded into
    /// memory), until none are left or `maximumBatches` ran. Returns how many batches ran and
    /// whether expired records are left for the next sweep.
    func purge(_ kind: ExpiringRecords, before: Date, batchSize: Int, maximumBatches: Int) async throws -> (batches: Int, more: Bool)
}

/// What expires when, and the sweep that deletes it.
public struct RetentionService: Sendable {
    /// How long an idempotency key replays its first answer.
    public static let idempotencyWindow: TimeInterval = 24 * 3600
    /// Rows per delete.
    public static let batchSize = 500
    /// Batches per kind per sweep: a large backlog is worked off over several sweeps.
    public static let maximumBatches = 200

    let store: any RetentionStore
    let time: any TimeSource

    public init(store: any RetentionStore, time: any TimeSource) {
        self.store = store
        self.time = time
    }

    /// The moment before which records of `kind` are worth nothing.
    public func cutoff(_ kind: ExpiringRecords, now: Date) -> Date {
        switch kind {
        case .idempotencyKeys: now.addingTimeInterval(-Self.idempotencyWindow)
        // An hour's grace after expiry, so a customer typing a code just too late still sees
        // "expired" rather than "unknown".
        case .emailVerifications: now.addingTimeInterval(-VerificationService.window)
        // Daily windows (wrong tries per address) are the longest that matter.
        case .rateLimitCounters: VerificationService.dayStart(now).addingTimeInterval(-86400)
        case .dashboardSessions: now
        // A day's grace, so someone opening a just-expired link is told it expired.
        case .dashboardSetupLinks: now.addingTimeInterval(-86400)
        }
    }

    /// Deletes everything that has expired, kind by kind; returns the kinds with more left.
    @discardableResult
    public func sweep() async throws -> [ExpiringRecords] {
        let now = self.time.now()
        var more: [ExpiringRecords] = []
        for kind in ExpiringRecords.allCases {
            let result = try await self.store.purge(
                kind, before: self.cutoff(kind, now: now), batchSize: Self.batchSize, maximumBatches: Self.maximumBatches
            )
            if result.more { more.append(kind) }
        }
        return more
    }
}
