import Foundation

/// What the customer is offered instead of cancelling.
public enum RetentionOffer: Sendable, Equatable {
    /// No offer: straight from the survey to the confirmation.
    case none
    /// Pause billing for some months (never offered on yearly plans).
    case pause(months: Int)
    /// A percentage off for some months.
    case discount(percent: Int, months: Int)

    /// Parses `none`, `pause:N` or `discount:P:M`.
    public init?(text: String) {
        let parts = text.lowercased().split(separator: ":").map(String.init)
        switch parts.first {
        case "none" where parts.count == 1:
            self = .none
        case "pause" where parts.count == 2:
            guard let months = Int(parts[1]), (1...12).contains(months) else { return nil }
            self = .pause(months: months)
        case "discount" where parts.count == 3:
            guard let percent = Int(parts[1]), (1...100).contains(percent), let months = Int(parts[2]), (1...36).contains(months) else {
                return nil
            }
            self = .discount(percent: percent, months: months)
        default:
            return nil
        }
    }

    /// The text form `init(text:)` reads.
    public var text: String {
        switch self {
        case .none: "none"
        case .pause(let months): "pause:\(months)"
        case .discount(let percent, let months): "discount:\(percent):\(months)"
        }
    }

    /// Whether the offer can be made on a subscription: pausing a yearly plan makes no sense.
    public func applies(to subscription: Subscription) -> Bool {
        switch self {
        case .none: false
        case .pause: subscription.interval != .year
        case .discount: true
        }
    }
}

/// When a confirmed cancellation takes effect.
public enum CancelTiming: String, Sendable, Equatable, Codable, CaseIterable {
    /// The customer keeps what they paid for until the period ends.
    case periodEnd = "period_end"
    /// At once.
    case immediately
}

/// An organization's cancel-flow settings; every organization has them, with defaults until the
/// merchant changes them.
public struct FlowSettings: Sendable, Equatable {
    /// Answers offered in the "why are you leaving" survey.
    public var surveyReasons: [String]
    /// The retention offer.
    public var offer: RetentionOffer
    /// When a cancellation takes effect.
    public var cancelTiming: CancelTiming
    /// The brand colour, `#rrggbb`.
    public var brandColor: String
    /// An https URL of the merchant's logo.
    public var logoURL: String?
    /// The language of a customer whose link and browser name none we speak (`en` when nil).
    public var defaultLocale: String?
    /// Every flow of the organization is click-to-cancel, whatever its document says.
    public var clickToCancel = false
    /// The organization's own wording, by language and phrase key (`Catalogue`); a flow's
    /// `texts` override these in turn.
    public var texts: [String: [String: String]] = [:]

    /// The reasons a new organization starts with.
    public static let defaultReasons = [
        "It's too expensive",
        "I'm not using it enough",
        "It's missing features I need",
        "I'm switching to another product",
        "Technical problems",
        "Something else",
    ]

    /// The settings of an organization that has not changed any.
    public static let defaults = FlowSettings(
        surveyReasons: defaultReasons,
        offer: .discount(percent: 20, months: 3),
        cancelTiming: .periodEnd,
        brandColor: "#4f46e5",
        logoURL: nil
    )

    /// Creates settings.
    public init(surveyReasons: [String], offer: RetentionOffer, cancelTiming: CancelTiming, brandColor: String, logoURL: String?) {
        self.surveyReasons = surveyReasons
        self.offer = offer
        self.cancelTiming = cancelTiming
        self.brandColor = brandColor
        self.logoURL = logoURL
    }

