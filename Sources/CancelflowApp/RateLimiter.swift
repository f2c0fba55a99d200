import CancelflowCore
import Foundation
import Synchronization

/// Token buckets in this process's memory, one per key (an API key, a client address): each key
/// may spend `rate` tokens a second on average and `burst` at once. Several instances each apply
/// their own, so N instances behind a balancer allow up to N times the rate: these limits protect
/// each server (and the database behind it), not a global quota.
///
/// Written by hand rather than taken from a library: it is twenty lines, it must use the
/// service's injectable clock, and none of the packages available here offers one.
final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: Date
    }

    let rate: Double
    let burst: Double
    let time: any TimeSource
    /// Beyond this many keys, full buckets (keys that have been quiet long enough to refill,
    /// which behave exactly like absent ones) are dropped, so a flood from many addresses cannot
    /// grow the table without end.
    let maximumKeys: Int
    private let buckets = Mutex<[String: Bucket]>([:])

    init(rate: Double, burst: Double, time: any TimeSource, maximumKeys: Int = 100_000) {
        self.rate = rate
        self.burst = burst
        self.time = time
        self.maximumKeys = maximumKeys
    }

    /// Takes one token for `key`; returns nil when it was there, else the seconds to wait.
    func take(_ key: String) -> Int? {
        self.update(key, spend: true)
    }

    /// The seconds to wait before `key` has a token, without taking one; nil when it has one.
    func wait(_ key: String) -> Int? {
        self.update(key, spend: false)
    }

    /// Takes one token for `key`, or throws the API's 429 saying how long to wait.
    func admit(key: String, message: String = "Too many requests with this API key; retry after the time in Retry-After.") throws {
        if let wait = self.take(key) {
            throw CancelflowError(.rateLimited, code: "rate_limited", message: message, retryAfter: wait)
        }
    }

    private func update(_ key: String, spend: Bool) -> Int? {
        let now = self.time.now()
        let wait: Double? = self.buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: self.burst, updated: now)
            let elapsed = max(0, now.timeIntervalSince(bucket.updated))
            bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
            bucket.updated = now
            guard bucket.tokens >= 1 else {
                buckets[key] = bucket
                return (1 - bucket.tokens) / self.rate
            }
            if spend {
                bucket.tokens -= 1
                if buckets.count >= self.maximumKeys, buckets[key] == nil { Self.prune(&buckets, now: now, rate: self.rate, burst: self.burst) }
                buckets[key] = bucket
            }
            return nil
        }
        return wait.map { max(1, Int($0.rounded(.up))) }
    }

    /// Drops the buckets that have refilled.
    private static func prune(_ buckets: inout [String: Bucket], now: Date, rate: Double, burst: Double) {
        buckets = buckets.filter { _, bucket in
            bucket.tokens + max(0, now.timeIntervalSince(bucket.updated)) * rate < burst
        }
    }

    /// How many keys are tracked (for tests).
    var keyCount: Int { self.buckets.withLock { $0.count } }
}
