/// The one rule for every string that enters the service from outside — JSON fields and
/// metadata, path segments, query parameters, form fields and the headers we read.
///
/// Why one rule in one place: PostgreSQL refuses `0x00` in text while SQLite stores it, so a NUL
/// that slipped through became a 500 on one engine and silent data on the other; control
/// characters also end up in logs, emails and HTML. Refusing them at the edge, with a 400 that
/// names the parameter, gives the same answer on both engines and keeps them out of storage.
public enum InputText {
    /// What a string is allowed to hold.
    public enum Kind: Sendable {
        /// An identifier, a name, an address, a URL: no control characters at all.
        case line
        /// Text a person writes (a survey comment, a metadata value): tab, line feed and
        /// carriage return are allowed, other control characters are not.
        case freeText
    }

    /// Whether `scalar` may appear in a string of this kind. C0 controls (U+0000–U+001F), DEL
    /// and the C1 controls (U+0080–U+009F) are refused, and so is U+FFFD: it is what invalid
    /// UTF-8 becomes when something upstream decoded leniently, so refusing it catches that too.
    @inlinable
    public static func allows(_ scalar: Unicode.Scalar, kind: Kind) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: return kind == .freeText
        case 0x00...0x1F, 0x7F, 0x80...0x9F, 0xFFFD: return false
        default: return true
        }
    }

    /// Whether the whole string is acceptable.
    @inlinable
    public static func isAcceptable(_ text: some StringProtocol, kind: Kind = .line) -> Bool {
        text.unicodeScalars.allSatisfy { Self.allows($0, kind: kind) }
    }

    /// Throws the API's 400 naming `param` when `text` holds a character it may not.
    public static func check(_ text: some StringProtocol, param: String, kind: Kind = .line) throws(CancelflowError) {
        guard Self.isAcceptable(text, kind: kind) else {
            throw Self.error(param: param, kind: kind)
        }
    }

    /// The error for a refused string.
    public static func error(param: String, kind: Kind = .line) -> CancelflowError {
        let allowed = kind == .freeText ? " other than tab and line breaks" : ""
        return CancelflowError.invalid(
            "parameter_invalid_characters",
            "\(param) must be valid UTF-8 text without NUL or other control characters\(allowed).",
            param: param
        )
    }

    /// Text from somewhere we do not control (a webhook receiver's answer, an error a library
    /// printed) made safe to store and show: bytes that are not UTF-8 and every control
    /// character but tab and line breaks become U+FFFD. PostgreSQL refuses NUL in text, so an
    /// answer holding one must never reach an insert as it is.
    public static func sanitized(_ bytes: some Collection<UInt8>) -> String {
        Self.sanitized(String(decoding: bytes, as: UTF8.self))
    }

    /// The same for a string already decoded.
    public static func sanitized(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            scalars.append(Self.allows(scalar, kind: .freeText) || scalar.value == 0xFFFD ? scalar : "\u{FFFD}")
        }
        return String(scalars)
    }

    /// Decodes bytes that must be UTF-8: nil for invalid UTF-8 (including encoded surrogates),
    /// rather than the replacement characters `String(decoding:as:)` would quietly put in.
    public static func decodeUTF8(_ bytes: some Collection<UInt8>) -> String? {
        String(validating: bytes, as: UTF8.self)
    }

    /// Percent-decodes one component of a URL or form (`+` is a space when `plusIsSpace`).
    /// Nil when an escape is malformed or the decoded bytes are not UTF-8.
    public static func percentDecode(_ text: some StringProtocol, plusIsSpace: Bool) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            default:
                bytes.append(byte)
            }
        }
        return Self.decodeUTF8(bytes)
    }

    @usableFromInline
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
