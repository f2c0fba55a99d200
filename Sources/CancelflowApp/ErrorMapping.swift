import CancelflowAPI
import CancelflowCore
import Hummingbird
import Logging

/// Turns every error into the one error body, in one place. Domain errors keep their code and
/// message; Hummingbird's own HTTP errors (unknown route, wrong method) get a code; anything
/// else — a database or programming error — is logged and answered with a bare 500 that leaks
/// nothing.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as CancelflowError {
            if error.kind == .internal || error.kind == .configuration {
                context.logger.error("Request failed", metadata: ["error": .string(error.description)])
            }
            return Self.response(for: error)
        } catch let error as HTTPError {
            return Self.response(for: Self.translate(error))
        } catch {
            context.logger.error("Unexpected error", metadata: ["error": .string(String(reflecting: error))])
            return Self.response(for: CancelflowError(.internal, code: "internal_error", message: "Something went wrong on our side."))
        }
    }

    static func translate(_ error: HTTPError) -> CancelflowError {
        switch error.status {
        case .notFound: CancelflowError.notFound("route_not_found", "No such endpoint.")
        case .methodNotAllowed: CancelflowError.invalid("method_not_allowed", "That method is not allowed on this endpoint.")
        case .contentTooLarge: CancelflowError.invalid("body_too_large", "The request body must be at most 64 KiB.")
        case .badRequest: CancelflowError.invalid("bad_request", "The request could not be read.")
        default:
            CancelflowError(.internal, code: "http_error", message: "The request failed with status \(error.status.code).")
        }
    }

    static func status(for kind: CancelflowError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .invalidRequest: .badRequest
        case .authentication: .unauthorized
        case .notFound: .notFound
        case .conflict: .conflict
        case .unprocessable: .unprocessableContent
        case .rateLimited: .tooManyRequests
        case .configuration, .internal: .internalServerError
        }
    }

    static func type(for kind: CancelflowError.Kind) -> String {
        switch kind {
        case .invalidRequest, .notFound, .conflict, .unprocessable: "invalid_request_error"
        case .authentication: "authentication_error"
        case .rateLimited: "rate_limit_error"
        case .configuration, .internal: "api_error"
        }
    }

    static func response(for error: CancelflowError) -> Response {
        let type = error.code.hasPrefix("idempotency") ? "idempotency_error" : Self.type(for: error.kind)
        let body = ErrorBody(error: .init(type: type, code: error.code, message: error.message, param: error.param))
        var response = JSONBody.response(body, status: Self.status(for: error.kind))
        if let retryAfter = error.retryAfter {
            response.headers[.retryAfter] = String(retryAfter)
        }
        if error.kind == .authentication {
            response.headers[.wwwAuthenticate] = "CK-API-Key"
        }
        return response
    }
}
