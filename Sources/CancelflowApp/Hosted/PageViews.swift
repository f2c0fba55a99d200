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

    init(_ subscription: Subscription, index: Int) {
        self.index = index
        self.id = subscription.id
        self.plan = subscription.planName ?? "Subscription"
        self.price = Self.price(subscription)
        self.renews = subscription.currentPeriodEnd.map { "Renews on \(Pages.day($0))" }
    }

    static func price(_ subscription: Subscription) -> String? {
        guard let amount = subscription.amount, let currency = subscription.currency else { return nil }
        let major = String(format: "%d.%02d", amount / 100, amount % 100)
        let per = subscription.interval.map { " / \($0.rawValue)" } ?? ""
        return "\(currency.uppercased()) \(major)\(per)"
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
    let customerName: String?
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
    var question: String = "Why are you leaving?"
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

    init(brand: BrandView, keep: KeepView, csrf: String, offer: FlowOffer, subscription: Subscription?, error: String? = nil) {
        self.brand = brand
        self.keep = keep
        self.csrf = csrf
        self.error = error
        let months = offer.months ?? 1
        let plural = months == 1 ? "" : "s"
        switch offer.type {
        case .pause:
            self.headline = "Pause for \(months) month\(plural) instead?"
            self.detail = "You won't be charged while paused, and everything will be here when you're back."
            self.acceptLabel = "Pause my subscription"
        case .discount:
            let percent = offer.percent ?? 0
            self.headline = "Stay and get \(percent)% off for \(months) month\(plural)"
            self.detail = "The discount applies to your \(subscription?.planName.map { "\($0) plan" } ?? "subscription") from your next bill."
            self.acceptLabel = "Accept \(percent)% off"
        case .contact:
            self.headline = "Talk to us before you go?"
            self.detail = "Our team may be able to sort out what isn't working for you."
            self.acceptLabel = "Contact support"
        case .redirect:
            self.headline = "Before you go, this might help"
            self.detail = "We've put together an answer to what you told us."
            self.acceptLabel = "Show me"
        case .planChange:
            self.headline = "Switch to a plan that suits you better?"
            self.detail = ""
            self.acceptLabel = "Switch plan"
        case .trialExtension:
            let days = offer.days ?? 0
            self.headline = "Take \(days) more day\(days == 1 ? "" : "s") free?"
            self.detail = "You won't be charged until they're over."
            self.acceptLabel = "Extend for free"
        }
        // The merchant's own wording, when the flow gives it.
        if let headline = offer.headline { self.headline = headline.text(for: "en") }
        if let message = offer.message { self.detail = message.text(for: "en") }
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
        brand: BrandView, outcome: FlowOutcome, subscription: Subscription?, timing: CancelTiming, returnUrl: String?, verifyUrl: String,
        offer: FlowOffer? = nil
    ) {
        self.brand = brand
        self.returnUrl = returnUrl
        switch outcome {
        case .canceled:
            self.heading = "Your subscription is cancelled"
            self.message =
                timing == .periodEnd
                ? "You keep access until the end of the period you've paid for. We're sorry to see you go."
                : "It has ended. We're sorry to see you go."
        case .paused:
            let until = subscription?.pauseResumesAt.map { " until \(Pages.day($0))" } ?? ""
            self.heading = "Your subscription is paused"
            self.message = "You won't be charged\(until)."
        case .discounted:
            self.heading = "Your discount is applied"
            self.message = "Thanks for staying with \(brand.name)."
        case .planChanged:
            self.heading = "Your plan is changed"
            self.message = "Thanks for staying with \(brand.name)."
        case .trialExtended:
            self.heading = "Your free time is extended"
            self.message = "Thanks for staying with \(brand.name)."
        case .contacted:
            self.heading = "We're here to help"
            self.message = "Nothing has changed. Tell \(brand.name) what isn't working and they'll get back to you."
            self.contactEmail = offer?.email
            self.contactUrl = offer?.url
        case .redirected:
            self.heading = "Your subscription continues"
            self.message = "Nothing has changed."
        case .kept:
            self.heading = "Your subscription continues"
            self.message = "Nothing has changed."
        case .abandoned:
            self.heading = "This session has ended"
            self.message = "Nothing has changed. To start again, open a new link from \(brand.name) or confirm your email."
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
