import Foundation

/// The body of `POST /v1/cancel-sessions`, as the seed documents it plus our optional extras.
public struct CreateCancelSessionRequest: Codable, Sendable, Equatable {
    /// The billing provider's customer id (Paddle: the subscription id). Required.
    public var customerId: String
    /// ISO 8601 with a zone. Required.
    public var expiresAt: String
    /// Narrows the flow to one subscription.
    public var subscriptionId: String?
    /// Defaults to true.
    public var singleUse: Bool?
    /// Where "keep my subscription" and "done" go; must be allow-listed.
    public var returnUrl: String?
    /// Up to 20 string pairs, echoed in webhooks.
    public var metadata: [String: String]?
    /// Up to 20 string pairs that flows may target (`targeting.attributes`).
    public var attributes: [String: String]?
    /// The customer's language (BCP 47): the pages and emails use it before the browser's.
    public var locale: String?

    /// The keys the body may carry; anything else is refused so a typo is not silently ignored.
    public static let allowedKeys: Set<String> = [
        "customerId", "expiresAt", "subscriptionId", "singleUse", "returnUrl", "metadata", "attributes", "locale",
    ]

    /// Creates a request.
    public init(
        customerId: String,
        expiresAt: String,
        subscriptionId: String? = nil,
        singleUse: Bool? = nil,
        returnUrl: String? = nil,
        metadata: [String: String]? = nil,
        attributes: [String: String]? = nil,
        locale: String? = nil
    ) {
        self.customerId = customerId
        self.expiresAt = expiresAt
        self.subscriptionId = subscriptionId
        self.singleUse = singleUse
        self.returnUrl = returnUrl
        self.metadata = metadata
        self.attributes = attributes
        self.locale = locale
    }
}

/// A cancel session (Cancel Link) as the API shows it. `url` and `token` are present only in the
/// response that minted it: the token is not stored and can never be read back.
public struct CancelSession: Codable, Sendable, Equatable {
    public var url: String?
    public var token: String?
    public var expiresAt: String
    public var customerId: String
    public var subscriptionId: String?
    public var status: String
    public var id: String
    public var singleUse: Bool
    public var livemode: Bool
    public var createdAt: String
    public var consumedAt: String?
    public var revokedAt: String?
    public var returnUrl: String?
    public var metadata: [String: String]
    public var attributes: [String: String] = [:]
    public var locale: String?

    /// Creates a value.
    public init(
        url: String?,
        token: String?,
        expiresAt: String,
        customerId: String,
        subscriptionId: String?,
        status: String,
        id: String,
        singleUse: Bool,
        livemode: Bool,
        createdAt: String,
        consumedAt: String?,
        revokedAt: String?,
        returnUrl: String?,
        metadata: [String: String]
    ) {
        self.url = url
        self.token = token
        self.expiresAt = expiresAt
        self.customerId = customerId
        self.subscriptionId = subscriptionId
        self.status = status
        self.id = id
        self.singleUse = singleUse
        self.livemode = livemode
        self.createdAt = createdAt
        self.consumedAt = consumedAt
        self.revokedAt = revokedAt
        self.returnUrl = returnUrl
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey {
        case url, token, expiresAt, customerId, subscriptionId, status, id, singleUse, livemode, createdAt, consumedAt, revokedAt
        case returnUrl, metadata, attributes, locale
    }

    /// Encodes in the seed's field order; `subscriptionId` is an explicit null when absent, as
    /// the seed's response shape always carries it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(self.url, forKey: .url)
        try container.encodeIfPresent(self.token, forKey: .token)
        try container.encode(self.expiresAt, forKey: .expiresAt)
        try container.encode(self.customerId, forKey: .customerId)
        try container.encode(self.subscriptionId, forKey: .subscriptionId)
        try container.encode(self.status, forKey: .status)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.singleUse, forKey: .singleUse)
        try container.encode(self.livemode, forKey: .livemode)
        try container.encode(self.createdAt, forKey: .createdAt)
        try container.encode(self.consumedAt, forKey: .consumedAt)
        try container.encode(self.revokedAt, forKey: .revokedAt)
        try container.encode(self.returnUrl, forKey: .returnUrl)
        try container.encode(self.metadata, forKey: .metadata)
        try container.encode(self.attributes, forKey: .attributes)
        try container.encode(self.locale, forKey: .locale)
    }
}

/// A page of a list.
public struct ListPage<Item: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    /// Always `list`.
    public var object: String
    /// The items, newest first.
    public var data: [Item]
    /// Whether more items follow the last one.
    public var hasMore: Bool
    /// The id to pass as `startingAfter` for the next page, when there is one.
    public var nextCursor: String?

    /// Creates a page.
    public init(data: [Item], hasMore: Bool, nextCursor: String?) {
        self.object = "list"
        self.data = data
        self.hasMore = hasMore
        self.nextCursor = nextCursor
    }
}

/// The one error body every endpoint answers with.
public struct ErrorBody: Codable, Sendable, Equatable {
    /// The error.
    public struct Detail: Codable, Sendable, Equatable {
        /// `invalid_request_error`, `authentication_error`, `rate_limit_error`, `idempotency_error`, `api_error`.
        public var type: String
        /// A stable machine-readable code.
        public var code: String
        /// A sentence for a developer.
        public var message: String
        /// The parameter at fault.
        public var param: String?
        /// The request's id, the same as the `Request-Id` header, so an error pasted into a
        /// support ticket carries it (named as Stripe names it).
        public var requestID: String?

        enum CodingKeys: String, CodingKey {
            case type, code, message, param
            case requestID = "request_id"
        }

        /// Creates a detail.
        public init(type: String, code: String, message: String, param: String?, requestID: String? = nil) {
            self.type = type
            self.code = code
            self.message = message
            self.param = param
            self.requestID = requestID
        }
    }

    /// The error.
    public var error: Detail

    /// Creates a body.
    public init(error: Detail) {
        self.error = error
    }
}
