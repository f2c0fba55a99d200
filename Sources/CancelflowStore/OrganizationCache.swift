import CancelflowCore
import Foundation
import Synchronization

/// Organizations kept in memory for a few seconds, by id and by the host they answer on, so that
/// a mint, a landing page or a customer read does not read and decode the organization's row
/// each time (a tenth of a simple `/v1` request's time before this cache).
///
/// The staleness bound is the API-key cache's (`--api-key-cache`): a change made through this
/// store empties the cache at once, and a change made on another instance is seen within the
/// lifetime. A read that began before a change never stores what it read after the change: each
/// change moves a generation on, and a value read under an older generation is not kept.
/// Hand-written rather than `ExpiringCache`: that one takes the caller's clock, which tests move
/// at will, and has no generation.
final class OrganizationCache: Sendable {
    struct State {
        var generation: UInt64 = 0
        var entries: [String: (organization: Organization, storedAt: ContinuousClock.Instant)] = [:]
    }

    let lifetime: Duration
    static let capacity = 10_000
    private let state = Mutex(State())

    init(lifetime: TimeInterval) {
        self.lifetime = .milliseconds(Int64(lifetime * 1000))
    }

    var enabled: Bool { self.lifetime > .zero }

    /// A fresh value, or nil; and the generation to store a value read now under.
    func value(_ key: String) -> (Organization?, UInt64) {
        self.state.withLock { state in
            guard let entry = state.entries[key] else { return (nil, state.generation) }
            guard ContinuousClock.now - entry.storedAt < self.lifetime else {
                state.entries[key] = nil
                return (nil, state.generation)
            }
            return (entry.organization, state.generation)
        }
    }

    func store(_ organization: Organization, _ key: String, generation: UInt64) {
        self.state.withLock { state in
            guard state.generation == generation else { return }
            if state.entries.count >= Self.capacity { state.entries.removeAll() }
            state.entries[key] = (organization, ContinuousClock.now)
        }
    }

    /// Forgets everything (an organization changed; they are few, and a rename also moves hosts).
    func invalidate() {
        self.state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll()
        }
    }

    /// `body`'s organization, from the cache when fresh; only found organizations are kept (an
    /// unknown host must not fill the cache).
    func cached(_ key: String, _ body: () async throws -> Organization?) async throws -> Organization? {
        guard self.enabled else { return try await body() }
        let (hit, generation) = self.value(key)
        if let hit { return hit }
        let read = try await body()
        if let read { self.store(read, key, generation: generation) }
        return read
    }
}
