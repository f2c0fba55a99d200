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
extension HostedPagesController {
    func addVerifyRoutes(to router: Router<AppRequestContext>) {
        router.get("verify", use: self.verifyForm)
        router.post("verify", use: self.requestCode)
        router.get("verify/code", use: self.codeForm)
        router.post("verify/code", use: self.enterCode)
        router.get("dev/mailbox", use: self.devMailbox)
    }

    /// Whose verification page this is.
    struct VerifyTarget {
        let organization: Organization
        let mode: Mode
        let settings: FlowSettings
        /// The App ID the page carries in `?org=`; nil on the merchant's own host in live mode.
        let appID: String?

        var brand: BrandView { BrandView(self.organization, self.settings) }
        /// What the email form's CSRF value is bound to.
        var key: String { "\(self.organization.id)|\(self.mode.rawValue)" }
        var query: String { self.appID.map { "?org=\($0)" } ?? "" }
    }

    /// The organization and mode: from `?org=APP_ID` (which must be served on one of that
    /// organization's hosts), else from the merchant's custom domain or subdomain, in live mode.
    func verifyTarget(_ request: Request, _ context: AppRequestContext, appID: String?) async throws -> VerifyTarget? {
        let store = self.services.store
        let host = self.host(of: request, context)
        let picker = DomainPicker(publicURL: self.services.configuration.publicURL, subdomainBase: self.services.configuration.subdomainBase)
        let organization: Organization
        let mode: Mode
        if let appID, !appID.isEmpty {
            guard appID.utf8.count <= 64, let record = try await store.credentials(appID: appID, now: self.services.time.now()),
                let found = try await store.organization(id: record.organizationID), picker.accepts(host: host, for: found)
            else { return nil }
            organization = found
            mode = record.mode
        } else {
            guard let found = try await store.organization(host: picker.owner(ofHost: host)) else { return nil }
            organization = found
            mode = .live
        }
        let settings = try await store.flowSettings(organizationID: organization.id)
        return VerifyTarget(organization: organization, mode: mode, settings: settings, appID: appID?.isEmpty == false ? appID : nil)
    }

