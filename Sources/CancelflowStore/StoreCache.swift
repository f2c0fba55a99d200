import CancelflowCore
import Foundation
import Synchronization

/// Rows kept in memory for a few seconds so that the hot paths do not read and decode them on
/// every request: organizations by id and by host (a tenth of a simple `/v1` request's time
/// before this cache), and the webhook endpoints of each organization and mode (a statement
/// inside every mint's and exchange's transaction before it).
///
/// The staleness bound is the API-key cache's (`--api-key-cache`): a change made through this
/// store empties the cache at once, and a change made on another instance is seen within the
/// lifetime. A read that began before a change never stores what it read after the change: each
/// change moves a generation on, and a value read under an older generation is not kept.
/// Hand-written rather than `ExpiringCache`: that one takes the caller's clock, which tests move
/// at will, and has no generation.
final class StoreCache<Value: Sendable>: Sendable {
    struct State {
        var generation: UInt64 = 0
        var entries: [String: (value: Value, storedAt: ContinuousClock.Instant)] = [:]
    }

    let lifetime: Duration
    let capacity: Int
    private let state = Mutex(State())

    init(lifetime: TimeInterval, capacity: Int = 10_000) {
        self.lifetime = .milliseconds(Int64(lifetime * 1000))
        self.capacity = capacity
    }

    var enabled: Bool { self.lifetime > .zero }

    /// A fresh value, or nil; and the generation to store a value read now under.
    func value(_ key: String) -> (Value?, UInt64) {
        self.state.withLock { state in
            guard let entry = state.entries[key] else { return (nil, state.generation) }
            guard ContinuousClock.now - entry.storedAt < self.lifetime else {
                state.entries[key] = nil
                return (nil, state.generation)
            }
            return (entry.value, state.generation)
        }
    }

    func store(_ value: Value, _ key: String, generation: UInt64) {
        self.state.withLock { state in
            guard state.generation == generation else { return }
            // Emptied rather than evicted one by one: reaching the capacity means an unusual
            // spread of keys, and the next reads refill what is actually used.
            if state.entries.count >= self.capacity { state.entries.removeAll() }
            state.entries[key] = (value, ContinuousClock.now)
        }
    }

    /// Forgets everything: changes are rare (an organization renamed, an endpoint added), and
    /// one may touch several keys (a rename also moves hosts).
    func invalidate() {
        self.state.withLock { state in
            state.generation &+= 1
            state.entries.removeAll()
        }
    }

    /// `body`'s value, from the cache when fresh. Only values found are kept: nil (an unknown
    /// host, say) is read again every time, so that unknown keys cannot fill the cache.
    func cached(_ key: String, _ body: () async throws -> Value?) async throws -> Value? {
        guard self.enabled else { return try await body() }
        let (hit, generation) = self.value(key)
        if let hit { return hit }
        let read = try await body()
        if let read { self.store(read, key, generation: generation) }
        return read
    }
}

/// An endpoint as the outbox needs it: which events it wants.
struct SubscribedEndpoint: Sendable {
    let id: String
    /// Empty means every event.
    let events: [String]

    func wants(_ type: EventType) -> Bool {
        type != .ping && (self.events.isEmpty || self.events.contains(type.rawValue))
    }
}
