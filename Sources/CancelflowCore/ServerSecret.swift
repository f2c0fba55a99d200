import Crypto

/// The server secret: the root of every MAC and encryption key the service derives. It is never
/// used directly; each purpose gets its own HKDF-derived key, so a weakness in one use cannot leak
/// into another.
public struct ServerSecret: Sendable, CustomStringConvertible {
    private let material: SymmetricKey

    /// Creates a secret from its text form (at least 32 characters).
    public init(_ text: String) throws(CancelflowError) {
        guard text.utf8.count >= 32 else {
            throw CancelflowError.configuration("the server secret must be at least 32 characters long")
        }
        self.material = SymmetricKey(data: Array(text.utf8))
    }

    /// A new random secret in text form, for first start-up.
    public static func generateText() -> String {
        Base32.encode(SecureRandom.bytes(32))
    }

    /// A key for one purpose, derived from the secret.
    public func derivedKey(purpose: String, context: [UInt8] = []) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: self.material,
            salt: Array("cancelflow".utf8),
            info: Array(purpose.utf8) + [0] + context,
            outputByteCount: 32
        )
    }

    /// Never prints the secret.
    public var description: String { "ServerSecret(redacted)" }
}
