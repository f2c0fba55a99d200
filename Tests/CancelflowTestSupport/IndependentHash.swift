import Crypto

/// SHA-256 as lower-case hex, computed here with swift-crypto and this file's own formatting,
/// not through the service's `Hex.sha256`: a test that checks what the service stored against
/// the service's own function would pass whatever that function did.
public func independentSHA256(_ text: String) -> String {
    SHA256.hash(data: Array(text.utf8)).map { byte in
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }.joined()
}