    /// Checks the settings a merchant or operator sets.
    public func validated() throws -> FlowSettings {
        let reasons = self.surveyReasons.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        guard (1...12).contains(reasons.count), reasons.allSatisfy({ $0.count <= 120 && InputText.isAcceptable($0) }),
            Set(reasons).count == reasons.count
        else {
            throw CancelflowError.invalid(
                "survey_reasons_invalid", "Give 1 to 12 distinct survey reasons of at most 120 characters.", param: "surveyReasons"
            )
        }
        if let locale = self.defaultLocale, PageLocale.supported(locale) == nil {
            throw CancelflowError.invalid(
                "default_locale_invalid", "The default language must be one of \(Catalogue.languages.joined(separator: ", ")).",
                param: "defaultLocale")
        }
        let texts = try Check.texts(self.texts, "texts", phraseKeys: Catalogue.keys)
        let color = self.brandColor.lowercased()
        guard color.count == 7, color.first == "#", color.dropFirst().allSatisfy({ $0.isHexDigit }) else {
            throw CancelflowError.invalid("brand_color_invalid", "The brand colour must look like #4f46e5.", param: "brandColor")
        }
        var logo: String?
        if let text = self.logoURL {
            // Parsed as strictly as return URLs, and kept re-serialised: the pages and emails
            // link to it.
            guard let url = StrictURL.parse(text), url.scheme == "https" else {
                throw CancelflowError.invalid("logo_url_invalid", "The logo URL must be an https URL.", param: "logoUrl")
            }
            logo = url.text
        }
        var copy = self
        copy.logoURL = logo
        copy.surveyReasons = reasons
        copy.brandColor = color
        copy.texts = texts
        copy.defaultLocale = self.defaultLocale.flatMap(PageLocale.supported)?.tag
        return copy
    }
}

/// How a cancel flow ended.
public enum FlowOutcome: String, Sendable, Equatable, CaseIterable {
    /// The subscription was cancelled.
    case canceled
    /// The customer took the pause offer.
    case paused
    /// The customer took the discount offer.
    case discounted
    /// The customer moved to another plan offered.
    case planChanged = "plan_changed"
    /// The customer took more trial, or a free period.
    case trialExtended = "trial_extended"
    /// The customer chose to contact the merchant's support instead.
    case contacted
    /// The customer followed the merchant's link (a help article) instead.
    case redirected
    /// The customer chose to keep the subscription.
    case kept
    /// The session ran out before a decision.
    case abandoned

    /// Whether the customer stayed: every outcome but a cancellation or running out.
    public var isSave: Bool { self != .canceled && self != .abandoned }

    /// Whether it is the customer taking an offer.
    public var acceptedOffer: Bool { self.isSave && self != .kept }
}

/// How the customer reached the flow.
public enum FlowEntry: String, Sendable, Equatable {
    /// A Cancel Link.
    case link
    /// Email verification.
    case email
}

/// One customer's pass through the cancel flow, from the exchange (or email verification) to an
/// outcome. The browser holds a random session key; only its hash is stored.
/// Which flow a session runs.
public struct FlowRun: Sendable, Equatable {
    public var flowID: String
    public var version: Int
    /// The variant under test, when the flow tests one.
    public var variant: String?

    public init(flowID: String, version: Int, variant: String?) {
        self.flowID = flowID
        self.version = version
        self.variant = variant
    }
}

public struct FlowSession: Sendable, Equatable {
    /// `fs_…`
    public var id: String
    /// The link it was opened with, for link entries.
    public var linkID: String?
    /// The organization.
    public var organizationID: String
    /// The mode.
    public var mode: Mode
    /// The customer.
    public var customerID: String
    /// The subscription in play: the link's, or the one the customer chose.
    public var subscriptionID: String?
    /// The survey answer.
    public var surveyReason: String?
    /// The survey's free text.
    public var surveyComment: String?
    /// Whether the offer was turned down.
    public var offerDeclined: Bool
    /// How it ended, once it has.
    public var outcome: FlowOutcome?
    /// When it ended.
    public var outcomeAt: Date?
    /// How the customer got here.
    public var entry: FlowEntry
    /// Where to send the customer at the end (the link's allow-listed returnUrl).
    public var returnURL: String?
    /// When it started.
    public var createdAt: Date
    /// When it is abandoned if still undecided.
    public var expiresAt: Date
    /// The flow, version and variant the session runs, fixed the first time its survey is
    /// needed: a flow published meanwhile does not change a session under way.
    public var run: FlowRun?
    /// The survey answer's id in that flow (`surveyReason` is its text).
    public var reasonID: String?
    /// The offer the session ended with, when it took one.
    public var offerID: String?
    /// The language the customer reads, as a tag we have phrases for (`fr`, `de-DE`): the
    /// link's `locale`, else the browser's `Accept-Language` when the session began; nil when
    /// neither named a language we speak (the organization's default then applies).
    public var locale: String?

