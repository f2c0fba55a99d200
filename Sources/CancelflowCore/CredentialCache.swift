import Foundation
import Synchronization

/// Credential records kept in memory for a few seconds, so the API-key check on every `/v1`
/// request does not query the database each time.
///
/// Revocation and rotation still take effect within `lifetime` on every instance: an entry is
/// used only while younger than that, and a rotated-out key's expiry is checked against the clock
/// at each use. A key the cached entry does not know (just issued on another instance) causes one
/// fresh lookup, so a new key works at once.
public final class CredentialCache: Sendable {
    struct Entry {
        let record: CredentialRecord
        let fetchedAt: Date
    }

    /// How long an entry is trusted.
    public let lifetime: TimeInterval
    /// Entries kept at most; the oldest half is dropped when full.
    static let capacity = 10_000

    private let entries = Mutex<[String: Entry]>([:])

    /// A cache whose entries live `lifetime` seconds; 0 turns caching off.
    public init(lifetime: TimeInterval) {
        self.lifetime = lifetime
    }

    /// The record for an App ID if a fresh one is cached.
    func record(appID: String, now: Date) -> CredentialRecord? {
        guard self.lifetime > 0 else { return nil }
        return self.entries.withLock { entries in
            guard let entry = entries[appID] else { return nil }
            let age = now.timeIntervalSince(entry.fetchedAt)
            guard age >= 0, age < self.lifetime else {
                entries[appID] = nil
                return nil
            }
            return entry.record
        }
    }

    func store(_ record: CredentialRecord, appID: String, now: Date) {
        guard self.lifetime > 0 else { return }
        self.entries.withLock { entries in
            if entries.count >= Self.capacity {
                let oldest = entries.sorted { $0.value.fetchedAt < $1.value.fetchedAt }.prefix(Self.capacity / 2).map(\.key)
                for key in oldest { entries[key] = nil }
            }
            entries[appID] = Entry(record: record, fetchedAt: now)
        }
    }

    /// Forgets an App ID (after a rotation on this instance).
    public func invalidate(appID: String) {
        _ = self.entries.withLock { $0.removeValue(forKey: appID) }
    }
}
