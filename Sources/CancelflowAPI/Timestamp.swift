import Foundation

/// ISO 8601 timestamps as the API reads and writes them.
///
/// Read: `YYYY-MM-DDTHH:MM:SS`, optional fraction, and a required zone (`Z` or `±HH:MM`); a
/// timestamp without a zone is ambiguous and refused. Written: UTC with `Z`, with milliseconds
/// only when there are any, so a whole-second `expiresAt` is echoed exactly as sent in UTC.
public enum Timestamp {
    /// Parses a timestamp; nil when it is not of the accepted form.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.count <= 40 else { return nil }
        var index = 0

        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<digits {
                let byte = bytes[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
                index += 1
            }
            return value
        }
        func expect(_ char: Character) -> Bool {
            guard index < bytes.count, bytes[index] == char.asciiValue! else { return false }
            index += 1
            return true
        }

        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2) else { return nil }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "T") || bytes[index] == UInt8(ascii: "t") else { return nil }
        index += 1
        guard let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2) else { return nil }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            // Digits as one integer, divided once: summing tenths, hundredths… drifted below the
            // value written, and ".301" then formatted back as ".300".
            var value = 0
            var scale = 1.0
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                value = value * 10 + Int(bytes[index] - 48)
                scale *= 10
                digits += 1
                index += 1
            }
            guard digits > 0, digits <= 9 else { return nil }
            fraction = Double(value) / scale
        }
        guard index < bytes.count else { return nil }
        var offsetSeconds = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = bytes[index] == UInt8(ascii: "+") ? 1 : -1
            index += 1
            guard let hours = number(2), expect(":"), let minutes = number(2), hours <= 23, minutes <= 59 else { return nil }
            offsetSeconds = sign * (hours * 3600 + minutes * 60)
        default:
            return nil
        }
        guard index == bytes.count else { return nil }
        guard (1...12).contains(month), (1...31).contains(day), hour <= 23, minute <= 59, second <= 59 else { return nil }

        // A date that does not exist (31 February) is refused, not rolled over into March.
        guard day <= Self.daysIn(month: month, year: year) else { return nil }
        let seconds = Self.days(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return Date(timeIntervalSince1970: TimeInterval(seconds) + fraction - Double(offsetSeconds))
    }

    /// Formats a date in UTC.
    ///
    /// By arithmetic on the proleptic Gregorian calendar (which ISO 8601 uses) rather than
    /// through `Calendar`: every API answer and webhook carries several timestamps, and
    /// `Calendar.dateComponents` was a twentieth of a simple request's time.
    public static func format(_ date: Date) -> String {
        // Milliseconds are cut, not rounded, except when the value is a whole millisecond but
        // for the Double's own imprecision: x.281 may be held as x.28099999…, which is .281.
        let scaled = date.timeIntervalSince1970 * 1000
        let nearest = scaled.rounded()
        let millisTotal = Int64(abs(scaled - nearest) <= max(0.001, scaled.ulp * 4) ? nearest : scaled.rounded(.down))
        let seconds = millisTotal.floorDiv(1000)
        let millis = Int(millisTotal - seconds * 1000)
        let days = seconds.floorDiv(86_400)
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = Self.civil(days: days)
        var text = [UInt8]()
        text.reserveCapacity(24)
        func digits(_ value: Int, _ width: Int) {
            if value < 0 {
                text.append(UInt8(ascii: "-"))
                digits(-value, width)
                return
            }
            let decimal = String(value).utf8
            for _ in 0..<max(0, width - decimal.count) { text.append(UInt8(ascii: "0")) }
            text.append(contentsOf: decimal)
        }
        digits(year, 4)
        text.append(UInt8(ascii: "-"))
        digits(month, 2)
        text.append(UInt8(ascii: "-"))
        digits(day, 2)
        text.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2)
        text.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2)
        text.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        if millis != 0 {
            text.append(UInt8(ascii: "."))
            digits(millis, 3)
        }
        text.append(UInt8(ascii: "Z"))
        return String(decoding: text, as: UTF8.self)
    }

    /// Days from 1970-01-01 to a date (Howard Hinnant's `days_from_civil`).
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date `days` after 1970-01-01 (`civil_from_days`).
    static func civil(days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

extension Int64 {
    fileprivate func floorDiv(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
