import CancelflowCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache

/// The hosts hosted pages are served on, and who the client is: both read through `ProxyTrust`,
/// so behind a trusted proxy they are what the proxy saw.
struct HostedSite: Sendable {
    /// Which hosts belong to which organization (built once, shared by every controller).
    let picker: DomainPicker
    let proxyTrust: ProxyTrust

    /// The host the request was made to.
    func host(of request: Request, peer: String?) -> String {
        self.proxyTrust.host(request, peer: peer)
    }

    /// The client's IP: the peer, or behind a trusted proxy the address it saw.
    func clientIP(_ request: Request, peer: String?) -> String {
        self.proxyTrust.client(request, peer: peer) ?? "unknown"
    }
}

/// What every hosted page shares: the templates, the security headers, and the pages that end a
/// path (expired, problem). HTML with Post/Redirect/Get; errors become pages, never JSON.
struct Pages: Sendable {
    let library: MustacheLibrary
    let security: PageSecurity
    let organizations: OrganizationService

    /// The friendly dead-end-free screen for used, expired, revoked, unknown, malformed and
    /// wrong-host links alike; it never says which.
    /// In the language of the link (`given`) when the link is known, else the browser's, else
    /// the organization's default.
    func expired(
        _ request: Request, organization: Organization?, mode: Mode?, given: String? = nil, status: HTTPResponse.Status
    ) async
        -> Response
    {
        var brand = BrandView.plain
        var appID: String?
        var settings: FlowSettings?
        if let organization, let mode {
            let loaded = (try? await self.organizations.flowSettings(organizationID: organization.id)) ?? .defaults
            brand = BrandView(organization, loaded)
            settings = loaded
            // The verify page needs to know whose customer this is; the App ID is public.
            appID = try? await self.organizations.appID(organizationID: organization.id, mode: mode)
        }
        let t = Self.phrases(request, given: given, brand: brand.name, settings: settings)
        return self.render("expired", ExpiredView(brand: brand, verifyUrl: Self.verifyURL(appID: appID)), t, status: status)
    }

    /// The page for a failure to load what a page needs (the database, the billing data).
    func problem(_ error: CancelflowError, _ t: Phrases, organization: Organization?, logger: Logger) -> Response {
        logger.error("Hosted page failed", metadata: ["error": .string(error.description)])
        return self.problemPage(
            heading: t("problem.load.heading"), message: t("problem.load.message"), retryURL: nil, t, status: .serviceUnavailable,
            brand: organization.map { BrandView($0, .defaults) } ?? .plain
        )
    }

    func problemPage(
        heading: String, message: String, retryURL: String?, _ t: Phrases, status: HTTPResponse.Status, brand: BrandView = .plain
    )
        -> Response
    {
        self.render("problem", ProblemView(brand: brand, heading: heading, message: message, retryUrl: retryURL), t, status: status)
    }

    func render<View: PageView & MustacheParent>(
        _ template: String, _ view: View, _ t: Phrases, status: HTTPResponse.Status, formTargets: [String] = []
    ) -> Response {
        let html = self.library.render(Localized(view: view, phrases: t), withTemplate: template) ?? ""
        var response = Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .contentLanguage: t.locale.tag],
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

    static func summary(_ subscription: Subscription?, timing: CancelTiming, _ t: Phrases) -> String {
        let plan = subscription?.planName
        switch timing {
        case .immediately:
            return t.withPlan("confirm.now", plan: plan)
        case .periodEnd:
            if let end = subscription?.currentPeriodEnd {
                return t.withPlan("confirm.until", plan: plan, ["date": t.day(end)])
            }
            return t.withPlan("confirm.end", plan: plan)
        }
    }

    /// One stylesheet for the hosted pages and the dashboard, which extends it.
    static let stylesheet = [Templates.stylesheet, DashboardTemplates.stylesheet, DashboardTemplates.settingsStylesheet].joined(separator: "\n")

    /// `GET /kept` (where "keep my subscription" goes without a return URL) and the stylesheet.
    func addStaticRoutes(to router: Router<AppRequestContext>) {
        router.get("kept") { request, _ in self.render("kept", KeptView(brand: .plain), Self.phrases(request), status: .ok) }
        router.get("assets/cancelflow.css") { _, _ in
            var response = Response(
                status: .ok,
                headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: .init(byteBuffer: ByteBuffer(string: Self.stylesheet))
            )
            response.headers[.xContentTypeOptions] = "nosniff"
            return response
        }
    }
}
