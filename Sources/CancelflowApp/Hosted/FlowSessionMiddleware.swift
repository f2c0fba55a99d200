import CancelflowCore
import Hummingbird
import Logging

/// A browser's flow session as `FlowSessionMiddleware` found it.
struct FlowAccess: Sendable {
    /// The session the cookie names.
    let session: FlowSession
    /// The cookie's key, to look the session up again after an action changed it.
    let key: String
    /// The submitted form on a POST (its CSRF value already checked); empty on a GET.
    var form: FormBody
}

/// Runs in front of every `/flow` route: loads the session the browser's cookie names (none, or
/// an expired one, gets the expired page) and, on every POST, reads the form and checks its
/// CSRF value against that session (a mismatch gets a "please try again" page). Only then does
/// the handler run, with a `FlowRequestContext`. New session-bound pages (the dashboard's) follow
/// the same pattern: a middleware that proves the session, a child context that carries it.
struct FlowSessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let flow: FlowService
    let pages: Pages
    /// How long a client has to send a form.
    let readTimeout: Duration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        guard let key = request.cookies[PageSecurity.sessionCookie]?.value, let session = try await self.flow.session(key: key) else {
            return await self.pages.expired(request, organization: nil, mode: nil, status: .gone)
        }
        var access = FlowAccess(session: session, key: key, form: FormBody.empty)
        if request.method == .post {
            let form = try await FormBody.read(&request, within: self.readTimeout)
            guard self.pages.security.verifyFlow(field: form["csrf"], sessionID: session.id) else {
                let t = Pages.phrases(request, given: session.locale, brand: BrandView.plain.name, settings: nil)
                return self.pages.problemPage(
                    heading: t("problem.stale.heading"), message: t("problem.stale.flow"), retryURL: "/flow", t, status: .forbidden)
            }
            access.form = form
        }
        var context = context
        context.flow = access
        return try await next(request, context)
    }
}

/// The context of a `/flow` request: it cannot exist without a flow session, and on a POST
/// without a form whose CSRF value matched it, so a handler that takes it never runs otherwise.
struct FlowRequestContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    /// The browser's session, as loaded before the handler ran.
    let session: FlowSession
    /// The session cookie's key.
    let sessionKey: String
    /// The form (POST), CSRF-checked.
    let form: FormBody

    init(context: AppRequestContext) throws {
        guard let access = context.flow else {
            // FlowSessionMiddleware answers every request without a session before this point.
            throw CancelflowError(.internal, code: "flow_session_missing", message: "The flow session was not loaded.")
        }
        self.coreContext = context.coreContext
        self.session = access.session
        self.sessionKey = access.key
        self.form = access.form
    }

    var maxUploadSize: Int { FormBody.maximumSize }
}
