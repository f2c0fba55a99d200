import Foundation
import Synchronization

/// Where "now" comes from. Injected everywhere so tests can move time instead of sleeping.
public protocol TimeSource: Sendable {
    /// The current instant.
    func now() -> Date
}

/// The real wall clock.
public struct SystemTimeSource: TimeSource {
    /// Creates the system clock.
    public init() {}

    /// The current instant, from the system.
    public func now() -> Date { Date() }
}

/// A clock that only moves when told to; for tests.
public final class ManualTimeSource: TimeSource {
    private let current: Mutex<Date>

    /// Creates a clock standing at `start`.
    public init(_ start: Date) {
        self.current = Mutex(start)
    }

    /// The instant the clock was last set to.
    public func now() -> Date { self.current.withLock { $0 } }

    /// Moves the clock forward (or back, for negative intervals).
    public func advance(by interval: TimeInterval) {
        self.current.withLock { $0 = $0.addingTimeInterval(interval) }
    }

    /// Sets the clock to an instant.
    public func set(_ date: Date) {
        self.current.withLock { $0 = date }
    }
}

/// Timestamps are stored as whole milliseconds since 1970 in both databases: one integer type
/// compares, indexes and binds the same way on SQLite and PostgreSQL, and "now" is always bound
/// from the injected `TimeSource`, never read from the database's own clock.
public enum Millis {
    /// Milliseconds since 1970 for a date, truncated.
    public static func from(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The date for a millisecond timestamp.
    public static func date(_ millis: Int64) -> Date {
        Date(timeIntervalSince1970: TimeInterval(millis) / 1000)
    }
}

/// Durations as the command line takes them: `90s`, `30m`, `24h`, `7d`, or `0`.
public enum DurationText {
    /// Seconds for a duration, or nil when the text is not one.
    public static func parse(_ text: String) -> TimeInterval? {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        if text == "0" { return 0 }
        guard let unit = text.last, let value = Double(text.dropLast()), value >= 0, value.isFinite else { return nil }
        switch unit {
        case "s": return value
        case "m": return value * 60
        case "h": return value * 3600
        case "d": return value * 86400
        default: return nil
        }
    }
}
