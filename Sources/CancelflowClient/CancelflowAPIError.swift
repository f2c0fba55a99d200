import OpenAPIRuntime

/// An error the API answered, read from its one error body. Branch on `code` (stable, for
/// programs); show `message` to people; quote `requestID` when asking for help.
public struct CancelflowAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status (400, 401, 404, 409, 422, 429, 502, …).
    public let status: Int
    /// `invalid_request_error`, `authentication_error`, `rate_limit_error`, `idempotency_error`,
    /// `api_error`, or `unexpected_response` when the answer was not the API's error body.
    public let type: String
    /// Stable: `parameter_missing`, `customer_not_found`, `invalid_credentials`, ….
    public let code: String
    public let message: String
    /// The parameter or header at fault, when there is one.
    public let param: String?
    public let requestID: String?
    /// On 429: how many seconds to wait before trying again.
    public let retryAfter: Int?

    init(status: Int, _ response: Components.Responses._Error) {
        self.status = status
        self.retryAfter = response.headers.retryAfter
        switch response.body {
        case .json(let body):
            self.type = body.error._type
            self.code = body.error.code
            self.message = body.error.message
            self.param = body.error.param
            self.requestID = body.error.requestId ?? response.headers.requestId
        }
    }

    init(status: Int, type: String, code: String, message: String) {
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.param = nil
        self.requestID = nil
        self.retryAfter = nil
    }

    public var description: String {
        "Cancelflow API error \(self.status) \(self.code): \(self.message)" + (self.requestID.map { " (request \($0))" } ?? "")
    }
}

/// Runs one generated call, turning the runtime's wrapper error into what happened: a response
/// that could not be read (a proxy's HTML error page, say) becomes ``CancelflowAPIError`` with
/// the status; a transport failure (refused connection, timeout) is rethrown as it was.
func call<Output>(_ body: () async throws -> Output) async throws -> Output {
    do {
        return try await body()
    } catch let error as ClientError {
        if let response = error.response {
            throw CancelflowAPIError(
                status: response.status.code, type: "unexpected_response", code: "unreadable_response",
                message: "The server answered HTTP \(response.status.code) with a body that is not the API's JSON."
            )
        }
        throw error.underlyingError
    }
}
