import Foundation
import HTTPTypes
import OpenAPIRuntime

/// Retries what is safe to retry, with the very same request: a refused or dropped connection,
/// 429 (after `Retry-After`), 502, 503 and 504, and 409 under an idempotency key. GET, PUT and DELETE are idempotent by nature; a
/// POST is retried only when it carries an `Idempotency-Key`, which makes the server answer a
/// repeat with the first response instead of acting twice (the façade sets one on the POSTs
/// that take it). Other POSTs are never repeated.
struct Retries: ClientMiddleware {
    /// Retries after the first try.
    let limit: Int
    /// The longest wait between tries; a longer `Retry-After` is not waited for.
    static let longestWait: Double = 10

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let keyed = request.headerFields[HTTPField.Name("Idempotency-Key")!] != nil
        let repeatable = (request.method != .post || keyed) && body?.iterationBehavior != .single
        var attempt = 0
        while true {
            let response: HTTPResponse
            let responseBody: HTTPBody?
            do {
                (response, responseBody) = try await next(request, body, baseURL)
            } catch  where repeatable && attempt < self.limit && !(error is CancellationError) {
                attempt += 1
                try await Task.sleep(for: .seconds(Self.backoff(attempt)))
                continue
            }
            // 409 on a request with an idempotency key is `idempotency_key_in_use`: an earlier try
            // (one that timed out here) is still running there; its answer comes on a later try.
            let retryable = [429, 502, 503, 504].contains(response.status.code) || (response.status.code == 409 && keyed)
            guard repeatable, attempt < self.limit, retryable else {
                return (response, responseBody)
            }
            let wait = response.headerFields[.retryAfter].flatMap(Double.init) ?? Self.backoff(attempt + 1)
            guard wait <= Self.longestWait else { return (response, responseBody) }
            attempt += 1
            try await Task.sleep(for: .seconds(wait))
        }
    }

    /// 0.5 s, 1 s, 2 s, … with up to a quarter more at random, so that many clients retrying
    /// after one outage do not arrive together.
    static func backoff(_ attempt: Int) -> Double {
        let base = min(0.5 * pow(2, Double(attempt - 1)), Self.longestWait)
        return base * Double.random(in: 1...1.25)
    }
}
