import CancelflowCore
import Foundation
import Hummingbird
import Synchronization

/// Checks `x-ck-app` / `x-ck-api-key` on every `/v1` request, then applies the per-key rate limit.
///
/// A client that keeps sending wrong credentials is stopped before its requests reach the
/// database: each failed authentication takes a token from the client's bucket, and a client
/// whose bucket is empty gets a 429 without its credentials being looked at.
struct APIAuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let credentials: CredentialService
    let limiter: RateLimiter
    let failures: RateLimiter
    let proxyTrust: ProxyTrust

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let client = self.proxyTrust.client(request, peer: context.remoteIP) ?? "unknown"
        if let wait = self.failures.wait(client) {
            throw CancelflowError(
                .rateLimited, code: "too_many_failed_authentications",
                message: "Too many requests with wrong credentials from this address; retry after the time in Retry-After.",
                retryAfter: wait
            )
        }
        let identity: APIIdentity
        do {
            identity = try await self.credentials.authenticate(appID: request.headers[.ckApp], apiKey: request.headers[.ckAPIKey])
        } catch let error as CancelflowError where error.kind == .authentication {
            _ = self.failures.take(client)
            throw error
        }
        try self.limiter.admit(key: identity.keyID)
        var context = context
        context.identity = identity
        context.logger[metadataKey: "app_id"] = .string(identity.appID)
        return try await next(request, context)
    }
}
