import CancelflowCore
import Foundation

/// A page's view model: every page shows the merchant's brand.
protocol PageView {
    var brand: BrandView { get }
}

/// The merchant's name, logo and colour.
struct BrandView {
    let name: String
    let logoUrl: String?
    /// The one inline style, `:root{--brand:#rrggbb}`; its hash goes into the page's CSP.
    let styleTag: String?

    init(_ organization: Organization, _ settings: FlowSettings) {
        self.name = organization.name
        self.logoUrl = settings.logoURL
        // Validated as #rrggbb when set, so it cannot break out of the style element.
        self.styleTag = ":root{--brand:\(settings.brandColor)}"
    }

    init(name: String) {
        self.name = name
        self.logoUrl = nil
        self.styleTag = nil
    }

    /// For pages that cannot say whose they are (an unknown link).
    static let plain = BrandView(name: "Cancelflow")
}

/// "Keep my subscription": a form on flow pages, a link before the exchange.
struct KeepView {
    var formAction: String?
    var csrf: String?
    var href: String?

    init(formAction: String, csrf: String) {
        self.formAction = formAction
        self.csrf = csrf
    }

    init(href: String) {
        self.href = href
    }
}

struct SubscriptionView {
    let index: Int
    let id: String
    let plan: String
    let price: String?
    let renews: String?

    init(_ subscription: Subscription, index: Int, _ t: Phrases) {
        self.index = index
        self.id = subscription.id
        self.plan = subscription.planName ?? t("subscription.plan")
        self.price = Self.price(subscription, t)
        self.renews = subscription.currentPeriodEnd.map { t("subscription.renews", ["date": t.day($0)]) }
    }

    /// `12,00 € / mois`: the amount as the locale writes money, per interval.
    static func price(_ subscription: Subscription, _ t: Phrases) -> String? {
        guard let amount = subscription.amount, let currency = subscription.currency else { return nil }
        let price = t.money(amount, currency: currency)
        guard let interval = subscription.interval else { return price }
        return t("subscription.price.\(interval.rawValue)", ["price": price])
    }
}

struct ReasonView {
    let index: Int
    /// What the form posts: the reason's id in the flow.
    let id: String
    let text: String
}

struct LandingView: PageView {
    let brand: BrandView
    let keep: KeepView
    /// "Hi Ada, sorry to see you go", or without the name.
    let heading: String
    let subscriptions: [SubscriptionView]
    let action: String
    let csrf: String
    /// Click-to-cancel: the cancel button is on this first page.
    var clickToCancel = false
}

struct ChooseView: PageView {
    let brand: BrandView
    let keep: KeepView
    let csrf: String
    let error: String?
    let subscriptions: [SubscriptionView]
}

struct SurveyView: PageView {
    let brand: BrandView
    let keep: KeepView
    let csrf: String
    let error: String?
    let reasons: [ReasonView]
    /// The flow's own question, else the standard one.
    var question: String
    /// Whether the flow asks for a comment.
    var comment: Bool = true
}

struct OfferView: PageView {
    let brand: BrandView
    let keep: KeepView
    let csrf: String
    var headline: String
    var detail: String
    let acceptLabel: String
    let error: String?

