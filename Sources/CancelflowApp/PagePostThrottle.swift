import CancelflowCore
import Hummingbird

/// Throttles form submissions to the hosted pages per client address, in memory, before any
/// of them reaches the database: every POST outside the API (link exchange, flow steps, code
/// requests and tries) takes a token. The database-kept verification limits still apply on top;
/// this one is the cheap first line against a flood.
struct PagePostThrottle: RouterMiddleware {
    typealias Context = AppRequestContext

    let limiter: RateLimiter
    let proxyTrust: ProxyTrust

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .post, !request.uri.path.hasPrefix("/v1") {
            let client = self.proxyTrust.client(request, peer: context.remoteIP) ?? "unknown"
            if let wait = self.limiter.take(VerificationService.clientKey(client)) {
                throw CancelflowError(
                    .rateLimited, code: "rate_limited", message: "Too many form submissions from this address.", retryAfter: wait
                )
            }
        }
        return try await next(request, context)
    }
}
