import Crypto
import Foundation

/// What a flow can offer instead of cancelling.
public enum OfferType: String, Sendable, Equatable, Codable, CaseIterable {
    /// Pause billing for some months.
    case pause
    /// A percentage off for some months.
    case discount
    /// Move to a cheaper plan the merchant lists.
    case planChange = "plan_change"
    /// More trial, or a free period, before the next charge.
    case trialExtension = "trial_extension"
    /// Talk to the merchant's support instead.
    case contact
    /// A page of the merchant's (a help article).
    case redirect

    /// The outcome a customer who accepts it ends with.
    public var outcome: FlowOutcome {
        switch self {
        case .pause: .paused
        case .discount: .discounted
        case .planChange: .planChanged
        case .trialExtension: .trialExtended
        case .contact: .contacted
        case .redirect: .redirected
        }
    }

    /// Whether accepting it changes the subscription at the billing provider.
    public var changesSubscription: Bool {
        switch self {
        case .pause, .discount, .planChange, .trialExtension: true
        case .contact, .redirect: false
        }
    }
}

/// A plan a customer may move to.
public struct PlanOption: Sendable, Equatable, Codable {
    /// The provider's id of the plan: a Stripe price (`price_…`), a Paddle price (`pri_…`), or
    /// the built-in provider's plan name.
    public var id: String
    /// What the customer reads.
    public var name: LocalizedText
    /// The price per billing period in minor units, shown next to the name.
    public var amount: Int?
    /// ISO 4217, lower case.
    public var currency: String?

    public init(id: String, name: LocalizedText, amount: Int? = nil, currency: String? = nil) {
        self.id = id
        self.name = name
        self.amount = amount
        self.currency = currency
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case id, name, amount, currency }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try c.decode(String.self, forKey: .id)
        self.name = try c.decode(LocalizedText.self, forKey: .name)
        self.amount = try c.decodeIfPresent(Int.self, forKey: .amount)
        self.currency = try c.decodeIfPresent(String.self, forKey: .currency)
    }
}

/// One offer of a flow. Which fields it needs depends on its type (see `validated`).
public struct FlowOffer: Sendable, Equatable, Codable {
    /// Named by the survey's reasons and the fallback (`discount_20`).
    public var id: String
    public var type: OfferType
    /// Discount: percent off.
    public var percent: Int?
    /// Pause and discount: for how many months.
    public var months: Int?
    /// Plan change: the plans offered, cheapest first as the merchant lists them.
    public var plans: [PlanOption]?
    /// Trial extension: how many days more.
    public var days: Int?
    /// Contact: the support address.
    public var email: String?
    /// Contact (a support page) and redirect (where to send the customer): an https URL.
    public var url: String?
    /// The offer's title; the language's standard wording when nil.
    public var headline: LocalizedText?
    /// A line under the title.
    public var message: LocalizedText?

    public init(
        id: String, type: OfferType, percent: Int? = nil, months: Int? = nil, plans: [PlanOption]? = nil, days: Int? = nil,
        email: String? = nil, url: String? = nil, headline: LocalizedText? = nil, message: LocalizedText? = nil
    ) {
        self.id = id
        self.type = type
        self.percent = percent
        self.months = months
        self.plans = plans
        self.days = days
        self.email = email
        self.url = url
        self.headline = headline
        self.message = message
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case id, type, percent, months, plans, days, email, url, headline, message }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try c.decode(String.self, forKey: .id)
        self.type = try c.decode(OfferType.self, forKey: .type)
        self.percent = try c.decodeIfPresent(Int.self, forKey: .percent)
        self.months = try c.decodeIfPresent(Int.self, forKey: .months)
        self.plans = try c.decodeIfPresent([PlanOption].self, forKey: .plans)
        self.days = try c.decodeIfPresent(Int.self, forKey: .days)
        self.email = try c.decodeIfPresent(String.self, forKey: .email)
        self.url = try c.decodeIfPresent(String.self, forKey: .url)
        self.headline = try c.decodeIfPresent(LocalizedText.self, forKey: .headline)
        self.message = try c.decodeIfPresent(LocalizedText.self, forKey: .message)
    }
}

/// Whom a flow is for. Every condition given must hold; one left out holds for everyone.
public struct FlowTargeting: Sendable, Equatable, Codable {
    /// The subscription's plan: its provider id or its name.
    public var plans: [String]?
    /// The billing interval.
    public var intervals: [BillingInterval]?
    /// Days since the subscription started, at least.
    public var minTenureDays: Int?
    /// Days since the subscription started, fewer than.
    public var maxTenureDays: Int?
    /// True for subscriptions in trial, false for paying ones.
    public var trial: Bool?
    /// Attributes passed at mint: each key must have one of the values listed.
    public var attributes: [String: [String]]?

