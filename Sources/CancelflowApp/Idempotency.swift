import CancelflowCore
import Crypto
import Foundation
import Hummingbird

/// `Idempotency-Key` on POSTs: the same key and body within 24 hours answers the first response
/// byte for byte; the same key with another body is refused; a duplicate that arrives while the
/// first is still running gets 409.
///
/// Stored responses can contain a `cl_` token, which must never sit in the database in the
/// clear, so they are sealed with AES-GCM under a key derived from the server secret and the
/// idempotency key itself: a database dump alone opens nothing.
struct IdempotencyGuard: Sendable {
    static let window: TimeInterval = RetentionService.idempotencyWindow

    let store: any IdempotencyStore
    let secret: ServerSecret
    let time: any TimeSource

    /// Seals an answer into the completion of the request's claimed key, for an operation that
    /// writes it in its own transaction (`Answer.completedInside`).
    struct Sealer: Sendable {
        let seal: @Sendable (HTTPResponse.Status, [UInt8]) throws -> IdempotencyCompletion
    }

    /// What an operation answered, and whether it already stored that answer with its key.
    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var bytes: [UInt8]
        var completedInside = false
    }

    /// Runs `operation` at most once per key; `operation` returns the status and JSON bytes.
    func run(
        request: Request,
        context: APIRequestContext,
        body: ByteBuffer,
        operation: () async throws -> (HTTPResponse.Status, [UInt8])
    ) async throws -> Response {
        try await self.run(request: request, context: context, body: body) { _ in
            let (status, bytes) = try await operation()
            return Answer(status: status, bytes: bytes)
        }
    }

    /// Runs `operation` at most once per key. Under a claimed key the operation gets a `Sealer`,
    /// and may store the completion it makes in its own transaction (and say so in its answer);
    /// otherwise the completion is stored after it, in a transaction of its own.
    func run(
        request: Request,
        context: APIRequestContext,
        body: ByteBuffer,
        operation: (Sealer?) async throws -> Answer
    ) async throws -> Response {
        guard let key = request.headers[.idempotencyKey] else {
            let answer = try await operation(nil)
            return JSONBody.response(bytes: answer.bytes, status: answer.status)
        }
        guard !key.isEmpty, key.utf8.count <= 255, key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw CancelflowError.invalid(
                "idempotency_key_invalid",
                "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.",
                param: "Idempotency-Key"
            )
        }
        let identity = context.identity
        let fingerprint = Self.fingerprint(request: request, body: body)
        let now = self.time.now()
        let claim = try await self.store.claimIdempotencyKey(
            organizationID: identity.organizationID,
            mode: identity.mode,
            key: key,
            fingerprint: fingerprint,
            now: now,
            staleBefore: now.addingTimeInterval(-Self.window)
        )
        let sealingKey = self.secret.derivedKey(
            purpose: "idempotency-response-v1",
            context: Array("\(identity.organizationID)\u{0}\(identity.mode.rawValue)\u{0}\(key)".utf8)
        )
        switch claim {
        case .mismatch:
            throw CancelflowError.unprocessable(
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request; use a new key for a new request.",
                param: "Idempotency-Key"
            )
        case .inProgress:
            throw CancelflowError(
                .conflict,
                code: "idempotency_key_in_use",
                message: "A request with this Idempotency-Key is still being processed; retry shortly.",
                param: "Idempotency-Key"
            )
        case .completed(let status, let sealed):
            let box = try AES.GCM.SealedBox(combined: sealed)
            let bytes = try AES.GCM.open(box, using: sealingKey)
            var response = JSONBody.response(bytes: bytes, status: HTTPResponse.Status(code: status))
            response.headers[.idempotentReplayed] = "true"
            return response
        case .claimed:
            let sealer = Sealer { status, bytes in
                let sealed = try AES.GCM.seal(bytes, using: sealingKey).combined ?? Data()
                return IdempotencyCompletion(
                    organizationID: identity.organizationID, mode: identity.mode, key: key,
                    result: IdempotentResult(status: Int(status.code), sealedBody: Array(sealed)))
            }
            let answer: Answer
            do {
                answer = try await operation(sealer)
            } catch {
                // A failed request is not remembered: fixing the cause and retrying with the same
                // key must be possible.
                try? await self.store.releaseIdempotencyKey(organizationID: identity.organizationID, mode: identity.mode, key: key)
                throw error
            }
            if !answer.completedInside {
                let completion = try sealer.seal(answer.status, answer.bytes)
                try await self.store.completeIdempotencyKey(
                    organizationID: completion.organizationID, mode: completion.mode, key: completion.key, result: completion.result)
            }
            return JSONBody.response(bytes: answer.bytes, status: answer.status)
        }
    }

    static func fingerprint(request: Request, body: ByteBuffer) -> String {
        var hasher = SHA256()
        hasher.update(data: Array("\(request.method.rawValue) \(request.uri.path)\n".utf8))
        hasher.update(data: Array(body.readableBytesView))
        return Hex.encode(hasher.finalize())
    }
}
