import CancelflowCore
import Foundation
import Hummingbird
import Logging

/// Signing in and out, set-up and reset links, and the account page.
struct DashboardAuthController: Sendable {
    let auth: DashboardAuthService
    let organizations: OrganizationService
    let pages: DashboardPages
    let site: HostedSite
    let mailer: any Mailer
    let mailFrom: String
    let publicBase: String
    let readTimeout: Duration

    /// Routes before sign-in.
    func addPublicRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get { _, _ in DashboardPages.redirect("/dashboard/test/customers") }
        group.get("login", use: self.loginPage)
        group.post("login", use: self.login)
        group.get("login/code", use: self.codePage)
        group.post("login/code", use: self.code)
        group.get("setup/:token", use: self.setupPage)
        group.post("setup/:token", use: self.setup)
        group.get("reset", use: self.resetRequestPage)
        group.post("reset", use: self.resetRequest)
        group.get("reset/:token", use: self.setupPage)
        group.post("reset/:token", use: self.setup)
    }

    /// Routes behind sign-in.
    func addSessionRoutes(to group: RouterGroup<DashboardRequestContext>) {
        group.post("logout", use: self.logout)
        group.post("logout-everywhere", use: self.logoutEverywhere)
        for mode in Mode.allCases {
            let base = group.group(RouterPath(mode.rawValue))
            base.get("account") { request, context in try await self.account(request, context, mode: mode) }
            base.post("account/password") { request, context in try await self.changePassword(request, context, mode: mode) }
            base.get("account/totp") { request, context in try await self.totpPage(request, context, mode: mode, secret: nil, error: nil) }
            base.post("account/totp") { request, context in try await self.enableTOTP(request, context, mode: mode) }
            base.post("account/totp/disable") { request, context in try await self.disableTOTP(request, context, mode: mode) }
        }
    }

    // MARK: - Sign-in

    @Sendable func loginPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        self.loginForm(request, email: "", next: Self.next(request), error: nil, status: .ok)
    }

    func loginForm(
        _ request: Request, email: String, next: String?, error: String?, status: HTTPResponse.Status, notice: String? = nil
    )
        -> Response
    {
        let nonce = DashboardSecurity.nonce(of: request)
        var response = self.pages.render(
            "dash-login",
            [
                "title": "Sign in", "csrf": self.pages.security.csrf(nonce: nonce.value, purpose: "login"), "email": email,
                "next": next as Any, "error": error as Any, "notice": Self.optional(notice ?? Self.notice(request)),
            ], status: status)
        if nonce.isNew { response.setCookie(self.pages.security.nonceCookie(nonce.value)) }
        return response
    }

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.read(&request, within: self.readTimeout)
        let email = form["email"] ?? ""
        let next = DashboardPages.safeNext(form["next"])
        guard !DashboardSecurity.isCrossSite(request),
            self.pages.security.check(form["csrf"], nonce: request.cookies[DashboardSecurity.nonceCookie]?.value, purpose: "login")
        else {
            return self.loginForm(request, email: email, next: next, error: "The form expired. Please sign in again.", status: .forbidden)
        }
        let result: DashboardAuthService.SignIn
        do {
            result = try await self.auth.signIn(
                email: email, password: form["password"] ?? "", clientIP: self.site.clientIP(request, peer: context.remoteIP))
        } catch let error as CancelflowError where error.kind == .authentication || error.kind == .rateLimited {
            var response = self.loginForm(
                request, email: email, next: next, error: error.message, status: error.kind == .rateLimited ? .tooManyRequests : .unauthorized)
            if let retry = error.retryAfter { response.headers[.retryAfter] = String(retry) }
            return response
        }
        switch result {
        case .signedIn(let key, _):
            var response = DashboardPages.redirect(next ?? "/dashboard/test/customers")
            response.setCookie(self.pages.security.sessionCookie(key, maxAge: Int(self.auth.policy.sessionLifetime)))
            return response
        case .needsCode(let key, _):
            var response = DashboardPages.redirect("/dashboard/login/code" + (next.map { "?next=" + Self.escape($0) } ?? ""))
            response.setCookie(self.pages.security.sessionCookie(key, maxAge: Int(self.auth.policy.codeStageLifetime)))
            return response
        }
    }

    /// The session of a browser half-way through sign-in (password right, code still to come).
    func codeSession(_ request: Request) async throws -> (DashboardSession, DashboardUser, String)? {
        guard let key = request.cookies[DashboardSecurity.sessionCookie]?.value, let (session, user) = try await self.auth.session(key: key),
            session.stage == .code
        else { return nil }
        return (session, user, key)
    }

    @Sendable func codePage(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let (session, _, _) = try await self.codeSession(request) else { return DashboardPages.redirect("/dashboard/login") }
        return self.codeForm(session: session, next: Self.next(request), error: nil, status: .ok)
    }

    func codeForm(session: DashboardSession, next: String?, error: String?, status: HTTPResponse.Status) -> Response {
        self.pages.render(
            "dash-code",
            ["title": "Enter your code", "csrf": self.pages.security.csrf(sessionID: session.id), "next": next as Any, "error": error as Any],
            status: status)
    }

    @Sendable func code(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        guard let (session, user, _) = try await self.codeSession(request) else { return DashboardPages.redirect("/dashboard/login") }
        let form = try await FormBody.read(&request, within: self.readTimeout)
        let next = DashboardPages.safeNext(form["next"])
        guard !DashboardSecurity.isCrossSite(request), self.pages.security.check(form["csrf"], sessionID: session.id) else {
            return self.pages.formExpired()
        }
        do {
            let key = try await self.auth.verifyCode(session: session, user: user, code: form["code"] ?? "")
            var response = DashboardPages.redirect(next ?? "/dashboard/test/customers")
            response.setCookie(self.pages.security.sessionCookie(key, maxAge: Int(self.auth.policy.sessionLifetime)))
            return response
        } catch let error as CancelflowError where error.kind == .authentication || error.kind == .rateLimited {
            return self.codeForm(
                session: session, next: next, error: error.message, status: error.kind == .rateLimited ? .tooManyRequests : .unauthorized)
        }
    }

    @Sendable func logout(_ request: Request, context: DashboardRequestContext) async throws -> Response {
        try await self.auth.signOut(session: context.session)
        var response = DashboardPages.redirect("/dashboard/login?signed_out=1")
        response.setCookie(self.pages.security.clearedSessionCookie())
        return response
    }

    @Sendable func logoutEverywhere(_ request: Request, context: DashboardRequestContext) async throws -> Response {
        try await self.auth.signOutEverywhere(user: context.user, by: context.actor)
        var response = DashboardPages.redirect("/dashboard/login?signed_out=everywhere")
        response.setCookie(self.pages.security.clearedSessionCookie())
        return response
    }

    // MARK: - Set-up and reset links

    @Sendable func setupPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        guard let link = try await self.auth.setupLink(token: token), Self.matches(link, request) else { return self.linkGone() }
        return self.setupForm(request, token: token, link: link, email: "", name: "", error: nil, status: .ok)
    }

    func setupForm(
        _ request: Request, token: String, link: DashboardSetupLink, email: String, name: String, error: String?, status: HTTPResponse.Status
    ) -> Response {
        let nonce = DashboardSecurity.nonce(of: request)
        let isSetup = link.purpose == .setup
        var response = self.pages.render(
            "dash-setup",
            [
                "title": isSetup ? "Set up your account" : "Choose a new password",
                "heading": isSetup ? "Set up your dashboard account" : "Choose a new password",
                "intro": isSetup
                    ? "You're joining as \(link.role.displayName.lowercased()). Choose a password to sign in with."
                    : "Choose a new password. Every place you're signed in will be signed out.",
                "button": isSetup ? "Create account" : "Set password",
                "action": request.uri.path,
                "csrf": self.pages.security.csrf(nonce: nonce.value, purpose: "setup|\(Hex.sha256(token))"),
                "askEmail": link.email == nil, "email": link.email ?? email, "askName": isSetup, "name": name, "error": error as Any,
            ], status: status)
        if nonce.isNew { response.setCookie(self.pages.security.nonceCookie(nonce.value)) }
        return response
    }

    /// A reset link opened as a set-up link, or the other way round, is not a link.
    static func matches(_ link: DashboardSetupLink, _ request: Request) -> Bool {
        request.uri.path.hasPrefix("/dashboard/setup/") == (link.purpose == .setup)
    }

    func linkGone() -> Response {
        self.pages.render(
            "dash-public-message",
            [
                "title": "Link expired", "heading": "This link has expired or was already used",
                "message":
                    "Set-up and reset links work once, for a limited time. Ask an owner of your organization for a new one, or reset your password.",
                "linkURL": "/dashboard/login", "linkText": "Go to sign in",
            ], status: .gone)
    }

    @Sendable func setup(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let token = context.parameters.get("token") ?? ""
        let form = try await FormBody.read(&request, within: self.readTimeout)
        guard let link = try await self.auth.setupLink(token: token), Self.matches(link, request) else { return self.linkGone() }
        let email = form["email"] ?? ""
        let name = form["name"] ?? ""
        guard !DashboardSecurity.isCrossSite(request),
            self.pages.security.check(
                form["csrf"], nonce: request.cookies[DashboardSecurity.nonceCookie]?.value, purpose: "setup|\(Hex.sha256(token))")
        else {
            return self.setupForm(
                request, token: token, link: link, email: email, name: name, error: "The form expired. Please try again.", status: .forbidden)
        }
        do {
            _ = try await self.auth.redeem(
                token: token, email: link.email == nil ? email : nil, name: link.purpose == .setup ? name : nil, password: form["password"] ?? "")
        } catch let error as CancelflowError where error.kind == .unprocessable || error.kind == .conflict {
            return self.setupForm(request, token: token, link: link, email: email, name: name, error: error.message, status: .unprocessableContent)
        } catch let error as CancelflowError where error.code == "setup_link_invalid" {
            return self.linkGone()
        }
        return DashboardPages.redirect("/dashboard/login?" + (link.purpose == .setup ? "welcome=1" : "reset=1"))
    }

    @Sendable func resetRequestPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        self.resetForm(request, error: nil, status: .ok)
    }

    func resetForm(_ request: Request, error: String?, status: HTTPResponse.Status) -> Response {
        let nonce = DashboardSecurity.nonce(of: request)
        var response = self.pages.render(
            "dash-reset-request",
            ["title": "Reset your password", "csrf": self.pages.security.csrf(nonce: nonce.value, purpose: "reset"), "error": error as Any],
            status: status)
        if nonce.isNew { response.setCookie(self.pages.security.nonceCookie(nonce.value)) }
        return response
    }

    /// Always the same answer, whether the address has an account, is over its limit, or not:
    /// the page never tells who has an account. The mail goes out after the answer.
    @Sendable func resetRequest(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.read(&request, within: self.readTimeout)
        guard !DashboardSecurity.isCrossSite(request),
            self.pages.security.check(form["csrf"], nonce: request.cookies[DashboardSecurity.nonceCookie]?.value, purpose: "reset")
        else { return self.resetForm(request, error: "The form expired. Please try again.", status: .forbidden) }
        // Everything past the form check happens after the answer: a known address costs a
        // link, an audit entry and a mail, an unknown one nothing, and the time taken would tell.
        let (auth, mailer, logger) = (self.auth, self.mailer, context.logger)
        let (email, clientIP) = (form["email"] ?? "", self.site.clientIP(request, peer: context.remoteIP))
        let (mailFrom, publicBase) = (self.mailFrom, self.publicBase)
        Task {
            do {
                guard let (user, token) = try await auth.requestReset(email: email, clientIP: clientIP) else { return }
                let message = EmailMessage(
                    from: mailFrom, to: user.email, subject: "Reset your Cancelflow dashboard password",
                    text: """
                        Someone (hopefully you) asked to reset the password of your Cancelflow dashboard account.

                        Choose a new password here (the link works once, for an hour):
                        \(publicBase)/dashboard/reset/\(token)

                        If you didn't ask, ignore this email: your password stays as it is.
                        """,
                    html: "")
                try await mailer.deliver(
                    OutgoingEmail(
                        message: message, mode: .live, organizationID: user.organizationID, secrets: [token], logID: user.id, logKey: "user_id"),
                    logger: logger)
            } catch {
                logger.error("A dashboard password reset failed", metadata: ["error": .string(redactingAddresses("\(error)"))])
            }
        }
        return self.pages.render(
            "dash-public-message",
            [
                "title": "Check your email", "heading": "Check your email",
                "message": "If that address has a dashboard account, we've sent it a link to choose a new password. The link works for an hour.",
                "linkURL": "/dashboard/login", "linkText": "Back to sign in",
            ])
    }

    // MARK: - The account page

    func account(
        _ request: Request, _ context: DashboardRequestContext, mode: Mode, error: String? = nil, notice: String? = nil
    ) async throws -> Response {
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        return self.pages.render(
            "dash-account",
            [
                "title": "Your account", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "account"),
                "email": context.user.email, "roleName": context.user.role.displayName, "hasTOTP": context.user.hasTOTP,
                "error": error as Any, "notice": Self.optional(notice ?? Self.notice(request)),
            ], status: error == nil ? .ok : .unprocessableContent)
    }

    func changePassword(_ request: Request, _ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        do {
            try await self.auth.changePassword(user: context.user, current: context.form["current"] ?? "", new: context.form["password"] ?? "")
        } catch let error as CancelflowError where [.unprocessable, .authentication, .rateLimited].contains(error.kind) {
            return try await self.account(request, context, mode: mode, error: error.message)
        }
        var response = DashboardPages.redirect("/dashboard/login?password=changed")
        response.setCookie(self.pages.security.clearedSessionCookie())
        return response
    }

    func totpPage(_ request: Request, _ context: DashboardRequestContext, mode: Mode, secret: String?, error: String?) async throws -> Response {
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let secret = secret ?? DashboardAuthService.newTOTPSecret()
        return self.pages.render(
            "dash-totp",
            [
                "title": "Two-step sign-in", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "account"),
                "secret": secret, "manualKey": DashboardAuthService.manualKey(secret),
                "enrolmentURL": self.auth.enrolmentURL(secret: secret, user: context.user), "error": error as Any,
            ], status: error == nil ? .ok : .unprocessableContent)
    }

    func enableTOTP(_ request: Request, _ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        let secret = context.form["secret"] ?? ""
        do {
            try await self.auth.enableTOTP(user: context.user, secret: secret, code: context.form["code"] ?? "")
        } catch let error as CancelflowError where error.code == "totp_already_on" {
            return try await self.account(request, context, mode: mode, error: error.message)
        } catch let error as CancelflowError where error.kind == .unprocessable || error.kind == .invalidRequest {
            return try await self.totpPage(request, context, mode: mode, secret: error.code == "invalid_secret" ? nil : secret, error: error.message)
        }
        return DashboardPages.redirect("/dashboard/\(mode.rawValue)/account?totp=on")
    }

    func disableTOTP(_ request: Request, _ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        do {
            try await self.auth.disableTOTP(user: context.user, password: context.form["password"] ?? "")
        } catch let error as CancelflowError where error.kind == .authentication || error.kind == .rateLimited {
            return try await self.account(request, context, mode: mode, error: error.message)
        }
        return DashboardPages.redirect("/dashboard/\(mode.rawValue)/account?totp=off")
    }

    // MARK: - Helpers

    static func next(_ request: Request) -> String? {
        DashboardPages.safeNext(request.uri.queryParameters.get("next"))
    }

    /// A one-line notice chosen by a fixed query flag (never text from the address bar).
    static func notice(_ request: Request) -> String? {
        let query = request.uri.queryParameters
        if query.get("welcome") != nil { return "Your account is ready. Sign in with your new password." }
        if query.get("reset") != nil { return "Your password was changed. Sign in with the new one." }
        if query.get("password") != nil { return "Your password was changed, and you were signed out everywhere. Sign in again." }
        if query.get("signed_out") == "everywhere" { return "You were signed out everywhere." }
        if query.get("signed_out") != nil { return "You are signed out." }
        if query.get("totp") == "on" { return "Two-step sign-in is on." }
        if query.get("totp") == "off" { return "Two-step sign-in is off." }
        return nil
    }

    /// An optional for a view: nil stays nil (a section that does not render).
    static func optional(_ value: String?) -> Any { value as Any }

    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