    public init(
        plans: [String]? = nil, intervals: [BillingInterval]? = nil, minTenureDays: Int? = nil, maxTenureDays: Int? = nil, trial: Bool? = nil,
        attributes: [String: [String]]? = nil
    ) {
        self.plans = plans
        self.intervals = intervals
        self.minTenureDays = minTenureDays
        self.maxTenureDays = maxTenureDays
        self.trial = trial
        self.attributes = attributes
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case plans, intervals, minTenureDays, maxTenureDays, trial, attributes }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.plans = try c.decodeIfPresent([String].self, forKey: .plans)
        self.intervals = try c.decodeIfPresent([BillingInterval].self, forKey: .intervals)
        self.minTenureDays = try c.decodeIfPresent(Int.self, forKey: .minTenureDays)
        self.maxTenureDays = try c.decodeIfPresent(Int.self, forKey: .maxTenureDays)
        self.trial = try c.decodeIfPresent(Bool.self, forKey: .trial)
        self.attributes = try c.decodeIfPresent([String: [String]].self, forKey: .attributes)
    }

    /// Whether a customer and subscription fall in the segment. A condition on the
    /// subscription fails when there is none (an email-verified customer with several
    /// subscriptions, before choosing).
    public func matches(_ audience: FlowAudience) -> Bool {
        let subscription = audience.subscription
        if let plans {
            guard let subscription, plans.contains(where: { $0 == subscription.planID || $0 == subscription.planName }) else { return false }
        }
        if let intervals {
            guard let interval = subscription?.interval, intervals.contains(interval) else { return false }
        }
        if self.minTenureDays != nil || self.maxTenureDays != nil {
            guard let subscription else { return false }
            let days = Int(audience.now.timeIntervalSince(subscription.startedAt ?? subscription.createdAt) / 86400)
            if let minimum = self.minTenureDays, days < minimum { return false }
            if let maximum = self.maxTenureDays, days >= maximum { return false }
        }
        if let trial {
            guard let subscription, (subscription.status == .trialing) == trial else { return false }
        }
        for (key, values) in self.attributes ?? [:] {
            guard let value = audience.attributes[key], values.contains(value) else { return false }
        }
        return true
    }
}

/// What targeting looks at.
public struct FlowAudience: Sendable {
    public var subscription: Subscription?
    /// The `attributes` the link was minted with.
    public var attributes: [String: String]
    public var now: Date

    public init(subscription: Subscription?, attributes: [String: String], now: Date) {
        self.subscription = subscription
        self.attributes = attributes
        self.now = now
    }
}

/// Sticky variant assignment: a keyed hash of the flow and the customer picks the variant, so
/// the same customer sees the same variant on every instance and every visit, without any
/// stored state, and nobody without the key can predict or steer it.
public struct VariantAssigner: Sendable {
    let key: SymmetricKey

    public init(key: SymmetricKey) { self.key = key }

    /// The variant's key, or nil when the flow tests nothing.
    public func variant(of flow: FlowDocument, flowID: String, organizationID: String, customerID: String) -> String? {
        guard !flow.variants.isEmpty else { return nil }
        let bucket = self.bucket(flowID: flowID, organizationID: organizationID, customerID: customerID)
        var ceiling = 0
        for variant in flow.variants {
            ceiling += variant.weight * 100
            if bucket < ceiling { return variant.key }
        }
        return flow.variants.last?.key
    }

    /// 0 ..< 10,000, uniformly: 64 bits of the HMAC reduced modulo 10,000 (the bias, at most
    /// 10,000 / 2^64, is far below anything a test could see).
    func bucket(flowID: String, organizationID: String, customerID: String) -> Int {
        let message = Array("\(organizationID)\u{0}\(flowID)\u{0}\(customerID)".utf8)
        let tag = Array(HMAC<SHA256>.authenticationCode(for: message, using: self.key))
        let value = tag.prefix(8).reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
        return Int(value % 10_000)
    }
}

extension FlowOffer {
    /// The plan a plan-change offer moves this subscription to: the first the merchant listed
    /// that is not the customer's own (by id, or by name for built-in plans without one) and,
    /// when both prices are known, costs less: the offer is a cheaper plan, not an upgrade.
    public func plan(for subscription: Subscription) -> PlanOption? {
        (self.plans ?? []).first { option in
            guard option.id != subscription.planID, !(subscription.planID == nil && option.id == subscription.planName) else { return false }
            if let price = option.amount, let current = subscription.amount { return price < current }
            return true
        }
    }
}