    init(
        brand: BrandView, keep: KeepView, csrf: String, offer: FlowOffer, subscription: Subscription?, _ t: Phrases, error: String? = nil
    ) {
        self.brand = brand
        self.keep = keep
        self.csrf = csrf
        self.error = error
        let months = offer.months ?? 1
        switch offer.type {
        case .pause:
            self.headline = t.plural("offer.pause.headline", count: months)
            self.detail = t("offer.pause.detail")
            self.acceptLabel = t("offer.pause.accept")
        case .discount:
            let percent = ["percent": String(offer.percent ?? 0)]
            self.headline = t.plural("offer.discount.headline", count: months, percent)
            self.detail = t.withPlan("offer.discount.detail", plan: subscription?.planName)
            self.acceptLabel = t("offer.discount.accept", percent)
        case .contact:
            self.headline = t("offer.contact.headline")
            self.detail = t("offer.contact.detail")
            self.acceptLabel = t("offer.contact.accept")
        case .redirect:
            self.headline = t("offer.redirect.headline")
            self.detail = t("offer.redirect.detail")
            self.acceptLabel = t("offer.redirect.accept")
        case .planChange:
            // The plan offered: the one accepting it moves to (`FlowOffer.plan(for:)`).
            let plan = subscription.flatMap(offer.plan(for:)) ?? offer.plans?.first
            let name = plan.map { t.text($0.name) } ?? ""
            self.headline = t("offer.plan_change.headline")
            if let plan, let amount = plan.amount, let currency = plan.currency {
                var price = t.money(amount, currency: currency)
                if let interval = subscription?.interval { price = t("subscription.price.\(interval.rawValue)", ["price": price]) }
                self.detail = t("offer.plan_change.detail.price", ["plan": name, "price": price])
            } else {
                self.detail = t("offer.plan_change.detail", ["plan": name])
            }
            self.acceptLabel = t("offer.plan_change.accept", ["plan": name])
        case .trialExtension:
            self.headline = t.plural("offer.trial_extension.headline", count: offer.days ?? 0)
            self.detail = t("offer.trial_extension.detail")
            self.acceptLabel = t("offer.trial_extension.accept")
        }
        // The merchant's own wording, when the flow gives it.
        if let headline = offer.headline { self.headline = t.text(headline) }
        if let message = offer.message { self.detail = t.text(message) }
    }
}

struct ConfirmView: PageView {
    let brand: BrandView
    let keep: KeepView
    let csrf: String
    let summary: String
    var error: String? = nil
    /// Click-to-cancel's one offer, shown beside the cancel button.
    var offer: OfferView? = nil
}

struct NothingView: PageView {
    let brand: BrandView
}

struct DoneView: PageView {
    let brand: BrandView
    let heading: String
    let message: String
    let returnUrl: String?
    /// What the confirmation email became: on its way (to a masked address), or not sendable,
    /// with the reference either way.
    var confirmationNote: String?
    /// Where a customer who chose to contact support writes to.
    var contactEmail: String?
    var contactUrl: String?

    init(
        brand: BrandView, outcome: FlowOutcome, subscription: Subscription?, timing: CancelTiming, returnUrl: String?, _ t: Phrases,
        offer: FlowOffer? = nil
    ) {
        self.brand = brand
        self.returnUrl = returnUrl
        switch outcome {
        case .canceled:
            self.heading = t("done.canceled.heading")
            self.message = timing == .periodEnd ? t("done.canceled.end") : t("done.canceled.now")
        case .paused:
            self.heading = t("done.paused.heading")
            self.message = subscription?.pauseResumesAt.map { t("done.paused.until", ["date": t.day($0)]) } ?? t("done.paused.message")
        case .discounted:
            self.heading = t("done.discounted.heading")
            self.message = t("done.thanks")
        case .planChanged:
            self.heading = t("done.plan_changed.heading")
            self.message = t("done.thanks")
        case .trialExtended:
            self.heading = t("done.trial_extended.heading")
            self.message = t("done.thanks")
        case .contacted:
            self.heading = t("done.contacted.heading")
            self.message = t("done.contacted.message")
            self.contactEmail = offer?.email
            self.contactUrl = offer?.url
        case .redirected, .kept:
            self.heading = t("done.kept.heading")
            self.message = t("done.kept.message")
        case .abandoned:
            self.heading = t("done.abandoned.heading")
            self.message = t("done.abandoned.message")
        }
    }
}

struct ExpiredView: PageView {
    let brand: BrandView
    let verifyUrl: String
}

struct ProblemView: PageView {
    let brand: BrandView
    let heading: String
    let message: String
    let retryUrl: String?
}

struct KeptView: PageView {
    let brand: BrandView
}
