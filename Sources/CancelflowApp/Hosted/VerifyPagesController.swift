import CancelflowAPI
import CancelflowCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache

/// Email verification, the way in without a link: `/verify` asks for an address and emails a
/// one-time code, `/verify/code` takes the code and starts the same flow a Cancel Link does.
///
/// Known and unknown addresses take the same path through here: the same statements, an email
/// either way (a code to a customer, a short "we found no subscription" note to anyone else), the
/// same redirect. So neither the page, nor its timing, nor a mail-server failure tells an
/// attacker whether an address is a customer's.
struct VerifyPagesController: Sendable {
    let verification: VerificationService
    let owners: PageOwners
    let pages: Pages
    let mailer: any Mailer
    let emails: VerificationEmails
    let metrics: AppMetrics
    /// How long a client has to send a form.
    let readTimeout: Duration

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("verify", use: self.verifyForm)
        router.post("verify", use: self.requestCode)
        router.get("verify/code", use: self.codeForm)
        router.post("verify/code", use: self.enterCode)
    }

    /// `GET /verify`: asks for the address.
    @Sendable func verifyForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let target = try await self.owners.target(request, context, appID: request.uri.queryParameters["org"].map(String.init)) else {
            return self.unknownVerifyPage(request)
        }
        return self.emailPage(request, target: target, email: nil, error: nil, status: .ok)
    }

    /// `POST /verify`: counts the request against the limits, stores a code, sends the email.
    @Sendable func requestCode(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.read(&request, within: self.readTimeout)
        guard let target = try await self.owners.target(request, context, appID: form["org"]) else { return self.unknownVerifyPage(request) }
        let t = Self.phrases(request, target)
        let email = String((form["email"] ?? "").prefix(VerificationService.maximumAddressLength + 10))
        guard
            self.pages.security.verifyEmailForm(
                field: form["csrf"], nonce: request.cookies[PageSecurity.verifyNonceCookie]?.value, target: target.key)
        else {
            context.logger.notice("Refused a verification request without a valid CSRF value")
            return self.emailPage(request, target: target, email: email, error: t("verify.stale"), status: .forbidden)
        }
        let outcome: VerificationService.RequestOutcome
        do {
            outcome = try await self.verification.request(
                organization: target.organization, mode: target.mode, email: email,
                clientIP: self.owners.site.clientIP(request, peer: context.remoteIP)
            )
        } catch let error as CancelflowError where error.kind == .invalidRequest {
            return self.emailPage(request, target: target, email: email, error: Pages.message(for: error, t), status: .badRequest)
        } catch let error as CancelflowError where error.kind == .upstream {
            // The same answer for every address: it says nothing about whether one is a customer.
            context.logger.error("Billing provider lookup failed", metadata: ["error": .string(error.code)])
            return self.emailPage(
                request, target: target, email: email,
                error: t("verify.provider_failed"), status: .badGateway)
        }
        let issued: VerificationService.Issued
        switch outcome {
        case .issued(let value):
            issued = value
        case .rateLimited(let retryAfter):
            self.metrics.verificationEmail("refused")
            context.logger.notice("Verification request over the rate limit", metadata: ["organization_id": .string(target.organization.id)])
            var response = self.emailPage(
                request, target: target, email: email,
                error: t("verify.rate_limited"), status: .tooManyRequests
            )
            response.headers[.retryAfter] = String(retryAfter)
            return response
        }
        let outgoing = self.emails.message(issued, to: (try? VerificationService.normalizedAddress(email)) ?? email, target: target, t)
        do {
            try await self.mailer.deliver(outgoing, logger: context.logger)
        } catch {
            // Nothing was stored, so the address's earlier code (if any) still works.
            // The address's hit is given back: an outage must not use up the customer's codes.
            try? await self.verification.refund(issued)
            self.metrics.verificationEmail("failed")
            context.logger.error(
                "Could not send a verification email",
                metadata: [
                    "verification_id": .string(issued.id),
                    "error": .string(redactingAddresses(String(describing: error))),
                ]
            )
            return self.emailPage(
                request, target: target, email: email,
                error: t("verify.send_failed"), status: .serviceUnavailable
            )
        }
        self.metrics.verificationEmail("sent")
        try await self.verification.save(issued)
        var response = Pages.redirect("/verify/code" + target.query)
        response.setCookie(self.pages.security.verifyCookie(issued.browserKey))
        return response
    }

    /// `GET /verify/code`: asks for the code.
    @Sendable func codeForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let appID = request.uri.queryParameters["org"].map(String.init)
        guard let target = try await self.owners.target(request, context, appID: appID) else { return self.unknownVerifyPage(request) }
        guard let key = self.browserKey(request) else { return Pages.redirect("/verify" + target.query) }
        return self.codePage(request, target: target, browserKey: key, error: nil, status: .ok)
    }

    /// `POST /verify/code`: a right code starts the flow in this browser.
    @Sendable func enterCode(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.read(&request, within: self.readTimeout)
        guard let target = try await self.owners.target(request, context, appID: form["org"]) else { return self.unknownVerifyPage(request) }
        guard let key = self.browserKey(request) else { return Pages.redirect("/verify" + target.query) }
        let t = Self.phrases(request, target)
        guard self.pages.security.verifyCodeForm(field: form["csrf"], browserKey: key) else {
            return self.codePage(request, target: target, browserKey: key, error: t("verify.stale"), status: .forbidden)
        }
        let sessionKey = Base32.encode(SecureRandom.bytes(32))
        let outcome = try await self.verification.check(
            organizationID: target.organization.id, mode: target.mode, browserKey: key, code: String((form["code"] ?? "").prefix(32)),
            clientIP: self.owners.site.clientIP(request, peer: context.remoteIP),
            sessionHash: Hex.sha256(sessionKey), locale: PageLocale.preferred(acceptLanguage: request.headers[.acceptLanguage])?.tag
        )
        switch outcome {
        case .rateLimited(let retryAfter):
            var response = self.codePage(request, target: target, browserKey: key, error: t("code.rate_limited"), status: .tooManyRequests)
            response.headers[.retryAfter] = String(retryAfter)
            return response
        case .checked(.wrongCode(let left)):
            return self.codePage(request, target: target, browserKey: key, error: t.plural("code.wrong", count: left), status: .badRequest)
        case .checked(.exhausted):
            return self.codePage(request, target: target, browserKey: key, error: t("code.exhausted"), status: .badRequest)
        case .checked(.tooManyTries):
            var response = self.codePage(request, target: target, browserKey: key, error: t("code.too_many"), status: .tooManyRequests)
            response.headers[.retryAfter] = String(self.verification.secondsUntilTomorrow())
            return response
        case .checked(.expired):
            return self.codePage(request, target: target, browserKey: key, error: t("code.expired"), status: .badRequest)
        case .checked(.redeemed(let session)):
            context.logger.info("Email verified; cancel flow started", metadata: ["flow_session_id": .string(session.id)])
            var response = Pages.redirect("/flow")
            response.setCookie(self.pages.security.sessionCookie(sessionKey, maxAge: Int(FlowService.sessionLifetime)))
            response.setCookie(Cookie(name: PageSecurity.verifyCookie, value: "", maxAge: 0, path: "/verify", httpOnly: true))
            return response
        }
    }

    // MARK: - Pieces

    func emailPage(_ request: Request, target: VerifyTarget, email: String?, error: String?, status: HTTPResponse.Status) -> Response {
        var nonce = Base32.encode(SecureRandom.bytes(16))
        if let existing = request.cookies[PageSecurity.verifyNonceCookie]?.value, !existing.isEmpty, existing.utf8.count <= 64 {
            nonce = existing
        }
        let view = VerifyView(
            brand: target.brand, csrf: self.pages.security.emailCSRF(nonce: nonce, target: target.key), org: target.appID,
            email: email, error: error)
        var response = self.pages.render("verify", view, Self.phrases(request, target), status: status)
        response.setCookie(self.pages.security.verifyNonceCookie(nonce))
        return response
    }

    func codePage(_ request: Request, target: VerifyTarget, browserKey: String, error: String?, status: HTTPResponse.Status) -> Response {
        let mailbox = target.mode == .test && self.mailer.mailbox != nil ? "/dev/mailbox" + target.query : nil
        let view = VerifyCodeView(
            brand: target.brand, csrf: self.pages.security.codeCSRF(browserKey: browserKey), org: target.appID, error: error,
            restartUrl: "/verify" + target.query, mailboxUrl: mailbox)
        return self.pages.render("verify-code", view, Self.phrases(request, target), status: status)
    }

    func unknownVerifyPage(_ request: Request) -> Response {
        let t = Pages.phrases(request)
        return self.pages.problemPage(
            heading: t("problem.unknown.heading"), message: t("problem.unknown.message"), retryURL: nil, t, status: .notFound)
    }

    /// The verification pages speak the browser's language (there is no link to name one),
    /// else the organization's default.
    static func phrases(_ request: Request, _ target: VerifyTarget) -> Phrases {
        Pages.phrases(request, brand: target.organization.name, settings: target.settings)
    }

    func browserKey(_ request: Request) -> String? {
        guard let key = request.cookies[PageSecurity.verifyCookie]?.value, !key.isEmpty, key.utf8.count <= 128 else { return nil }
        return key
    }

}
