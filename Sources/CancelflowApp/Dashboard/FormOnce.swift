import CancelflowCore
import Foundation

/// A form submitted twice (a double click, the browser resending it on reload) acts once. Each
/// page carries a random nonce (`frame.nonce`); a form that makes something (a key, an
/// endpoint, an invitation, a link) claims it in the idempotency table first, as the API claims
/// an `Idempotency-Key`, so a second submission finds the claim and changes nothing.
struct FormOnce: Sendable {
    let store: any IdempotencyStore
    let time: any TimeSource

    /// A fresh nonce for a page's forms.
    static func nonce() -> String { Base32.encode(SecureRandom.bytes(16)) }

    /// Runs `action` unless this form's nonce was already used; nil when it was.
    func run<Result: Sendable>(
        nonce: String?, organizationID: String, mode: Mode, form: String, _ action: () async throws -> Result
    ) async throws -> Result? {
        guard let nonce, nonce.utf8.count == 26, nonce.utf8.allSatisfy(Base32.alphabetContains) else {
            throw CancelflowError.invalid("invalid_form", "The form could not be read. Reload the page and try again.")
        }
        let key = "dashboard:\(form):\(nonce)"
        let now = self.time.now()
        let claim = try await self.store.claimIdempotencyKey(
            organizationID: organizationID, mode: mode, key: key, fingerprint: form, now: now,
            staleBefore: now.addingTimeInterval(-RetentionService.idempotencyWindow))
        guard claim == .claimed else { return nil }
        let result: Result
        do {
            result = try await action()
        } catch {
            try? await self.store.releaseIdempotencyKey(organizationID: organizationID, mode: mode, key: key)
            throw error
        }
        try await self.store.completeIdempotencyKey(
            organizationID: organizationID, mode: mode, key: key, result: IdempotentResult(status: 200, sealedBody: []))
        return result
    }
}
