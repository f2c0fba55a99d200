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

    private let mac: ShortMessageHMAC

    /// Creates a codec whose MAC key is derived from the server secret.
    public init(serverSecret: ServerSecret) {
        self.mac = ShortMessageHMAC(key: serverSecret.derivedKey(purpose: "cancel-link-token-v1"))
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

    /// Whether a string is a token this server minted. Does no I/O and no heap allocation (the
    /// decoding and the MAC work in stack buffers): a false answer means the caller need not look
    /// anything up, and a flood of forged tokens costs two SHA-256 blocks each.
    public func isAuthentic(_ token: String) -> Bool {
        guard token.utf8.count == Self.tokenLength else { return false }
        var token = token
        return token.withUTF8 { utf8 in
            guard utf8[0] == UInt8(ascii: "c"), utf8[1] == UInt8(ascii: "l"), utf8[2] == UInt8(ascii: "_") else { return false }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { scratch in
                let bytes = UnsafeMutableBufferPointer(rebasing: scratch[0..<(Self.payloadCount + Self.tagCount)])
                guard Base32.decode(UnsafeBufferPointer(rebasing: utf8[3...]), into: bytes), bytes[0] == Self.version else { return false }
                let expected = UnsafeMutableBufferPointer(rebasing: scratch[32..<64])
                self.mac.authenticate(UnsafeBufferPointer(rebasing: bytes[0..<Self.payloadCount]), into: expected)
                var difference: UInt8 = 0
                for index in 0..<Self.tagCount { difference |= expected[index] ^ bytes[Self.payloadCount + index] }
                return difference == 0
            }
        }
    }

    /// The hash under which the store keeps a token.
    public static func hash(_ token: String) -> String {
        Hex.sha256(token)
    }

    private func tag(_ payload: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        payload.withUnsafeBufferPointer { message in
            out.withUnsafeMutableBufferPointer { self.mac.authenticate(message, into: $0) }
        }
        return out
    }
}
