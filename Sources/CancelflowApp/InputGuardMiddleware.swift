import CancelflowCore
import HTTPTypes
import Hummingbird

/// Refuses, before any route runs, a request whose path, query or one of the headers we read
/// holds what no string in this service may: a malformed percent escape, bytes that are not
/// UTF-8, NUL or another control character (`InputText`). JSON bodies and forms are checked by
/// `JSONBody` and `FormBody` with the same rule, so every way in shares one.
///
/// The answer is the usual 400 naming the parameter: JSON under `/v1`, the friendly error page
/// elsewhere (`ErrorMiddleware` decides).
struct InputGuardMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The headers the service reads. Their values must be printable ASCII (plus space and tab):
    /// App IDs, keys, idempotency keys, host names and addresses are all ASCII,
    /// and anything else (a U+FFFD from bytes that were not UTF-8, a control character) is a
    /// client bug or an attack.
    static var readHeaders: [(HTTPField.Name, String)] { InputGuardHeaders.read }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try Self.check(request)
        return try await next(request, context)
    }

    static func check(_ request: Request) throws(CancelflowError) {
        // Almost every path is printable ASCII without an escape, which decodes to itself and is
        // acceptable: only the others are split and decoded.
        let path = request.uri.path
        let plain = path.utf8.allSatisfy { (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "%") }
        for segment in plain ? [] : path.split(separator: "/") {
            guard let decoded = InputText.percentDecode(segment, plusIsSpace: false), InputText.isAcceptable(decoded) else {
                throw InputText.error(param: "path")
            }
        }
        if let query = request.uri.query, !query.isEmpty {
            for pair in query.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = InputText.percentDecode(parts[0], plusIsSpace: true), InputText.isAcceptable(name) else {
                    throw InputText.error(param: "query")
                }
                if parts.count > 1 {
                    guard let value = InputText.percentDecode(parts[1], plusIsSpace: true), InputText.isAcceptable(value) else {
                        throw InputText.error(param: name)
                    }
                }
            }
        }
        if let authority = request.head.authority, !Self.isHeaderText(authority) {
            throw CancelflowError.invalid("header_invalid_characters", "The Host header must be printable ASCII.", param: "Host")
        }
        try Self.checkOwnCookies(request)
        for (name, label) in Self.readHeaders {
            for value in request.headers[values: name] where !Self.isHeaderText(value) {
                throw CancelflowError.invalid(
                    "header_invalid_characters", "The \(label) header must be printable ASCII.", param: label
                )
            }
        }
    }

    /// Our own cookies (`cf_…`) are checked; the others are not ours to judge: on a merchant's
    /// custom domain a browser also sends whatever the merchant's other sites set there, and a
    /// customer must not be locked out of the page by someone else's cookie.
    static func checkOwnCookies(_ request: Request) throws(CancelflowError) {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop { $0 == " " }
                guard trimmed.hasPrefix("cf_") else { continue }
                guard Self.isHeaderText(String(trimmed)) else {
                    throw CancelflowError.invalid("header_invalid_characters", "The Cookie header must be printable ASCII.", param: "Cookie")
                }
            }
        }
    }

    static func isHeaderText(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 == 0x09 || (0x20...0x7E).contains($0) }
    }
}

/// `InputGuardMiddleware.readHeaders`, made once (a generic type cannot hold a stored static).
enum InputGuardHeaders {
    static let read: [(HTTPField.Name, String)] = [
        (.ckApp, "x-ck-app"),
        (.ckAPIKey, "x-ck-api-key"),
        (.idempotencyKey, "Idempotency-Key"),
        (.xForwardedFor, "X-Forwarded-For"),
        (.xForwardedHost, "X-Forwarded-Host"),
    ]
}
