/// Lower-case RFC 4648 base32 without padding. Tokens and keys use it because every character is
/// URL-safe, survives double-click selection and case-folding mail clients, and has no look-alike
/// punctuation.
public enum Base32 {
    static let alphabet: [UInt8] = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    // Maps an ASCII byte to its 5-bit value, or 0xFF when it is not in the alphabet.
    static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, char) in alphabet.enumerated() {
            table[Int(char)] = UInt8(value)
        }
        return table
    }()

    /// Whether an ASCII byte is one of the alphabet's (lower-case) characters.
    public static func alphabetContains(_ byte: UInt8) -> Bool { self.reverse[Int(byte)] != 0xFF }

    /// Encodes bytes.
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(self.alphabet[Int((buffer >> UInt32(bits)) & 0x1F)])
            }
        }
        if bits > 0 {
            out.append(self.alphabet[Int((buffer << UInt32(5 - bits)) & 0x1F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes text into exactly `output.count` bytes, in place; false when a character is outside
    /// the alphabet, the lengths do not match, or the trailing bits are not zero. No allocation.
    static func decode(_ text: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        guard text.count == (output.count * 8 + 4) / 5 else { return false }
        var buffer: UInt32 = 0
        var bits = 0
        var written = 0
        for char in text {
            let value = self.reverse[Int(char)]
            if value == 0xFF { return false }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                guard written < output.count else { return false }
                output[written] = UInt8(truncatingIfNeeded: buffer >> UInt32(bits))
                written += 1
            }
        }
        if bits > 0, buffer & ((1 << UInt32(bits)) - 1) != 0 { return false }
        return written == output.count
    }

    /// Decodes text into bytes; nil when a character is outside the alphabet, the length is not
    /// one an encoding has, or the trailing bits are not zero (so that each byte string has
    /// exactly one encoding).
    public static func decode<Text: Collection>(_ text: Text) -> [UInt8]? where Text.Element == UInt8 {
        let characters = Array(text)
        var out = [UInt8](repeating: 0, count: characters.count * 5 / 8)
        let decoded = characters.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { Self.decode(input, into: $0) }
        }
        return decoded ? out : nil
    }
}
