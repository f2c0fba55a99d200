import CancelflowCore
import Foundation
import Hummingbird

/// Hosted → Setup's preview: the hosted pages as a customer would see them with the current
/// settings, drawn from the same templates with a sample customer. Nothing is minted and no
/// session starts; the pages' buttons lead nowhere useful (their forms need a flow session).
struct DashboardPreviewController: Sendable {
    let pages: Pages
    let organizations: OrganizationService

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
        switch request.uri.queryParameters.get("step") ?? "landing" {
        case "survey":
            let reasons = settings.surveyReasons.enumerated().map { ReasonView(index: $0.offset, text: $0.element) }
            return self.pages.render("survey", SurveyView(brand: brand, keep: keep, csrf: csrf, error: nil, reasons: reasons), status: .ok)
        case "offer" where settings.offer != .none:
            return self.pages.render(
                "offer", OfferView(brand: brand, keep: keep, csrf: csrf, offer: settings.offer, subscription: sample), status: .ok)
        case "offer", "confirm":
            return self.pages.render(
                "confirm",
                ConfirmView(brand: brand, keep: keep, csrf: csrf, summary: Pages.summary(sample, timing: settings.cancelTiming)), status: .ok)
        default:
            return self.pages.render(
                "landing",
                LandingView(
                    brand: brand, keep: keep, customerName: "Ada", subscriptions: [SubscriptionView(sample, index: 0)],
                    action: "/dashboard/test/hosted/preview", csrf: csrf),
                status: .ok)
        }
    }
}
