import Crypto
import Foundation

/// Mints and checks Cancel Link tokens.
///
/// A token is `cl_` followed by 48 base32 characters encoding 30 bytes: a version byte, 20 bytes
/// (160 bits) from the CSPRNG, and a 9-byte HMAC-SHA256 tag over the first 21 under a key derived
/// from the server secret. The tag lets every entry point reject a mistyped or forged token before
/// it touches the database; the database keeps only the SHA-256 of the whole token, so a dump of it
/// cannot be replayed.
public struct CancelTokenCodec: Sendable {
    /// The prefix every Cancel Link token carries (seed: "Cancel-link tokens use the cl_ prefix").
    public static let prefix = "cl_"
    static let version: UInt8 = 1
    static let randomCount = 20
    static let tagCount = 9
    static let payloadCount = 1 + randomCount
    static let encodedCount = 48
    /// The exact length of every token this codec mints.
    public static let tokenLength = 3 + encodedCount

    private let key: SymmetricKey

    /// Creates a codec whose MAC key is derived from the server secret.
    public init(serverSecret: ServerSecret) {
        self.key = serverSecret.derivedKey(purpose: "cancel-link-token-v1")
    }

    /// A fresh token and the hash the store keeps for it.
    public func mint() -> (token: String, hash: String) {
        var payload = [UInt8]()
        payload.reserveCapacity(Self.payloadCount + Self.tagCount)
        payload.append(Self.version)
        payload.append(contentsOf: SecureRandom.bytes(Self.randomCount))
        payload.append(contentsOf: self.tag(payload).prefix(Self.tagCount))
        let token = Self.prefix + Base32.encode(payload)
        return (token, Self.hash(token))
    }

    /// Whether a string is a token this server minted. Does no I/O: a false answer means the
    /// caller need not look anything up.
    public func isAuthentic(_ token: String) -> Bool {
        let utf8 = token.utf8
        guard utf8.count == Self.tokenLength, utf8.starts(with: Self.prefix.utf8) else { return false }
        guard let bytes = Base32.decode(utf8.dropFirst(3)), bytes.count == Self.payloadCount + Self.tagCount else {
            return false
        }
        guard bytes[0] == Self.version else { return false }
        let expected = self.tag(bytes[0..<Self.payloadCount]).prefix(Self.tagCount)
        return constantTimeEquals(expected, bytes[Self.payloadCount...])
    }

    /// The hash under which the store keeps a token.
    public static func hash(_ token: String) -> String {
        Hex.sha256(token)
    }

    private func tag<Bytes: DataProtocol>(_ payload: Bytes) -> [UInt8] {
        var hmac = HMAC<SHA256>(key: self.key)
        hmac.update(data: payload)
        return Array(hmac.finalize())
    }
}
