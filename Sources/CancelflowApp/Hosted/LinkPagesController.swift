import CancelflowCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `/cancel/{token}`: the landing page of a Cancel Link and its exchange for a flow session.
struct LinkPagesController: Sendable {
    let links: CancelLinkService
    let organizations: OrganizationService
    let flow: FlowService
    let pages: Pages
    let site: HostedSite
    let metrics: AppMetrics
    let time: any TimeSource
    /// How long a client has to send a form.
    let readTimeout: Duration

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("cancel/:token", use: self.landing)
        router.head("cancel/:token", use: self.landing)
        router.post("cancel/:token", use: self.exchange)
    }

    /// `GET`/`HEAD /cancel/{token}`: shows the page; never changes the link, so mail scanners
    /// and link unfurlers that fetch it leave it usable.
    @Sendable func landing(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        guard self.links.isAuthentic(token) else { return await self.pages.expired(request, organization: nil, mode: nil, status: .notFound) }
        let tokenHash = CancelTokenCodec.hash(token)
        guard let (link, organization) = try await self.linkOnThisHost(tokenHash: tokenHash, request: request, context: context) else {
            return await self.pages.expired(request, organization: nil, mode: nil, status: .gone)
        }
        if let session = try await self.session(request), session.linkID == link.id {
            // The browser that exchanged this link comes back to it: carry on where it was.
            return Pages.redirect("/flow")
        }
        guard link.status(at: self.time.now()) == .active else {
            return await self.pages.expired(request, organization: organization, mode: link.mode, given: link.locale, status: .gone)
        }
        let flowContext: FlowService.Context
        do {
            flowContext = try await self.flow.context(
                organization: organization, mode: link.mode, customerID: link.customerID, subscriptionID: link.subscriptionID, recent: true
            )
        } catch let error as CancelflowError {
            let t = Pages.phrases(request, given: link.locale, brand: organization.name, settings: nil)
            return self.pages.problem(error, t, organization: organization, logger: context.logger)
        }
        // The flow is not chosen yet (that waits for the survey), so only the organization's
        // wording applies here.
        let t = Pages.phrases(request, given: link.locale, brand: organization.name, settings: flowContext.settings)
        let nonce = request.cookies[PageSecurity.preSessionCookie]?.value.nilIfEmpty ?? Base32.encode(SecureRandom.bytes(16))
        var view = LandingView(
            brand: BrandView(organization, flowContext.settings),
            keep: KeepView(href: Pages.returnTarget(link.returnURL) ?? "/kept"),
            heading: flowContext.customer?.name.map { t("landing.heading.named", ["name": $0]) } ?? t("landing.heading"),
            subscriptions: flowContext.subscriptions.enumerated().map { SubscriptionView($1, index: $0, t) },
            action: "/cancel/\(token)",
            csrf: self.pages.security.landingCSRF(nonce: nonce, tokenHash: tokenHash)
        )
        view.clickToCancel = (try? await self.flow.isClickToCancel(link: link, context: flowContext)) ?? false
        // The one-click cancel may end on the return URL: the form may lead there.
        let formTargets = view.clickToCancel ? (link.returnURL.flatMap(Pages.origin).map { [$0] } ?? []) : []
        var response = self.pages.render("landing", view, t, status: .ok, formTargets: formTargets)
        response.setCookie(self.pages.security.preSessionCookie(nonce))
        if request.method == .head { response.body = .init() }
        return response
    }

    /// `POST /cancel/{token}`: the customer's first action exchanges the link, once.
    @Sendable func exchange(_ request: Request, context: AppRequestContext) async throws -> Response {
        var request = request
        let token = context.parameters.get("token") ?? ""
        guard self.links.isAuthentic(token) else { return await self.pages.expired(request, organization: nil, mode: nil, status: .notFound) }
        let form = try await FormBody.read(&request, within: self.readTimeout)
        let tokenHash = CancelTokenCodec.hash(token)
        let nonce = request.cookies[PageSecurity.preSessionCookie]?.value
        guard self.pages.security.verifyLanding(field: form["csrf"], nonce: nonce, tokenHash: tokenHash) else {
            context.logger.notice("Refused an exchange without a valid CSRF value")
            let t = Pages.phrases(request)
            return self.pages.problemPage(
                heading: t("problem.stale.heading"), message: t("problem.stale.landing"), retryURL: "/cancel/\(token)", t, status: .forbidden)
        }
        guard let (link, organization) = try await self.linkOnThisHost(tokenHash: tokenHash, request: request, context: context) else {
            return await self.pages.expired(request, organization: nil, mode: nil, status: .gone)
        }
        let sessionKey = Base32.encode(SecureRandom.bytes(32))
        // The session keeps the language it began in: the link's, else the browser's. Its
        // pages and its confirmation email speak it, whatever browser sends the next request.
        let locale = (PageLocale.supported(link.locale) ?? PageLocale.preferred(acceptLanguage: request.headers[.acceptLanguage]))?.tag
        let exchanged = try await self.flow.exchange(tokenHash: tokenHash, sessionHash: Hex.sha256(sessionKey), locale: locale)
        guard let (_, session) = exchanged else {
            if let session = try await self.session(request), session.linkID == link.id { return Pages.redirect("/flow") }
            return await self.pages.expired(request, organization: organization, mode: link.mode, given: link.locale, status: .gone)
        }
        context.logger.info("Exchanged cancel link", metadata: ["link_id": .string(link.id), "flow_session_id": .string(session.id)])
        self.metrics.exchanged(link.mode)
        var target = "/flow"
        if form["intent"] == "cancel" {
            // Click-to-cancel's button on the first page: cancelled in this one request. When
            // the flow is not click-to-cancel after all (the subscription must be chosen, or the
            // flow changed), or the provider fails, the flow's page says what is next.
            do {
                try await self.flow.confirmCancellation(session)
                context.logger.info("Cancel flow completed", metadata: ["flow_session_id": .string(session.id), "outcome": "canceled"])
                self.metrics.flowOutcome(FlowOutcome.canceled.rawValue)
                target = Pages.returnTarget(session.returnURL) ?? "/flow"
            } catch {
                // The link is already exchanged: whatever failed, the customer gets their session
                // and the flow's page, which shows where they are.
                let code = (error as? CancelflowError)?.code ?? String(describing: type(of: error))
                context.logger.notice("Click-to-cancel went to the flow", metadata: ["error": .string(code)])
            }
        }
        var response = Pages.redirect(target)
        response.setCookie(self.pages.security.sessionCookie(sessionKey, maxAge: Int(FlowService.sessionLifetime)))
        response.setCookie(Cookie(name: PageSecurity.preSessionCookie, value: "", maxAge: 0, path: "/cancel", httpOnly: true))
        return response
    }

    /// The link a token hash names, when the request came to a host of the link's organization.
    func linkOnThisHost(tokenHash: String, request: Request, context: AppRequestContext) async throws -> (CancelLink, Organization)? {
        guard let link = try await self.links.link(tokenHash: tokenHash),
            let organization = try await self.organizations.organizationIfAny(id: link.organizationID)
        else { return nil }
        guard self.site.picker.accepts(host: self.site.host(of: request, peer: context.remoteIP), for: organization) else { return nil }
        return (link, organization)
    }

    /// The flow session the browser's cookie names, if any.
    func session(_ request: Request) async throws -> FlowSession? {
        guard let key = request.cookies[PageSecurity.sessionCookie]?.value else { return nil }
        return try await self.flow.session(key: key)
    }
}

extension String {
    fileprivate var nilIfEmpty: String? { self.isEmpty ? nil : self }
}
