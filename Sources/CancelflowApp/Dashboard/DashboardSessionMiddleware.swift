import CancelflowCore
import Hummingbird
import Logging

/// A signed-in dashboard request as `DashboardSessionMiddleware` found it.
struct DashboardAccess: Sendable {
    let session: DashboardSession
    let user: DashboardUser
    /// The submitted form on a POST, its CSRF value already checked; empty on a GET.
    var form: FormBody
}

/// In front of every `/dashboard` route: the dashboard is the service's own, so a merchant's
/// subdomain or verified custom domain (where customers see the merchant's pages) does not
/// serve it.
struct DashboardHostMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let site: HostedSite
    let organizations: OrganizationService

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch self.site.picker.owner(ofHost: self.site.host(of: request, peer: context.remoteIP)) {
        case .service:
            break
        case .subdomain:
            throw CancelflowError.notFound("route_not_found", "No such page.")
        case .customDomain(let host):
            if try await self.organizations.organization(host: .customDomain(host)) != nil {
                throw CancelflowError.notFound("route_not_found", "No such page.")
            }
        }
        return try await next(request, context)
    }
}

/// In front of every page behind sign-in: loads the session the `cf_dash` cookie names (none,
/// an expired one, or one still waiting for its second factor is sent to sign in), and on
/// every POST reads the form and checks its CSRF value against the session before the handler
/// runs — the flow pages' pattern, so a handler taking `DashboardRequestContext` cannot run
/// without both.
struct DashboardSessionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let auth: DashboardAuthService
    let pages: DashboardPages
    let readTimeout: Duration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        guard let key = request.cookies[DashboardSecurity.sessionCookie]?.value, let (session, user) = try await self.auth.session(key: key)
        else {
            return self.pages.signInRedirect(from: request)
        }
        guard session.stage == .full else { return DashboardPages.redirect("/dashboard/login/code") }
        var access = DashboardAccess(session: session, user: user, form: FormBody.empty)
        if request.method == .post {
            guard !DashboardSecurity.isCrossSite(request) else { return self.pages.formExpired() }
            let form = try await FormBody.read(&request, within: self.readTimeout)
            guard self.pages.security.check(form["csrf"], sessionID: session.id) else { return self.pages.formExpired() }
            access.form = form
        }
        var context = context
        context.dashboard = access
        return try await next(request, context)
    }
}

/// The context of a signed-in dashboard request.
struct DashboardRequestContext: ChildRequestContext {
    var coreContext: CoreRequestContextStorage
    let session: DashboardSession
    let user: DashboardUser
    /// The form (POST), CSRF-checked.
    let form: FormBody
    let remoteIP: String?

    init(context: AppRequestContext) throws {
        guard let access = context.dashboard else {
            throw CancelflowError(.internal, code: "dashboard_session_missing", message: "The dashboard session was not loaded.")
        }
        self.coreContext = context.coreContext
        self.session = access.session
        self.user = access.user
        self.form = access.form
        self.remoteIP = context.remoteIP
    }

    var maxUploadSize: Int { FormBody.maximumSize }

    /// Refuses (403) what the user's role does not include.
    func require(_ permission: DashboardPermission) throws {
        guard self.user.role.allows(permission) else {
            throw CancelflowError(.forbidden, code: "role_not_allowed", message: "Your role does not include this.")
        }
    }

    /// A path id as typed (see `pathParameter`): the pages encode ids, which may hold `@` or a
    /// space, when they link to them. A malformed one is no id, so it is not found.
    func pathID(_ name: String = "id") -> String {
        (try? self.pathParameter(name)) ?? ""
    }

    /// Who is acting, for the audit log.
    var actor: AuditActor { .user(self.user) }
}
