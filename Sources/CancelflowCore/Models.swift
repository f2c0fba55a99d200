import Foundation

/// Where an organization's subscriptions live and where cancellations are carried out.
public enum BillingProviderKind: String, Sendable, Codable, CaseIterable {
    /// Customers and subscriptions are pushed to Cancelflow over its own API.
    case builtin
    /// Stripe Billing.
    case stripe
    /// Paddle Billing, which scopes everything by subscription rather than customer.
    case paddle
}

/// A merchant account.
public struct Organization: Sendable, Equatable {
    /// `org_…`
    public var id: String
    /// The merchant's name, shown to customers.
    public var name: String
    /// The label under the service's subdomain base, when the operator enabled subdomains.
    public var subdomain: String?
    /// The merchant's own host name for hosted pages.
    public var customDomain: String?
    /// Whether the operator confirmed the custom domain points here; links use it only then.
    public var customDomainVerified: Bool
    /// Where subscriptions live.
    public var billingProvider: BillingProviderKind
    /// The default lifetime of dashboard- and CLI-generated links (seed: "Session link expiration").
    public var sessionLinkExpiration: TimeInterval
    /// Hosts (or origins) that a link's `returnUrl` may point to.
    public var returnURLAllowlist: [String]
    /// When the organization was created.
    public var createdAt: Date

    /// The default, and the bounds, of the "Session link expiration" setting (seed: 24 hours, 1 hour to 7 days).
    public static let defaultSessionLinkExpiration: TimeInterval = 24 * 3600
    /// The shortest "Session link expiration" setting.
    public static let minimumSessionLinkExpiration: TimeInterval = 3600
    /// The longest "Session link expiration" setting.
    public static let maximumSessionLinkExpiration: TimeInterval = 7 * 24 * 3600

    /// Creates an organization value.
    public init(
        id: String,
        name: String,
        subdomain: String? = nil,
        customDomain: String? = nil,
        customDomainVerified: Bool = false,
        billingProvider: BillingProviderKind = .builtin,
        sessionLinkExpiration: TimeInterval = Organization.defaultSessionLinkExpiration,
        returnURLAllowlist: [String] = [],
        createdAt: Date
    ) {
        self.id = id
        self.name = name
        self.subdomain = subdomain
        self.customDomain = customDomain
        self.customDomainVerified = customDomainVerified
        self.billingProvider = billingProvider
        self.sessionLinkExpiration = sessionLinkExpiration
        self.returnURLAllowlist = returnURLAllowlist
        self.createdAt = createdAt
    }
}

/// A customer in the built-in billing store.
public struct Customer: Sendable, Equatable {
    /// The merchant's identifier for the customer (e.g. `cus_…`).
    public var id: String
    /// The customer's email address, used by email verification.
    public var email: String?
    /// The customer's name, shown on the hosted page.
    public var name: String?
    /// When the customer was first pushed.
    public var createdAt: Date
    /// When the customer was last pushed.
    public var updatedAt: Date

