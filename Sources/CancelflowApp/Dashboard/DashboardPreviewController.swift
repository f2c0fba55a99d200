import CancelflowCore
import Foundation
import Hummingbird

/// Hosted → Setup's preview: the hosted pages as a customer would see them with the current
/// settings, drawn from the same templates with a sample customer. Nothing is minted and no
/// session starts; the pages' buttons lead nowhere useful (their forms need a flow session).
struct DashboardPreviewController: Sendable {
    let pages: Pages
    let organizations: OrganizationService
    let flows: FlowConfigService

    static let steps = ["landing", "survey", "offer", "confirm"]

    func addRoutes(to group: RouterGroup<DashboardRequestContext>) {
        group.get("test/hosted/preview") { request, context in try await self.preview(request, context) }
    }

    func preview(_ request: Request, _ context: DashboardRequestContext) async throws -> Response {
        try context.require(.settings)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let settings = try await self.organizations.flowSettings(organizationID: organization.id)
        let brand = BrandView(organization, settings)
        let keep = KeepView(href: "/kept")
        let now = Date()
        let sample = Subscription(
            id: "sub_preview", customerID: "cus_preview", status: .active, planName: "Pro", amount: 1200, currency: "usd", interval: .month,
            currentPeriodEnd: now.addingTimeInterval(20 * 86400), createdAt: now, updatedAt: now)
        let csrf = "preview"
        // A flow as it would be published (`?flow=`, else the default one): its draft when it
        // has one.
        let flow: StoredFlow
        if let id = request.uri.queryParameters.get("flow") {
            flow = try await self.flows.flow(id: id, organizationID: organization.id)
        } else {
            flow = try await self.flows.defaultFlow(organizationID: organization.id)
        }
        let document = flow.draft ?? flow.published?.document ?? FlowDocument(legacy: settings)
        let content = document.content(variant: document.variants.first?.key)
        // `?lang=fr` previews a language; without it, the one the browser asks for.
        let t = Pages.phrases(
            request, given: request.uri.queryParameters.get("lang"), brand: organization.name, settings: settings, flow: content)
        let offer = content.offer(forReason: content.survey.reasons.first?.id ?? "")
        switch request.uri.queryParameters.get("step") ?? "landing" {
        case "survey":
            let reasons = content.survey.reasons.enumerated().map { ReasonView(index: $0, id: $1.id, text: t.text($1.label)) }
            let view = SurveyView(
                brand: brand, keep: keep, csrf: csrf, error: nil, reasons: reasons,
                question: content.survey.question.map(t.text) ?? t("survey.question"), comment: content.survey.comment)
            return self.pages.render("survey", view, t, status: .ok)
        case "offer" where offer != nil:
            return self.pages.render(
                "offer", OfferView(brand: brand, keep: keep, csrf: csrf, offer: offer ?? FlowOffer(id: "", type: .contact), subscription: sample, t),
                t, status: .ok)
        case "offer", "confirm":
            return self.pages.render(
                "confirm",
                ConfirmView(brand: brand, keep: keep, csrf: csrf, summary: Pages.summary(sample, timing: document.cancelTiming, t)), t, status: .ok)
        default:
            return self.pages.render(
                "landing",
                LandingView(
                    brand: brand, keep: keep, heading: t("landing.heading.named", ["name": "Ada"]),
                    subscriptions: [SubscriptionView(sample, index: 0, t)],
                    action: "/dashboard/test/hosted/preview", csrf: csrf),
                t, status: .ok)
        }
    }
}