    /// Creates a session value.
    public init(
        id: String,
        linkID: String?,
        organizationID: String,
        mode: Mode,
        customerID: String,
        subscriptionID: String?,
        surveyReason: String? = nil,
        surveyComment: String? = nil,
        offerDeclined: Bool = false,
        outcome: FlowOutcome? = nil,
        outcomeAt: Date? = nil,
        entry: FlowEntry,
        returnURL: String?,
        createdAt: Date,
        expiresAt: Date,
        run: FlowRun? = nil,
        reasonID: String? = nil,
        offerID: String? = nil,
        locale: String? = nil
    ) {
        self.id = id
        self.linkID = linkID
        self.organizationID = organizationID
        self.mode = mode
        self.customerID = customerID
        self.subscriptionID = subscriptionID
        self.surveyReason = surveyReason
        self.surveyComment = surveyComment
        self.offerDeclined = offerDeclined
        self.outcome = outcome
        self.outcomeAt = outcomeAt
        self.entry = entry
        self.returnURL = returnURL
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.run = run
        self.reasonID = reasonID
        self.offerID = offerID
        self.locale = locale
    }

    /// Whether the session can still move forward.
    public func isOpen(at now: Date) -> Bool {
        self.outcome == nil && now < self.expiresAt
    }
}

/// A change the flow makes to a built-in subscription.
public enum SubscriptionChange: Sendable, Equatable {
    /// Cancel, now or at the end of the period.
    case cancel(timing: CancelTiming)
    /// Pause until a date.
    case pause(until: Date)
    /// A discount until a date.
    case discount(percent: Int, until: Date)
    /// Another plan (its price, when the offer gave one).
    case changePlan(planID: String, name: String, amount: Int?, currency: String?)
    /// The current period (or trial) ends later: free time.
    case extendPeriod(until: Date)
}

/// Flow sessions, link exchanges and flow settings.
public protocol FlowStore: Sendable {
    /// The organization's flow settings (defaults when never set).
    func flowSettings(organizationID: String) async throws -> FlowSettings
    /// Replaces the organization's flow settings.
    func setFlowSettings(organizationID: String, _ settings: FlowSettings, now: Date) async throws
    /// Exchanges a link in one transaction: a conditional update that succeeds only while the
    /// link is active and unexpired (consuming it when single-use), the new flow session, and a
    /// record of the exchange. Nil when the link could not be exchanged; of concurrent exchanges
    /// of a single-use link exactly one succeeds.
    func exchangeLink(
        tokenHash: String, now: Date, sessionHash: String, sessionID: String, sessionExpiresAt: Date, locale: String?,
        events: @escaping @Sendable (CancelLink) -> [OutboxEvent]
    ) async throws -> (CancelLink, FlowSession)?
    /// The session a browser's key hash names.
    func flowSession(sessionHash: String) async throws -> FlowSession?
    /// Records progress on an open session (subscription choice, survey, offer declined).
    func updateFlowSession(_ session: FlowSession) async throws
    /// Fixes the flow a session runs, unless one already is; returns the session as stored.
    func pinFlowRun(sessionID: String, _ run: FlowRun) async throws -> FlowSession?
    /// When the customer last accepted offers, by outcome, since a date (for cooldowns).
    func acceptedOffers(organizationID: String, mode: Mode, customerID: String, since: Date) async throws -> [FlowOutcome: Date]
    /// Ends an open session with an outcome and applies the built-in subscription change, in one
    /// transaction; false when the session had already ended. With `providerActed` the session's
    /// provider action is marked done in the same transaction, and the session ends even if it
    /// expired meanwhile (the provider has acted; the record must say so).
    /// A `confirmation` is written in the same transaction, to be sent afterwards.
    func completeFlowSession(
        id: String, outcome: FlowOutcome, now: Date, change: SubscriptionChange?, providerActed: Bool, confirmation: FlowConfirmation?,
        events: @escaping @Sendable (FlowSession, _ linkMetadata: [String: String]) -> [OutboxEvent]
    ) async throws -> Bool
    /// Marks undecided sessions past their expiry `abandoned`, with their events; returns how many.
    /// A session whose provider action is unsettled (pending or unknown) is left open until it
    /// expired before `settleBefore`.
    func abandonExpiredFlowSessions(
        now: Date, settleBefore: Date, events: @escaping @Sendable (FlowSession, _ linkMetadata: [String: String]) -> [OutboxEvent]
    ) async throws
        -> Int
}