    /// `GET /verify`: asks for the address.
    @Sendable func verifyForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let target = try await self.verifyTarget(request, context, appID: request.uri.queryParameters["org"].map(String.init)) else {
            return self.unknownVerifyPage()
        }
        if let unavailable = self.unavailablePage(target) { return unavailable }
        return self.emailPage(request, target: target, email: nil, error: nil, status: .ok)
    }

    /// `POST /verify`: counts the request against the limits, stores a code, sends the email.
    @Sendable func requestCode(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.read(&request, within: self.services.configuration.readTimeout)
        guard let target = try await self.verifyTarget(request, context, appID: form["org"]) else { return self.unknownVerifyPage() }
        if let unavailable = self.unavailablePage(target) { return unavailable }
        let email = String((form["email"] ?? "").prefix(VerificationService.maximumAddressLength + 10))
        guard self.security.verifyEmailForm(field: form["csrf"], nonce: request.cookies[PageSecurity.verifyNonceCookie]?.value, target: target.key)
        else {
            context.logger.notice("Refused a verification request without a valid CSRF value")
            return self.emailPage(request, target: target, email: email, error: "This page was open too long. Please try again.", status: .forbidden)
        }
        let outcome: VerificationService.RequestOutcome
        do {
            outcome = try await self.services.verification.request(
                organizationID: target.organization.id, mode: target.mode, email: email, clientIP: self.clientIP(request, context)
            )
        } catch let error as CancelflowError where error.kind == .invalidRequest {
            return self.emailPage(request, target: target, email: email, error: error.message, status: .badRequest)
        }
        let issued: VerificationService.Issued
        switch outcome {
        case .issued(let value):
            issued = value
        case .rateLimited(let retryAfter):
            self.services.metrics.verificationEmail("refused")
            context.logger.notice("Verification request over the rate limit", metadata: ["organization_id": .string(target.organization.id)])
            var response = self.emailPage(
                request, target: target, email: email,
                error: "Too many codes have been requested. Please wait a while (up to an hour) and try again.",
                status: .tooManyRequests
            )
            response.headers[.retryAfter] = String(retryAfter)
            return response
        }
        let outgoing = self.verificationEmail(issued, to: (try? VerificationService.normalizedAddress(email)) ?? email, target: target)
        do {
            try await self.services.mailer.deliver(outgoing, logger: context.logger)
        } catch {
            // Nothing was stored, so the address's earlier code (if any) still works.
            // The address's hit is given back: an outage must not use up the customer's codes.
            try? await self.services.verification.refund(issued)
            self.services.metrics.verificationEmail("failed")
            context.logger.error(
                "Could not send a verification email",
                metadata: [
                    "verification_id": .string(issued.id),
                    "error": .string(redactingAddresses(String(describing: error))),
                ]
            )
            return self.emailPage(
                request, target: target, email: email,
                error: "We couldn't send the email just now. Please try again in a few minutes.",
                status: .serviceUnavailable
            )
        }
        self.services.metrics.verificationEmail("sent")
        try await self.services.verification.save(issued)
        var response = Self.redirect("/verify/code" + target.query)
        response.setCookie(self.security.verifyCookie(issued.browserKey))
        return response
    }

    /// `GET /verify/code`: asks for the code.
    @Sendable func codeForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let appID = request.uri.queryParameters["org"].map(String.init)
        guard let target = try await self.verifyTarget(request, context, appID: appID) else { return self.unknownVerifyPage() }
        guard let key = self.browserKey(request) else { return Self.redirect("/verify" + target.query) }
        return self.codePage(target: target, browserKey: key, error: nil, status: .ok)
    }

    /// `POST /verify/code`: a right code starts the flow in this browser.
    @Sendable func enterCode(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let form = try await FormBody.read(&request, within: self.services.configuration.readTimeout)
        guard let target = try await self.verifyTarget(request, context, appID: form["org"]) else { return self.unknownVerifyPage() }
        guard let key = self.browserKey(request) else { return Self.redirect("/verify" + target.query) }
        guard self.security.verifyCodeForm(field: form["csrf"], browserKey: key) else {
            return self.codePage(target: target, browserKey: key, error: "This page was open too long. Please try again.", status: .forbidden)
        }
        let sessionKey = Base32.encode(SecureRandom.bytes(32))
        let outcome = try await self.services.verification.check(
            organizationID: target.organization.id, mode: target.mode, browserKey: key, code: String((form["code"] ?? "").prefix(32)), clientIP: self.clientIP(request, context),
            sessionHash: Hex.sha256(sessionKey)
        )
        switch outcome {
        case .rateLimited(let retryAfter):
            var response = self.codePage(target: target, browserKey: key, error: "Too many tries. Please wait a while (up to an hour) and try again.",
                                         status: .tooManyRequests)
            response.headers[.retryAfter] = String(retryAfter)
            return response
        case .checked(.wrongCode(let left)):
            return self.codePage(target: target, browserKey: key,
                                 error: "That code isn't right. You can try \(left) more time\(left == 1 ? "" : "s").", status: .badRequest)
        case .checked(.exhausted):
            return self.codePage(target: target, browserKey: key,
                                 error: "Too many wrong codes: this one no longer works. Ask for a new code.", status: .badRequest)
        case .checked(.tooManyTries):
            var response = self.codePage(target: target, browserKey: key,
                                         error: "Too many wrong codes for this address today. Please try again tomorrow.", status: .tooManyRequests)
            response.headers[.retryAfter] = String(self.services.verification.secondsUntilTomorrow())
            return response
        case .checked(.expired):
            return self.codePage(target: target, browserKey: key,
                                 error: "This code has expired or was already used. Ask for a new code.", status: .badRequest)
        case .checked(.redeemed(let session)):
            context.logger.info("Email verified; cancel flow started", metadata: ["flow_session_id": .string(session.id)])
            var response = Self.redirect("/flow")
            response.setCookie(self.security.sessionCookie(sessionKey, maxAge: Int(FlowService.sessionLifetime)))
            response.setCookie(Cookie(name: PageSecurity.verifyCookie, value: "", maxAge: 0, path: "/verify", httpOnly: true))
            return response
        }
    }

    /// `GET /dev/mailbox?org=TEST_APP_ID`: an organization's test-mode emails, when no mail
    /// server is configured and the mailbox is on (by default only when the public URL is a
    /// loopback address: a developer's own machine).
    @Sendable func devMailbox(_ request: Request, context: AppRequestContext) async throws -> Response {
        let appID = request.uri.queryParameters["org"].map(String.init)
        guard let mailbox = self.services.mailer.mailbox, let appID,
            let target = try await self.verifyTarget(request, context, appID: appID), target.mode == .test
        else {
            return self.problemPage(heading: "Page not found", message: "There is no test mailbox here.", retryURL: nil, status: .notFound)
        }
        let messages = mailbox.messages(organizationID: target.organization.id).map { entry in
            MailboxMessageView(to: entry.message.to, subject: entry.message.subject, text: entry.message.text, sentAt: Timestamp.format(entry.sentAt))
        }
        return self.render("mailbox", MailboxView(brand: .plain, messages: messages), status: .ok)
    }

    // MARK: - Pieces

    func emailPage(_ request: Request, target: VerifyTarget, email: String?, error: String?, status: HTTPResponse.Status) -> Response {
        var nonce = Base32.encode(SecureRandom.bytes(16))
        if let existing = request.cookies[PageSecurity.verifyNonceCookie]?.value, !existing.isEmpty, existing.utf8.count <= 64 {
            nonce = existing
        }
        let view = VerifyView(brand: target.brand, csrf: self.security.emailCSRF(nonce: nonce, target: target.key), org: target.appID,
                              email: email, error: error)
        var response = self.render("verify", view, status: status)
        response.setCookie(self.security.verifyNonceCookie(nonce))
        return response
    }

    func codePage(target: VerifyTarget, browserKey: String, error: String?, status: HTTPResponse.Status) -> Response {
        let mailbox = target.mode == .test && self.services.mailer.mailbox != nil ? "/dev/mailbox" + target.query : nil
        let view = VerifyCodeView(brand: target.brand, csrf: self.security.codeCSRF(browserKey: browserKey), org: target.appID, error: error,
                                  restartUrl: "/verify" + target.query, mailboxUrl: mailbox)
        return self.render("verify-code", view, status: status)
    }

    /// Stripe and Paddle customers are looked up by email through their adapters, which this
    /// build does not have: rather than answer every address "no subscription", say the page
    /// cannot help yet (the same for every address, so it tells nothing about any of them).
    func unavailablePage(_ target: VerifyTarget) -> Response? {
        guard target.organization.billingProvider != .builtin else { return nil }
        return self.problemPage(
            heading: "We can't confirm your email here yet",
            message: "Please use the link in the emails from \(target.organization.name), or contact them to manage your subscription.",
            retryURL: nil,
            status: .serviceUnavailable,
            brand: target.brand
        )
    }

    func unknownVerifyPage() -> Response {
        self.problemPage(
            heading: "We couldn't tell whose page this is",
            message: "Open the link from the company you subscribe to, or the one in their emails, to manage your subscription.",
            retryURL: nil,
            status: .notFound
        )
    }

    func browserKey(_ request: Request) -> String? {
        guard let key = request.cookies[PageSecurity.verifyCookie]?.value, !key.isEmpty, key.utf8.count <= 128 else { return nil }
        return key
    }

    /// The client's IP: the peer, or behind a trusted proxy the address it saw (`ProxyTrust`).
    func clientIP(_ request: Request, _ context: AppRequestContext) -> String {
        self.services.configuration.proxyTrust.client(request, peer: context.remoteIP) ?? "unknown"
    }

    /// The email for an issued code: the code to a customer, a short note to anyone else.
    func verificationEmail(_ issued: VerificationService.Issued, to address: String, target: VerifyTarget) -> OutgoingEmail {
        let name = target.organization.name
        let from = "\(name) <\(self.services.configuration.mailFrom)>"
        let brand = EmailBrandView(name: name, logoUrl: target.settings.logoURL, color: target.settings.brandColor)
        guard let customer = issued.customer else {
            let subject = "Your \(name) subscription"
            let text = """
                Hello,

                Someone, hopefully you, asked to manage a \(name) subscription with this email address, but we couldn't \
                find a subscription for it. If you subscribed with another address, try that one.

                If you didn't ask, ignore this email: nothing has changed.

                \(name)
                """
            let html = self.library.render(NoticeEmailView(subject: subject, brand: brand), withTemplate: "email-notice") ?? ""
            return OutgoingEmail(message: EmailMessage(from: from, to: address, subject: subject, text: text, html: html),
                                 mode: target.mode, organizationID: target.organization.id, secrets: [], verificationID: issued.id)
        }
        let subject = "\(issued.code) is your \(name) verification code"
        let greeting = customer.name.map { "Hi \($0)," } ?? "Hello,"
        let text = """
            \(greeting)

            Use this code to manage your \(name) subscription:

                \(issued.code)

            It works for 15 minutes. If you didn't ask for it, ignore this email: nothing changes without the code.

            \(name)
            """
        let html = self.library.render(
            CodeEmailView(subject: subject, brand: brand, greeting: greeting, code: issued.code), withTemplate: "email-code"
        ) ?? ""
        return OutgoingEmail(message: EmailMessage(from: from, to: address, subject: subject, text: text, html: html),
                             mode: target.mode, organizationID: target.organization.id,
                             secrets: [issued.code] + (customer.name.map { [$0] } ?? []), verificationID: issued.id)
    }
}

