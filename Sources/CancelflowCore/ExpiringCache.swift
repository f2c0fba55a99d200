import Foundation
import Synchronization

/// Values kept in memory for a while, shared by every request of an instance: API-key checks,
/// provider configuration and mint-time customer checks, so the hot path does not reach the
/// database or a provider on every request. Another instance's change is seen within `lifetime`.
/// When full, the older half is dropped.
public final class ExpiringCache<Value: Sendable>: Sendable {
    struct Entry {
        let value: Value
        let storedAt: Date
    }

    public let lifetime: TimeInterval
    let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    public init(lifetime: TimeInterval, capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    public func value(_ key: String, now: Date) -> Value? {
        guard self.lifetime > 0 else { return nil }
        return self.entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            let age = now.timeIntervalSince(entry.storedAt)
            guard age >= 0, age < self.lifetime else {
                entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    public func store(_ value: Value, _ key: String, now: Date) {
        guard self.lifetime > 0 else { return }
        self.entries.withLock { entries in
            if entries.count >= self.capacity {
                let oldest = entries.sorted { $0.value.storedAt < $1.value.storedAt }.prefix(self.capacity / 2).map(\.key)
                for key in oldest { entries[key] = nil }
            }
            entries[key] = Entry(value: value, storedAt: now)
        }
    }

    public func remove(key: String) {
        _ = self.entries.withLock { $0.removeValue(forKey: key) }
    }

    public func remove(prefix: String) {
        self.entries.withLock { entries in
            for key in entries.keys where key.hasPrefix(prefix) { entries[key] = nil }
        }
    }
}
