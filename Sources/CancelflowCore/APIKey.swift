/// Creates and recognises API keys and App IDs.
///
/// An API key is `ck_test_` or `ck_live_`, 32 base32 characters (160 random bits), and a 7-character
/// CRC-32 checksum of everything before it. The prefix says what the key is and which mode it
/// unlocks; the checksum lets a secret scanner recognise a leaked key offline, and lets the server
/// turn away a mistyped key without a lookup. Keys are stored only as SHA-256 hashes.
public enum APIKeyFormat {
    static let bodyCount = 32
    static let checksumCount = 7

    /// The key prefix for a mode.
    public static func prefix(for mode: Mode) -> String { "ck_\(mode.rawValue)_" }

    /// A fresh key.
    public static func generate(mode: Mode) -> String {
        let head = self.prefix(for: mode) + Base32.encode(SecureRandom.bytes(20))
        return head + self.checksum(head)
    }

    /// The mode a well-formed key is for, or nil when the text is not a well-formed key.
    public static func mode(of key: String) -> Mode? {
        for mode in Mode.allCases {
            let prefix = self.prefix(for: mode)
            guard key.hasPrefix(prefix) else { continue }
            guard key.utf8.count == prefix.utf8.count + self.bodyCount + self.checksumCount else { return nil }
            let head = String(key.dropLast(self.checksumCount))
            guard Base32.decode(head.utf8.dropFirst(prefix.utf8.count)) != nil else { return nil }
            return constantTimeEquals(Array(self.checksum(head).utf8), Array(key.utf8.suffix(self.checksumCount))) ? mode : nil
        }
        return nil
    }

    /// The hash under which the store keeps a key.
    public static func hash(_ key: String) -> String { Hex.sha256(key) }

    /// The last four characters, shown in listings so a person can tell keys apart.
    public static func hint(_ key: String) -> String { String(key.suffix(4)) }

    static func checksum(_ text: String) -> String {
        let crc = CRC32.checksum(Array(text.utf8))
        // 32 bits in 7 base32 characters: the top 3 bits of the first character are always zero.
        var digits = [UInt8](repeating: 0, count: self.checksumCount)
        var value = UInt64(crc)
        for index in stride(from: self.checksumCount - 1, through: 0, by: -1) {
            digits[index] = Base32.alphabet[Int(value & 0x1F)]
            value >>= 5
        }
        return String(decoding: digits, as: UTF8.self)
    }
}

/// CRC-32 (IEEE 802.3), as GitHub-style token checksums use.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 {
            value = (value & 1) != 0 ? (0xEDB8_8320 ^ (value >> 1)) : (value >> 1)
        }
        return value
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = self.table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }
}
