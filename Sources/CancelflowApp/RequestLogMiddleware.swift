import CancelflowCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// Gives every response a `Request-Id` header and logs one line per request.
///
/// The line carries the method, the path with any token cut out (`/cancel/[redacted]`), the status
/// and the duration. It never carries headers, the query string or the body: those hold API keys,
/// tokens and customer data.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Our own id rather than Hummingbird's `context.id`, which reads it back from the logger's
        // metadata and so depends on the log handler keeping metadata.
        let requestID = RequestIDs.next()
        var context = context
        context.logger[metadataKey: "request_id"] = .string(requestID)
        let start = ContinuousClock.now
        let path = Self.redactedPath(request.uri.path)
        do {
            var response = try await RequestID.$current.withValue(requestID) { try await next(request, context) }
            response.headers[.requestID] = requestID
            Self.log(context.logger, request.method, path, response.status.code, start)
            return response
        } catch {
            // Only errors outside the API's own mapping get here (hosted pages map their own).
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            Self.log(context.logger, request.method, path, status, start)
            throw RequestIDError(underlying: error, requestID: requestID)
        }
    }

    static func log(_ logger: Logger, _ method: HTTPRequest.Method, _ path: String, _ status: Int, _ start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        if logger.logLevel <= .info, let text = logger.handler as? TextLogHandler,
            text.writeAccessLine(method: method.rawValue, path: path, status: status, milliseconds: Self.milliseconds(elapsed))
        {
            return
        }
        logger.info(
            "Request",
            metadata: [
                "method": .string(method.rawValue),
                "path": .string(path),
                "status": .stringConvertible(status),
                "duration_ms": .string(Self.milliseconds(elapsed)),
            ]
        )
    }

    /// `12.34`: milliseconds with two decimals, without Foundation's `String(format:)`, which
    /// cost more than the rest of the line.
    static func milliseconds(_ duration: Duration) -> String {
        let hundredths = duration.components.seconds * 100_000 + duration.components.attoseconds / 10_000_000_000_000
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// Cuts anything that may be a secret out of a path: the token segment of hosted-page paths
    /// and of the dashboard's set-up and reset links (a logged, unused link would let whoever
    /// reads the log choose the account's password), and any segment that looks like a `cl_`
    /// token or an API key wherever it appears.
    static func redactedPath(_ path: String) -> String {
        var segments = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for index in segments.indices {
            let previous = index > 0 ? segments[index - 1] : ""
            let dashboardLink = index > 1 && segments[index - 2] == "dashboard" && (previous == "setup" || previous == "reset")
            let segment = segments[index]
            if previous == "cancel" || dashboardLink || segment.hasPrefix("cl_") || segment.hasPrefix("ck_") {
                segments[index] = "[redacted]"
            }
        }
        return String(segments.joined(separator: "/").prefix(200))
    }
}

/// Request ids: `req_` and 16 base32 characters, like the other ids, without asking the kernel
/// for randomness on every request (two `getrandom` calls each, a visible share of `/healthz`).
///
/// A request id only has to be unique, to find a request's lines; it guards nothing. So it is a
/// counter passed through a keyed permutation of 64-bit numbers (an xor with a key, then
/// splitmix64's finaliser: each step is invertible, so distinct counts give distinct ids within a
/// process, and neighbouring counts look unrelated, so ids do not tell a client how busy the
/// server is), behind 16 random bits drawn once per process to keep instances apart.
enum RequestIDs {
    static let key: (prefix: [UInt8], mask: UInt64) = {
        let random = SecureRandom.bytes(10)
        return (Array(random[0..<2]), random[2..<10].reduce(0) { $0 << 8 | UInt64($1) })
    }()
    static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        let count = Self.counter.add(1, ordering: .relaxed).newValue
        var mixed = count ^ Self.key.mask
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        mixed ^= mixed >> 31
        var bytes = Self.key.prefix
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: mixed >> UInt64(shift))) }
        return "req_" + Base32.encode(bytes)
    }
}

/// The id of the request being handled, for the error body (`ErrorMiddleware`): a task local,
/// because the context type is generic and the logger's metadata depends on its handler.
enum RequestID {
    @TaskLocal static var current: String?
}

/// An error that still answers with the request's id.
struct RequestIDError: HTTPResponseError {
    let underlying: any Error
    let requestID: String

    var status: HTTPResponse.Status { (self.underlying as? any HTTPResponseError)?.status ?? .internalServerError }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response: Response
        if let error = self.underlying as? any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } else {
            response = Response(status: .internalServerError)
        }
        response.headers[.requestID] = self.requestID
        return response
    }
}

extension HTTPField.Name {
    /// `Request-Id`.
    static let requestID = Self("Request-Id")!
    /// `x-ck-app`.
    static let ckApp = Self("x-ck-app")!
    /// `x-ck-api-key`.
    static let ckAPIKey = Self("x-ck-api-key")!
    /// `Idempotency-Key`.
    static let idempotencyKey = Self("Idempotency-Key")!
    /// `Idempotent-Replayed`, set on a response answered from an earlier request.
    static let idempotentReplayed = Self("Idempotent-Replayed")!
}
