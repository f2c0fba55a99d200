/// Public identifiers. They are random rather than sequential so that they reveal nothing about
/// volume, and carry a prefix that says what they name.
public enum Identifier {
    /// A new identifier: `prefix` then 16 base32 characters (80 random bits).
    public static func make(_ prefix: String) -> String {
        prefix + Base32.encode(SecureRandom.bytes(10))
    }

    /// A new App ID for a mode.
    public static func appID(mode: Mode) -> String { self.make("app_\(mode.rawValue)_") }
}
