import Foundation

/// Credential records kept in memory for a few seconds, so the API-key check on every `/v1`
/// request does not query the database each time.
///
/// Revocation and rotation still take effect within `lifetime` on every instance: an entry is
/// used only while younger than that, and a rotated-out key's expiry is checked against the clock
/// at each use. A key the cached entry does not know (just issued on another instance) causes one
/// fresh lookup, so a new key works at once.
public final class CredentialCache: Sendable {
    let entries: ExpiringCache<CredentialRecord>

    /// How long an entry is trusted.
    public var lifetime: TimeInterval { self.entries.lifetime }

    /// A cache whose entries live `lifetime` seconds; 0 turns caching off.
    public init(lifetime: TimeInterval) {
        self.entries = ExpiringCache(lifetime: lifetime)
    }

    /// The record for an App ID if a fresh one is cached.
    func record(appID: String, now: Date) -> CredentialRecord? {
        self.entries.value(appID, now: now)
    }

    func store(_ record: CredentialRecord, appID: String, now: Date) {
        self.entries.store(record, appID, now: now)
    }

    /// Forgets an App ID (after a rotation on this instance).
    public func invalidate(appID: String) {
        self.entries.remove(key: appID)
    }
}
