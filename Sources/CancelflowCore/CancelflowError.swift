/// The one error type the domain throws. The app turns it into the API's error body
/// (`{"error": {"type", "code", "message", "param"}}`) in a single place; nothing else reaches a
/// client. Messages are written for the merchant's developer and never contain a secret.
public struct CancelflowError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is; decides the HTTP status and the body's `type`.
    public enum Kind: String, Sendable {
        case invalidRequest
        case authentication
        /// Signed in, but the role does not allow it (403).
        case forbidden
        case notFound
        case conflict
        case unprocessable
        case rateLimited
        /// The client took too long to send its request (408).
        case timeout
        case configuration
        /// A service we depend on (a billing provider) failed or refused (502).
        case upstream
        case `internal`
    }

    /// The kind of failure.
    public var kind: Kind
    /// A stable machine-readable code, e.g. `invalid_credentials`.
    public var code: String
    /// A sentence for a person.
    public var message: String
    /// The request parameter at fault, when there is one.
    public var param: String?
    /// Seconds to wait before retrying, for rate limits.
    public var retryAfter: Int?

    /// Creates an error.
    public init(_ kind: Kind, code: String, message: String, param: String? = nil, retryAfter: Int? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.param = param
        self.retryAfter = retryAfter
    }

    /// The text form, for logs.
    public var description: String {
        "\(self.kind.rawValue)/\(self.code): \(self.message)" + (self.param.map { " (param: \($0))" } ?? "")
    }

    /// A 400 for a malformed request.
    public static func invalid(_ code: String, _ message: String, param: String? = nil) -> Self {
        .init(.invalidRequest, code: code, message: message, param: param)
    }

    /// A 422 for a well-formed request that breaks a rule.
    public static func unprocessable(_ code: String, _ message: String, param: String? = nil) -> Self {
        .init(.unprocessable, code: code, message: message, param: param)
    }

    /// A 404.
    public static func notFound(_ code: String, _ message: String, param: String? = nil) -> Self {
        .init(.notFound, code: code, message: message, param: param)
    }

    /// A start-up or command-line configuration problem.
    public static func configuration(_ message: String) -> Self {
        .init(.configuration, code: "invalid_configuration", message: message)
    }
}