struct VerifyView: PageView {
    let brand: BrandView
    let csrf: String
    let org: String?
    let email: String?
    let error: String?
}

struct VerifyCodeView: PageView {
    let brand: BrandView
    let csrf: String
    let org: String?
    let error: String?
    let restartUrl: String
    let mailboxUrl: String?
}

struct MailboxMessageView {
    let to: String
    let subject: String
    let text: String
    let sentAt: String
}

struct MailboxView: PageView {
    let brand: BrandView
    let messages: [MailboxMessageView]
}

struct EmailBrandView {
    let name: String
    let logoUrl: String?
    let color: String
}

/// Mustache reads stored properties (through reflection), so the brand's fields are copied in.
struct CodeEmailView {
    let subject: String
    let name: String
    let logoUrl: String?
    let color: String
    let greeting: String
    let code: String

    init(subject: String, brand: EmailBrandView, greeting: String, code: String) {
        self.subject = subject
        self.name = brand.name
        self.logoUrl = brand.logoUrl
        self.color = brand.color
        self.greeting = greeting
        self.code = code
    }
}

struct NoticeEmailView {
    let subject: String
    let name: String
    let logoUrl: String?
    let color: String

    init(subject: String, brand: EmailBrandView) {
        self.subject = subject
        self.name = brand.name
        self.logoUrl = brand.logoUrl
        self.color = brand.color
    }
}
