import CancelflowCore
import Foundation
import HummingbirdBcrypt
import HummingbirdOTP
import NIOPosix

/// bcrypt through HummingbirdBcrypt. Hashing is deliberately slow (a quarter of a second at the
/// default cost) and synchronous, so it runs on a thread of its own: on the cooperative pool it
/// would stall every request of the instance, and on NIO's shared pool (one thread per core) a
/// burst of sign-ins could take every core. One thread also caps what a sign-in flood can cost.
struct BcryptPasswordHasher: PasswordHasher {
    /// The work factor (4 to 31; each step doubles the time).
    let cost: UInt8

    /// One process-wide thread for password hashing, started on first use.
    static let thread: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await Self.thread.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// `$2b$NN$…`: NN is the cost the hash was made with.
    func needsRehash(_ hash: String) -> Bool {
        let parts = hash.split(separator: "$")
        guard parts.count >= 3, let cost = UInt8(parts[1]) else { return true }
        return cost < self.cost
    }

    func verify(_ password: String, hash: String) async throws -> Bool {
        // A stored hash that is not bcrypt's (a corrupt row) must fail, not crash the C code.
        guard hash.hasPrefix("$2"), hash.utf8.count == 60 else { return false }
        return try await Self.thread.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}

/// TOTP codes through HummingbirdOTP: RFC 6238 with authenticator apps' defaults (SHA-1,
/// 6 digits, 30 seconds). The window and the replay check are Core's (`DashboardAuthService`);
/// the library computes one step's code.
struct TOTPCodes: OneTimeCodes {
    func code(secret: String, step: Int64) -> Int {
        TOTP(secret: secret).compute(date: Date(timeIntervalSince1970: TimeInterval(step) * 30))
    }

    func enrolmentURL(secret: String, label: String) -> String {
        // A fixed issuer: the library leaves & and = in it unescaped.
        TOTP(secret: secret).createAuthenticatorURL(label: label, issuer: "Cancelflow")
    }
}