    /// Creates a customer value.
    public init(id: String, email: String?, name: String?, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.email = email
        self.name = name
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A subscription's billing state.
public enum SubscriptionStatus: String, Sendable, Codable, CaseIterable {
    case active
    case trialing
    case pastDue = "past_due"
    case paused
    case canceled

    /// Whether a customer in this state can still cancel (or be offered something instead).
    public var isCancelable: Bool {
        switch self {
        case .active, .trialing, .pastDue: true
        case .paused, .canceled: false
        }
    }
}

/// How often a subscription bills.
public enum BillingInterval: String, Sendable, Codable, CaseIterable {
    case month
    case year
}

/// A subscription in the built-in billing store.
public struct Subscription: Sendable, Equatable {
    /// The merchant's identifier (e.g. `sub_…`).
    public var id: String
    /// The customer it belongs to.
    public var customerID: String
    /// Its billing state.
    public var status: SubscriptionStatus
    /// The plan's display name.
    public var planName: String?
    /// The price in minor units (cents).
    public var amount: Int?
    /// ISO 4217 code, lower case.
    public var currency: String?
    /// Billing interval.
    public var interval: BillingInterval?
    /// End of the paid period.
    public var currentPeriodEnd: Date?
    /// Set by a cancel flow that cancels at the end of the period.
    public var cancelAtPeriodEnd: Bool = false
    /// When a cancel flow cancelled it.
    public var canceledAt: Date?
    /// When a pause taken in the cancel flow ends.
    public var pauseResumesAt: Date?
    /// A discount taken in the cancel flow, in percent.
    public var discountPercent: Int?
    /// When that discount ends.
    public var discountEndsAt: Date?
    /// The provider's id of the discount on the subscription (a Stripe coupon, a Paddle
    /// discount), when it has one.
    public var discountID: String?
    /// When that discount started (or starts).
    public var discountStartsAt: Date?
    /// How many `interval`s one billing period is (Paddle's `frequency`, Stripe's
    /// `interval_count`); 1 for the built-in provider.
    public var intervalCount: Int = 1
    /// The provider's id of its plan (a Stripe or Paddle price; the built-in provider's
    /// `planId`), for targeting and plan changes.
    public var planID: String?
    /// The provider's id of the subscription's line for that plan (a Stripe subscription
    /// item), which a plan change replaces.
    public var itemID: String?
    /// How many lines the subscription bills, and the first one's quantity (seats).
    public var itemCount = 1
    public var quantity = 1
    /// When the subscription began at the provider, for targeting by tenure; when it was first
    /// pushed counts when the provider does not say.
    public var startedAt: Date?
    /// When it was first pushed.
    public var createdAt: Date
    /// When it was last pushed.
    public var updatedAt: Date

    /// Creates a subscription value.
    public init(
        id: String,
        customerID: String,
        status: SubscriptionStatus,
        planName: String? = nil,
        amount: Int? = nil,
        currency: String? = nil,
        interval: BillingInterval? = nil,
        currentPeriodEnd: Date? = nil,
        createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.customerID = customerID
        self.status = status
        self.planName = planName
        self.amount = amount
        self.currency = currency
        self.interval = interval
        self.currentPeriodEnd = currentPeriodEnd
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The status a Cancel Link reports.
public enum LinkStatus: String, Sendable, Codable, CaseIterable {
    case active
    case consumed
    case expired
    case revoked
}

/// A Cancel Link as stored: everything but the token, which is never kept.
public struct CancelLink: Sendable, Equatable {
    /// `cs_…`
    public var id: String
    /// The organization that minted it.
    public var organizationID: String
    /// The mode of the key that minted it; it resolves only against that mode's data.
    public var mode: Mode
    /// The billing provider's customer identifier (a subscription id for Paddle).
    public var customerID: String
    /// The one subscription the flow is narrowed to, if any.
    public var subscriptionID: String?
    /// Whether the first exchange consumes the link.
    public var singleUse: Bool
    /// The stored state: `active`, `consumed` or `revoked`; `expired` is derived from time.
    public var storedStatus: LinkStatus
    /// When the link stops working.
    public var expiresAt: Date
    /// When it was minted.
    public var createdAt: Date
    /// When it was consumed, for single-use links.
    public var consumedAt: Date?
    /// When it was revoked.
    public var revokedAt: Date?
    /// Where the flow returns the customer, already checked against the allow-list.
    public var returnURL: String?
    /// The merchant's small string map, echoed in webhooks.
    public var metadata: [String: String]
    /// String pairs flows target (`attributes` at mint), shown with the link; `metadata` is
    /// never targeted.
    public var attributes: [String: String] = [:]
    /// The customer's language as the merchant knows it (BCP 47), for the pages and emails.
    public var locale: String?
    /// How many times the link has been exchanged.
    public var exchangeCount: Int
    /// The dashboard user who generated it; nil when the API or the command line minted it.
    public var mintedByUserID: String?

    /// Creates a link value.
    public init(
        id: String,
        organizationID: String,
        mode: Mode,
        customerID: String,
        subscriptionID: String?,
        singleUse: Bool,
        storedStatus: LinkStatus = .active,
        expiresAt: Date,
        createdAt: Date,
        consumedAt: Date? = nil,
        revokedAt: Date? = nil,
        returnURL: String? = nil,
        metadata: [String: String] = [:],
        exchangeCount: Int = 0,
        mintedByUserID: String? = nil
    ) {
        self.id = id
        self.organizationID = organizationID
        self.mode = mode
        self.customerID = customerID
        self.subscriptionID = subscriptionID
        self.singleUse = singleUse
        self.storedStatus = storedStatus
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.consumedAt = consumedAt
        self.revokedAt = revokedAt
        self.returnURL = returnURL
        self.metadata = metadata
        self.exchangeCount = exchangeCount
        self.mintedByUserID = mintedByUserID
    }

    /// The status at an instant: a stored `active` link past its expiry reports `expired`.
    public func status(at now: Date) -> LinkStatus {
        if self.storedStatus == .active, self.expiresAt <= now { return .expired }
        return self.storedStatus
    }
}

/// Who an API request is from, once its credentials checked out.
public struct APIIdentity: Sendable, Equatable {
    /// The organization.
    public var organizationID: String
    /// The mode of the key pair.
    public var mode: Mode
    /// The App ID presented.
    public var appID: String
    /// The stored key that matched, to rate-limit per key.
    public var keyID: String

    /// Creates an identity.
    public init(organizationID: String, mode: Mode, appID: String, keyID: String) {
        self.organizationID = organizationID
        self.mode = mode
        self.appID = appID
        self.keyID = keyID
    }
}

/// A key pair as issued: shown once, never readable again.
public struct IssuedCredentials: Sendable, Equatable, Codable {
    /// The public App ID.
    public var appId: String
    /// The secret API key.
    public var apiKey: String

    /// Creates a pair.
    public init(appId: String, apiKey: String) {
        self.appId = appId
        self.apiKey = apiKey
    }
}
