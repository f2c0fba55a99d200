/// The body of `PUT /v1/customers/{customerId}`.
public struct UpsertCustomerRequest: Codable, Sendable, Equatable {
    public var email: String?
    public var name: String?

    /// The keys the body may carry.
    public static let allowedKeys: Set<String> = ["email", "name"]

    /// Creates a request.
    public init(email: String? = nil, name: String? = nil) {
        self.email = email
        self.name = name
    }
}

/// The body of `PUT /v1/customers/{customerId}/subscriptions/{subscriptionId}`.
public struct UpsertSubscriptionRequest: Codable, Sendable, Equatable {
    /// `active`, `trialing`, `past_due`, `paused` or `canceled`. Required.
    public var status: String
    public var planName: String?
    /// Minor units.
    public var amount: Int?
    public var currency: String?
    /// `month` or `year`.
    public var interval: String?
    /// ISO 8601 with a zone.
    public var currentPeriodEnd: String?
    /// Your id of the plan, for flows targeting plans.
    public var planId: String?
    /// When the subscription began (ISO 8601 with a zone), for flows targeting tenure; when it
    /// was first pushed otherwise.
    public var startedAt: String?

    /// The keys the body may carry.
    public static let allowedKeys: Set<String> = [
        "status", "planName", "amount", "currency", "interval", "currentPeriodEnd", "planId", "startedAt",
    ]

    /// Creates a request.
    public init(
        status: String,
        planName: String? = nil,
        amount: Int? = nil,
        currency: String? = nil,
        interval: String? = nil,
        currentPeriodEnd: String? = nil
    ) {
        self.status = status
        self.planName = planName
        self.amount = amount
        self.currency = currency
        self.interval = interval
        self.currentPeriodEnd = currentPeriodEnd
    }
}

/// A subscription as the API shows it.
public struct SubscriptionBody: Codable, Sendable, Equatable {
    public var id: String
    public var customerId: String
    public var status: String
    public var planName: String?
    public var amount: Int?
    public var currency: String?
    public var interval: String?
    public var currentPeriodEnd: String?
    public var planId: String?
    public var startedAt: String?
    /// Set when a cancel flow cancelled it at the end of the period.
    public var cancelAtPeriodEnd: Bool = false
    public var canceledAt: String?
    public var pauseResumesAt: String?
    public var discountPercent: Int?
    public var discountEndsAt: String?
    public var livemode: Bool
    public var createdAt: String
    public var updatedAt: String

    /// Creates a value.
    public init(
        id: String,
        customerId: String,
        status: String,
        planName: String?,
        amount: Int?,
        currency: String?,
        interval: String?,
        currentPeriodEnd: String?,
        cancelAtPeriodEnd: Bool = false,
        canceledAt: String? = nil,
        pauseResumesAt: String? = nil,
        discountPercent: Int? = nil,
        discountEndsAt: String? = nil,
        livemode: Bool,
        createdAt: String,
        updatedAt: String
    ) {
        self.id = id
        self.customerId = customerId
        self.status = status
        self.planName = planName
        self.amount = amount
        self.currency = currency
        self.interval = interval
        self.currentPeriodEnd = currentPeriodEnd
        self.cancelAtPeriodEnd = cancelAtPeriodEnd
        self.canceledAt = canceledAt
        self.pauseResumesAt = pauseResumesAt
        self.discountPercent = discountPercent
        self.discountEndsAt = discountEndsAt
        self.livemode = livemode
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A customer as the API shows it, with its subscriptions.
public struct CustomerBody: Codable, Sendable, Equatable {
    public var id: String
    public var email: String?
    public var name: String?
    public var livemode: Bool
    public var createdAt: String
    public var updatedAt: String
    public var subscriptions: [SubscriptionBody]

    /// Creates a value.
    public init(
        id: String,
        email: String?,
        name: String?,
        livemode: Bool,
        createdAt: String,
        updatedAt: String,
        subscriptions: [SubscriptionBody]
    ) {
        self.id = id
        self.email = email
        self.name = name
        self.livemode = livemode
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.subscriptions = subscriptions
    }
}
