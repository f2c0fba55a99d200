import CancelflowCore
import Foundation
import Hummingbird
import Synchronization

/// Checks `x-ck-app` / `x-ck-api-key` on every `/v1` request, then applies the per-key rate limit.
struct APIAuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let credentials: CredentialService
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let identity = try await self.credentials.authenticate(
            appID: request.headers[.ckApp],
            apiKey: request.headers[.ckAPIKey]
        )
        try self.limiter.admit(key: identity.keyID)
        var context = context
        context.identity = identity
        context.logger[metadataKey: "app_id"] = .string(identity.appID)
        return try await next(request, context)
    }
}

/// A token bucket per API key, in this process's memory: each key may make `rate` requests a
/// second on average and `burst` at once. Several instances each apply it on their own, so N
/// instances behind a balancer allow up to N times the rate; the limit protects each server.
final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updated: Date
    }

    let rate: Double
    let burst: Double
    let time: any TimeSource
    private let buckets = Mutex<[String: Bucket]>([:])

    init(rate: Double, burst: Double, time: any TimeSource) {
        self.rate = rate
        self.burst = burst
        self.time = time
    }

    /// Takes one token for `key`, or throws a 429 error saying how long to wait.
    func admit(key: String) throws {
        let now = self.time.now()
        let wait: Double? = self.buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: self.burst, updated: now)
            let elapsed = max(0, now.timeIntervalSince(bucket.updated))
            bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
            bucket.updated = now
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return (1 - bucket.tokens) / self.rate
        }
        if let wait {
            throw CancelflowError(
                .rateLimited,
                code: "rate_limited",
                message: "Too many requests with this API key; retry after the time in Retry-After.",
                retryAfter: max(1, Int(wait.rounded(.up)))
            )
        }
    }
}
