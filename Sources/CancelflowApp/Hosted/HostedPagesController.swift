import CancelflowAPI
import CancelflowCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache

/// What the customer sees: the landing page of a Cancel Link, the exchange, the flow's steps and
/// the expired screen. HTML with Post/Redirect/Get; errors become pages, never JSON.
struct HostedPagesController: Sendable {
    let services: AppServices
    let library: MustacheLibrary
    let security: PageSecurity

    init(services: AppServices, library: MustacheLibrary) {
        self.services = services
        self.library = library
        self.security = PageSecurity(secret: services.secret, publicURL: services.configuration.publicURL)
    }

    var flow: FlowService { self.services.flow }
    var codec: CancelTokenCodec { CancelTokenCodec(serverSecret: self.services.secret) }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("cancel/:token", use: self.landing)
        router.head("cancel/:token", use: self.landing)
        router.post("cancel/:token", use: self.exchange)
        router.get("flow", use: self.show)
        router.post("flow/subscription", use: self.chooseSubscription)
        router.post("flow/survey", use: self.answerSurvey)
        router.post("flow/offer", use: self.decideOffer)
        router.post("flow/confirm", use: self.confirm)
        router.post("flow/keep", use: self.keep)
        self.addVerifyRoutes(to: router)
        router.get("kept") { _, _ in self.render("kept", KeptView(brand: .plain), status: .ok) }
        router.get("assets/cancelflow.css") { _, _ in
            var response = Response(
                status: .ok,
                headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(string: Templates.stylesheet))
            )
            response.headers[.xContentTypeOptions] = "nosniff"
            return response
        }
    }

    // MARK: - Landing and exchange

    /// `GET`/`HEAD /cancel/{token}`: shows the page; never changes the link, so mail scanners
    /// and link unfurlers that fetch it leave it usable.
    @Sendable func landing(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        guard self.codec.isAuthentic(token) else { return await self.expired(organization: nil, mode: nil, status: .notFound) }
        let tokenHash = CancelTokenCodec.hash(token)
        guard let (link, organization) = try await self.linkOnThisHost(tokenHash: tokenHash, request: request, context: context) else {
            return await self.expired(organization: nil, mode: nil, status: .gone)
        }
        if let session = try await self.session(request), session.linkID == link.id {
            // The browser that exchanged this link comes back to it: carry on where it was.
            return Self.redirect("/flow")
        }
        guard link.status(at: self.services.time.now()) == .active else {
            return await self.expired(organization: organization, mode: link.mode, status: .gone)
        }
        let flowContext: FlowService.Context
        do {
            flowContext = try await self.flow.context(
                organization: organization, mode: link.mode, customerID: link.customerID, subscriptionID: link.subscriptionID
            )
        } catch let error as CancelflowError {
            return self.problem(error, organization: organization, context: context)
        }
        let nonce = request.cookies[PageSecurity.preSessionCookie]?.value.nilIfEmpty ?? Base32.encode(SecureRandom.bytes(16))
        let view = LandingView(
            brand: BrandView(organization, flowContext.settings),
            keep: KeepView(href: Self.returnTarget(link.returnURL) ?? "/kept"),
            customerName: flowContext.customer?.name,
            subscriptions: flowContext.subscriptions.enumerated().map { SubscriptionView($1, index: $0) },
            action: "/cancel/\(token)",
            csrf: self.security.landingCSRF(nonce: nonce, tokenHash: tokenHash)
        )
        var response = self.render("landing", view, status: .ok, formTargets: [])
        response.setCookie(self.security.preSessionCookie(nonce))
        if request.method == .head { response.body = .init() }
        return response
    }

    /// `POST /cancel/{token}`: the customer's first action exchanges the link, once.
    @Sendable func exchange(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let token = context.parameters.get("token") ?? ""
        guard self.codec.isAuthentic(token) else { return await self.expired(organization: nil, mode: nil, status: .notFound) }
        let form = try await FormBody.read(&request, within: self.services.configuration.readTimeout)
        let tokenHash = CancelTokenCodec.hash(token)
        let nonce = request.cookies[PageSecurity.preSessionCookie]?.value
        guard self.security.verifyLanding(field: form["csrf"], nonce: nonce, tokenHash: tokenHash) else {
            context.logger.notice("Refused an exchange without a valid CSRF value")
            return self.problemPage(
                heading: "Please try again",
                message: "This page was open too long or in another browser. Reload it to continue.",
                retryURL: "/cancel/\(token)",
                status: .forbidden
            )
        }
        guard let (link, organization) = try await self.linkOnThisHost(tokenHash: tokenHash, request: request, context: context) else {
            return await self.expired(organization: nil, mode: nil, status: .gone)
        }
        let sessionKey = Base32.encode(SecureRandom.bytes(32))
        let exchanged = try await self.flow.exchange(tokenHash: tokenHash, sessionHash: Hex.sha256(sessionKey))
        guard let (_, session) = exchanged else {
            if let session = try await self.session(request), session.linkID == link.id { return Self.redirect("/flow") }
            return await self.expired(organization: organization, mode: link.mode, status: .gone)
        }
        context.logger.info("Exchanged cancel link", metadata: ["link_id": .string(link.id), "flow_session_id": .string(session.id)])
        self.services.metrics.exchanged(link.mode)
        var response = Self.redirect("/flow")
        response.setCookie(self.security.sessionCookie(sessionKey, maxAge: Int(FlowService.sessionLifetime)))
        response.setCookie(Cookie(name: PageSecurity.preSessionCookie, value: "", maxAge: 0, path: "/cancel", httpOnly: true))
        return response
    }

    // MARK: - The flow

    /// `GET /flow`: the step the session is at.
    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let session = try await self.session(request) else { return await self.expired(organization: nil, mode: nil, status: .gone) }
        return try await self.page(for: session, context: context, error: nil, status: .ok)
    }

    @Sendable func chooseSubscription(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await self.act(request, context) { session, form in
            try await self.flow.chooseSubscription(session, subscriptionID: form["subscriptionId"] ?? "")
            return nil
        }
    }

    @Sendable func answerSurvey(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await self.act(request, context) { session, form in
            try await self.flow.answerSurvey(session, reason: form["reason"] ?? "", comment: form["comment"])
            return nil
        }
    }

    @Sendable func decideOffer(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await self.act(request, context) { session, form in
            let accept = form["decision"] == "accept"
            try await self.flow.decideOffer(session, accept: accept)
            return accept ? Self.returnTarget(session.returnURL) : nil
        }
    }

    @Sendable func confirm(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await self.act(request, context) { session, _ in
            try await self.flow.confirmCancellation(session)
            return Self.returnTarget(session.returnURL)
        }
    }

    @Sendable func keep(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await self.act(request, context) { session, _ in
            try await self.flow.keep(session)
            return Self.returnTarget(session.returnURL)
        }
    }

    /// Runs one step's action: session and CSRF first, then the action; on success a redirect
    /// (to the return URL when the flow ended and the link had one), on a refused answer the
    /// same step again with the reason.
    func act(
        _ request: Request,
        _ context: AppRequestContext,
        _ action: (FlowSession, FormBody) async throws -> String?
    ) async throws -> Response {
        var request = request
        guard let session = try await self.session(request) else { return await self.expired(organization: nil, mode: nil, status: .gone) }
        let form = try await FormBody.read(&request, within: self.services.configuration.readTimeout)
        guard self.security.verifyFlow(field: form["csrf"], sessionID: session.id) else {
            return self.problemPage(
                heading: "Please try again",
                message: "This page was open in another browser or has expired. Reload it to continue.",
                retryURL: "/flow",
                status: .forbidden
            )
        }
        do {
            let returnURL = try await action(session, form)
            if let outcome = try await self.session(request)?.outcome {
                context.logger.info("Cancel flow completed", metadata: ["flow_session_id": .string(session.id), "outcome": .string(outcome.rawValue)])
                self.services.metrics.flowOutcome(outcome.rawValue)
                if let returnURL { return Self.redirect(returnURL) }
            }
            return Self.redirect("/flow")
        } catch let error as CancelflowError where error.kind == .invalidRequest {
            let current = try await self.session(request) ?? session
            return try await self.page(for: current, context: context, error: error.message, status: .badRequest)
        }
    }

    /// Renders the page of the session's current step.
    func page(for session: FlowSession, context: AppRequestContext, error: String?, status: HTTPResponse.Status) async throws -> Response {
        let flowContext: FlowService.Context
        do {
            flowContext = try await self.flow.context(for: session)
        } catch let error as CancelflowError {
            return self.problem(error, organization: nil, context: context)
        }
        let brand = BrandView(flowContext.organization, flowContext.settings)
        let csrf = self.security.flowCSRF(sessionID: session.id)
        let keep = KeepView(formAction: "/flow/keep", csrf: csrf)
        let formTargets = session.returnURL.flatMap(Self.origin).map { [$0] } ?? []
        let subscription = self.flow.subscription(of: session, context: flowContext)
        switch self.flow.step(for: session, context: flowContext) {
        case .chooseSubscription:
            let view = ChooseView(
                brand: brand, keep: keep, csrf: csrf, error: error,
                subscriptions: flowContext.subscriptions.enumerated().map { SubscriptionView($1, index: $0) }
            )
            return self.render("choose", view, status: status, formTargets: formTargets)
        case .survey:
            let reasons = flowContext.settings.surveyReasons.enumerated().map { ReasonView(index: $0, text: $1) }
            return self.render("survey", SurveyView(brand: brand, keep: keep, csrf: csrf, error: error, reasons: reasons),
                               status: status, formTargets: formTargets)
        case .offer(let offer):
            return self.render("offer", OfferView(brand: brand, keep: keep, csrf: csrf, offer: offer, subscription: subscription),
                               status: status, formTargets: formTargets)
        case .confirm:
            let view = ConfirmView(brand: brand, keep: keep, csrf: csrf,
                                   summary: Self.summary(subscription, timing: flowContext.settings.cancelTiming))
            return self.render("confirm", view, status: status, formTargets: formTargets)
        case .nothingToCancel:
            return self.render("nothing", NothingView(brand: brand), status: status, formTargets: formTargets)
        case .done(let outcome):
            let view = DoneView(brand: brand, outcome: outcome, subscription: subscription,
                                timing: flowContext.settings.cancelTiming, returnUrl: Self.returnTarget(session.returnURL),
                                verifyUrl: Self.verifyURL(appID: nil))
            return self.render("done", view, status: status, formTargets: formTargets)
        }
    }

    // MARK: - Helpers

    /// The link a token hash names, when the request came to a host of the link's organization.
    func linkOnThisHost(tokenHash: String, request: Request, context: AppRequestContext) async throws -> (CancelLink, Organization)? {
        guard let link = try await self.services.store.link(tokenHash: tokenHash),
            let organization = try await self.services.store.organization(id: link.organizationID)
        else { return nil }
        let picker = DomainPicker(publicURL: self.services.configuration.publicURL, subdomainBase: self.services.configuration.subdomainBase)
        guard picker.accepts(host: self.host(of: request, context), for: organization) else { return nil }
        return (link, organization)
    }

    func host(of request: Request, _ context: AppRequestContext) -> String {
        self.services.configuration.proxyTrust.host(request, peer: context.remoteIP)
    }

    /// The flow session the browser's cookie names.
    func session(_ request: Request) async throws -> FlowSession? {
        guard let key = request.cookies[PageSecurity.sessionCookie]?.value, !key.isEmpty, key.utf8.count <= 128 else { return nil }
        return try await self.services.store.flowSession(sessionHash: Hex.sha256(key))
    }

    /// The friendly dead-end-free screen for used, expired, revoked, unknown, malformed and
    /// wrong-host links alike; it never says which.
    func expired(organization: Organization?, mode: Mode?, status: HTTPResponse.Status) async -> Response {
        var brand = BrandView.plain
        var appID: String?
        if let organization, let mode {
            let settings = (try? await self.services.store.flowSettings(organizationID: organization.id)) ?? .defaults
            brand = BrandView(organization, settings)
            // The verify page needs to know whose customer this is; the App ID is public.
            appID = try? await self.services.store.appID(organizationID: organization.id, mode: mode)
        }
        return self.render("expired", ExpiredView(brand: brand, verifyUrl: Self.verifyURL(appID: appID)), status: status, formTargets: [])
    }

    func problem(_ error: CancelflowError, organization: Organization?, context: AppRequestContext) -> Response {
        context.logger.error("Hosted page failed", metadata: ["error": .string(error.description)])
        return self.problemPage(
            heading: "We couldn't load your subscription",
            message: "Please try again in a few minutes, or contact the company you subscribe to.",
            retryURL: nil,
            status: .serviceUnavailable,
            brand: organization.map { BrandView($0, .defaults) } ?? .plain
        )
    }

    func problemPage(heading: String, message: String, retryURL: String?, status: HTTPResponse.Status, brand: BrandView = .plain) -> Response {
        self.render("problem", ProblemView(brand: brand, heading: heading, message: message, retryUrl: retryURL), status: status, formTargets: [])
    }

    func render(_ template: String, _ view: some PageView, status: HTTPResponse.Status, formTargets: [String] = []) -> Response {
        let html = self.library.render(view, withTemplate: template) ?? ""
        var response = Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
        PageSecurity.apply(to: &response, styleHash: view.brand.styleTag.map(PageSecurity.styleHash), formTargets: formTargets)
        return response
    }

    static func redirect(_ location: String) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location])
        PageSecurity.apply(to: &response, styleHash: nil, formTargets: [])
        return response
    }

    static func verifyURL(appID: String?) -> String {
        appID.map { "/verify?org=\($0)" } ?? "/verify"
    }

    /// A stored return URL as the pages may link to it: parsed again with today's strict rules,
    /// so a link minted before them can never send the customer somewhere its allow-list did
    /// not mean.
    static func returnTarget(_ stored: String?) -> String? {
        stored.flatMap { StrictURL.parse($0)?.text }
    }

    static func origin(_ url: String) -> String? {
        StrictURL.parse(url)?.origin
    }

    static func summary(_ subscription: Subscription?, timing: CancelTiming) -> String {
        let plan = subscription?.planName ?? "subscription"
        switch timing {
        case .immediately:
            return "Your \(plan) will be cancelled right away."
        case .periodEnd:
            if let end = subscription?.currentPeriodEnd {
                return "Your \(plan) will stay active until \(Self.day(end)) and then end. You won't be charged again."
            }
            return "Your \(plan) will end at the close of the current billing period. You won't be charged again."
        }
    }

    static func day(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "d MMMM yyyy"
        return formatter.string(from: date)
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { self.isEmpty ? nil : self }
}
