import Crypto

/// Hex helpers for the hashes the stores keep.
public enum Hex {
    /// Lower-case hex of bytes.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// SHA-256 of a string's UTF-8, as lower-case hex: what the stores keep instead of a secret.
    public static func sha256(_ text: String) -> String {
        self.encode(SHA256.hash(data: Array(text.utf8)))
    }
}

/// Compares two byte strings in time that depends only on their lengths, never on where they
/// first differ.
public func constantTimeEquals<A: Collection, B: Collection>(_ lhs: A, _ rhs: B) -> Bool
where A.Element == UInt8, B.Element == UInt8 {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for (left, right) in zip(lhs, rhs) {
        difference |= left ^ right
    }
    return difference == 0
}
