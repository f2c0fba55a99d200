import CancelflowAPI
import CancelflowCore
import Hummingbird
import Logging

/// Turns every error into the one error body, in one place. Domain errors keep their code and
/// message; Hummingbird's own HTTP errors (unknown route, wrong method) get a code; anything
/// else — a database or programming error — is logged and answered with a bare 500 that leaks
/// nothing.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The registered routes, to answer a known path asked with another method with 405.
    var routes: RouteMethods?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Only the API answers in JSON; a person who reaches anything else gets a page. On the
        // dashboard, where the person is the merchant's own staff, the page says what was wrong.
        let html = !request.uri.path.hasPrefix("/v1")
        let dashboard = request.uri.path.hasPrefix("/dashboard")
        do {
            return try await next(request, context)
        } catch let error as CancelflowError {
            if error.kind == .internal || error.kind == .configuration || error.kind == .upstream {
                context.logger.error("Request failed", metadata: ["error": .string(error.description)])
            }
            return html ? Self.page(for: error, explained: dashboard) : Self.response(for: error)
        } catch let error as HTTPError {
            if error.status == .notFound, let allowed = self.routes?.allowed(path: request.uri.path), !allowed.isEmpty {
                let refusal = CancelflowError.invalid(
                    "method_not_allowed",
                    "\(request.method) is not allowed here; use \(allowed.map(\.rawValue).joined(separator: " or "))."
                )
                var response = html ? Self.page(for: refusal) : Self.response(for: refusal)
                response.status = .methodNotAllowed
                response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
                return response
            }
            let translated = Self.translate(error)
            return html ? Self.page(for: translated) : Self.response(for: translated)
        } catch {
            context.logger.error("Unexpected error", metadata: ["error": .string(String(reflecting: error))])
            let failure = CancelflowError(.internal, code: "internal_error", message: "Something went wrong on our side.")
            return html ? Self.page(for: failure) : Self.response(for: failure)
        }
    }

    /// A plain page for errors outside the API (an unknown address, a server fault). `explained`
    /// adds the error's own message (written for people, never holding a secret) for a client
    /// mistake, with a way back.
    static func page(for error: CancelflowError, explained: Bool = false) -> Response {
        let (heading, text) =
            switch error.kind {
            case .notFound:
                ("Page not found", "There is nothing at this address. If you followed a cancel link, ask for a new one.")
            case .invalidRequest, .timeout:
                ("We couldn't read that", "Something in the address or the form wasn't right. Go back and try again.")
            case .rateLimited:
                ("Please slow down", "There were too many requests from your connection. Wait a minute and try again.")
            case .forbidden:
                ("Not allowed", "Your role does not include this page. Ask an owner of your organization.")
            case .unprocessable, .conflict:
                ("That can't be done", "Check what you entered and try again.")
            default:
                ("Something went wrong", "Please try again in a few minutes.")
            }
        var explanation = ""
        if explained, [.invalidRequest, .unprocessable, .conflict, .notFound, .forbidden, .rateLimited].contains(error.kind) {
            explanation = "<p class=\"error\">\(Self.escapeHTML(error.message))</p><p><a href=\"/dashboard\">Back to the dashboard</a></p>"
        }
        let html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(heading)</title><link rel="stylesheet" href="/assets/cancelflow.css"></head>
            <body><main class="card"><h1>\(heading)</h1><p>\(text)</p>\(explanation)</main></body></html>
            """
        var response = Response(
            status: Self.status(for: error.kind),
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
        if let retryAfter = error.retryAfter {
            response.headers[.retryAfter] = String(retryAfter)
        }
        PageSecurity.apply(to: &response, styleHash: nil, formTargets: [])
        return response
    }

    static func escapeHTML(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
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
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .unprocessable: .unprocessableContent
        case .rateLimited: .tooManyRequests
        case .timeout: .requestTimeout
        case .upstream: .badGateway
        case .configuration, .internal: .internalServerError
        }
    }

    static func type(for kind: CancelflowError.Kind) -> String {
        switch kind {
        case .invalidRequest, .notFound, .conflict, .unprocessable, .timeout: "invalid_request_error"
        case .authentication: "authentication_error"
        case .forbidden: "permission_error"
        case .rateLimited: "rate_limit_error"
        case .configuration, .internal, .upstream: "api_error"
        }
    }

    static func response(for error: CancelflowError) -> Response {
        let type = error.code.hasPrefix("idempotency") ? "idempotency_error" : Self.type(for: error.kind)
        let body = ErrorBody(
            error: .init(type: type, code: error.code, message: error.message, param: error.param, requestID: RequestID.current)
        )
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
