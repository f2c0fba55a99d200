import Foundation

/// Mints, reads and revokes Cancel Links. The API, the CLI and (later) the dashboard all mint
/// through `mint`, so every rule lives here once.
public struct CancelLinkService: Sendable {
    /// The longest a link may live (PRODUCT.md: 30 days, the dashboard's longest preset).
    public static let maximumLifetime: TimeInterval = 30 * 24 * 3600
    /// The longest identifier accepted.
    public static let maximumIdentifierLength = 255
    /// Metadata limits.
    public static let maximumMetadataPairs = 20
    static let maximumMetadataKeyLength = 40
    static let maximumMetadataValueLength = 500

    let store: any CancelflowStorage
    let time: any TimeSource
    let codec: CancelTokenCodec
    let events: any EventEncoder
    let providers: any BillingProviders
    /// Customers a provider confirmed recently: minting for the same customer again within the
    /// cache's lifetime does not call the provider (only confirmations are kept, so a customer
    /// just created at the provider can be minted for at once).
    let confirmed: ExpiringCache<Bool>
    /// The domain picker links are built with.
    public let picker: DomainPicker

    /// How long a provider's confirmation that a customer exists is trusted at mint.
    public static let customerCheckLifetime: TimeInterval = 60

    /// Creates the service.
    public init(
        store: any CancelflowStorage, time: any TimeSource, codec: CancelTokenCodec, picker: DomainPicker, events: any EventEncoder,
        providers: any BillingProviders, confirmed: ExpiringCache<Bool> = ExpiringCache(lifetime: CancelLinkService.customerCheckLifetime)
    ) {
        self.store = store
        self.time = time
        self.codec = codec
        self.picker = picker
        self.events = events
        self.providers = providers
        self.confirmed = confirmed
    }

    /// What a caller asks to mint.
    public struct MintRequest: Sendable {
        /// The billing provider's customer id (Paddle: subscription id).
        public var customerID: String
        /// The one subscription to narrow the flow to.
        public var subscriptionID: String?
        /// When the link stops working.
        public var expiresAt: Date
        /// Whether the first exchange consumes it.
        public var singleUse: Bool
        /// Where to send the customer afterwards; must be allow-listed.
        public var returnURL: String?
        /// Echoed in webhooks.
        public var metadata: [String: String]
        /// What flows target: up to 20 string pairs.
        public var attributes: [String: String] = [:]
        /// The customer's language (BCP 47, `fr` or `de-DE`).
        public var locale: String?
        /// The dashboard user generating it (nil for the API and the command line).
        public var mintedByUserID: String?

        /// Creates a request.
        public init(
            customerID: String,
            subscriptionID: String? = nil,
            expiresAt: Date,
            singleUse: Bool = true,
            returnURL: String? = nil,
            metadata: [String: String] = [:],
            attributes: [String: String] = [:],
            locale: String? = nil,
            mintedByUserID: String? = nil
        ) {
            self.customerID = customerID
            self.subscriptionID = subscriptionID
            self.expiresAt = expiresAt
            self.singleUse = singleUse
            self.returnURL = returnURL
            self.metadata = metadata
            self.attributes = attributes
            self.locale = locale
            self.mintedByUserID = mintedByUserID
        }
    }

    /// A freshly minted link: the only moment its token exists outside the customer's hands.
    public struct MintedLink: Sendable {
        /// The stored link.
        public var link: CancelLink
        /// The `cl_` token.
        public var token: String
        /// The URL to send the customer to.
        public var url: String
    }

    /// Mints a link for an organization's mode after checking every rule. `completing`, given the
    /// link before it is stored, answers an idempotency key's completion to store with it.
    public func mint(
        organization: Organization, mode: Mode, request: MintRequest,
        completing: (@Sendable (MintedLink) throws -> IdempotencyCompletion?)? = nil
    ) async throws -> MintedLink {
        let now = self.time.now()
        try Self.validateIdentifier(request.customerID, param: "customerId")
        if let subscriptionID = request.subscriptionID {
            try Self.validateIdentifier(subscriptionID, param: "subscriptionId")
        }
        guard request.expiresAt > now else {
            throw CancelflowError.unprocessable("expires_at_in_past", "expiresAt must be in the future.", param: "expiresAt")
        }
        guard request.expiresAt.timeIntervalSince(now) <= Self.maximumLifetime else {
            throw CancelflowError.unprocessable(
                "expires_at_too_far",
                "expiresAt must be at most 30 days from now.",
                param: "expiresAt"
            )
        }
        try Self.validateMetadata(request.metadata)
        try Self.validateAttributes(request.attributes)
        if let locale = request.locale, !Self.isLocale(locale) {
            throw CancelflowError.invalid("locale_invalid", "locale must be a language tag such as fr or de-DE.", param: "locale")
        }
        let returnURL = try request.returnURL.map {
            try Self.validateReturnURL($0, allowlist: organization.returnURLAllowlist, mode: mode)
        }
        try await self.checkCustomer(organization: organization, mode: mode, request: request, now: now)

        let (token, hash) = self.codec.mint()
        var link = CancelLink(
            id: Identifier.make("cs_"),
            organizationID: organization.id,
            mode: mode,
            customerID: request.customerID,
            subscriptionID: request.subscriptionID,
            singleUse: request.singleUse,
            expiresAt: Self.truncatedToMillis(request.expiresAt),
            createdAt: Self.truncatedToMillis(now),
            returnURL: returnURL,
            metadata: request.metadata,
            mintedByUserID: request.mintedByUserID
        )
        link.attributes = request.attributes
        link.locale = request.locale
        let created = self.events.outbox(.linkCreated(link), organizationID: link.organizationID, mode: mode, at: now)
        let minted = MintedLink(link: link, token: token, url: self.picker.url(for: organization, token: token))
        try await self.store.insertLink(link, tokenHash: hash, events: [created], completing: try completing?(minted))
        return minted
    }

    /// One link of an organization's mode; `link_not_found` when there is none with that id.
    public func link(organizationID: String, mode: Mode, id: String) async throws -> CancelLink {
        guard let link = try await self.store.link(organizationID: organizationID, mode: mode, id: id) else {
            throw CancelflowError.notFound("link_not_found", "No cancel session with that id.", param: "id")
        }
        return link
    }

    /// A page of links, newest first, and whether another page follows.
    public func links(
        organizationID: String, mode: Mode, customerID: String?, limit: Int, startingAfter: String?
    ) async throws
        -> (links: [CancelLink], hasMore: Bool)
    {
        // One extra row says whether another page follows.
        var links = try await self.store.links(
            organizationID: organizationID, mode: mode, customerID: customerID, limit: limit + 1, startingAfter: startingAfter
        )
        let hasMore = links.count > limit
        if hasMore { links.removeLast() }
        return (links, hasMore)
    }

    /// Whether a token carries a valid MAC: a forged or mistyped one is refused without any
    /// database work.
    public func isAuthentic(_ token: String) -> Bool {
        self.codec.isAuthentic(token)
    }

    /// The link with that token hash, or nil.
    public func link(tokenHash: String) async throws -> CancelLink? {
        try await self.store.link(tokenHash: tokenHash)
    }

    /// The link a token names, or nil. A token that fails its MAC is rejected here without any
    /// database work.
    public func resolve(token: String) async throws -> CancelLink? {
        guard self.codec.isAuthentic(token) else { return nil }
        return try await self.store.link(tokenHash: CancelTokenCodec.hash(token))
    }

    /// Revokes a link; throws `link_not_found` for an unknown id and `link_not_revocable` when it
    /// is already consumed or expired. Revoking a revoked link answers it again (idempotent).
    public func revoke(organizationID: String, mode: Mode, id: String) async throws -> CancelLink {
        let now = self.time.now()
        let encoder = self.events
        let revoked = try await self.store.revokeLink(organizationID: organizationID, mode: mode, id: id, now: now) { link in
            [encoder.outbox(.linkRevoked(link), organizationID: organizationID, mode: mode, at: now)]
        }
        guard let link = revoked else {
            throw CancelflowError.notFound("link_not_found", "No cancel session with that id.", param: "id")
        }
        switch link.status(at: now) {
        case .revoked: return link
        case .consumed, .expired, .active:
            throw CancelflowError.unprocessable(
                "link_not_revocable",
                "Only an active cancel session can be revoked; this one is \(link.status(at: now).rawValue)."
            )
        }
    }

    /// The customer (and subscription) must exist at the organization's provider. A provider
    /// that cannot be reached fails the mint (502): a link to a customer nobody could check would
    /// only fail later, in front of the customer.
    private func checkCustomer(organization: Organization, mode: Mode, request: MintRequest, now: Date) async throws {
        let provider = try await self.providers.provider(for: organization, mode: mode)
        // The built-in store is the database itself: nothing to save by caching.
        let cacheKey = "\(organization.id):\(mode.rawValue):\(request.customerID):\(request.subscriptionID ?? "")"
        if provider.kind != .builtin, self.confirmed.value(cacheKey, now: now) != nil { return }
        if let refusal = try await provider.checkMint(reference: request.customerID, subscriptionID: request.subscriptionID) {
            throw refusal
        }
        if provider.kind != .builtin { self.confirmed.store(true, cacheKey, now: now) }
    }

    /// Checks an identifier the merchant passes (customer or subscription id).
    public static func validateIdentifier(_ value: String, param: String) throws {
        if value.isEmpty {
            throw CancelflowError.invalid("parameter_empty", "\(param) must not be empty.", param: param)
        }
        if value.count > self.maximumIdentifierLength {
            throw CancelflowError.invalid("parameter_too_long", "\(param) must be at most 255 characters.", param: param)
        }
        if value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw CancelflowError.invalid("parameter_invalid", "\(param) must not contain control characters.", param: param)
        }
    }

    static func validateAttributes(_ attributes: [String: String]) throws {
        guard attributes.count <= Attributes.maximumCount else {
            throw CancelflowError.invalid("attributes_too_large", "attributes may hold at most 20 pairs.", param: "attributes")
        }
        for key in attributes.keys.sorted() {
            guard Attributes.isKey(key) else { throw CancelflowError.invalid("attributes_invalid", Attributes.keyRule, param: "attributes.\(key)") }
            guard Attributes.isValue(attributes[key] ?? "") else {
                throw CancelflowError.invalid(
                    "attributes_invalid", "attribute values are 1 to 200 characters of text.", param: "attributes.\(key)")
            }
        }
    }

    /// A BCP 47 tag of the simple kind: a language, then region or script subtags.
    public static func isLocale(_ text: String) -> Bool { Check.isLanguageTag(text) }

    static func validateMetadata(_ metadata: [String: String]) throws {
        if metadata.count > self.maximumMetadataPairs {
            throw CancelflowError.invalid("metadata_too_large", "metadata may hold at most 20 pairs.", param: "metadata")
        }
        for (key, value) in metadata {
            if key.isEmpty || key.count > self.maximumMetadataKeyLength {
                throw CancelflowError.invalid("metadata_invalid", "metadata keys must be 1 to 40 characters.", param: "metadata")
            }
            if value.count > self.maximumMetadataValueLength {
                throw CancelflowError.invalid("metadata_invalid", "metadata values must be at most 500 characters.", param: "metadata")
            }
        }
    }

    /// Parses a `returnUrl` strictly (`StrictURL`) and checks it against the allow-list; returns
    /// the re-serialised URL, the only form that is stored and linked to. Live mode requires
    /// https; test mode also allows http to a loopback host, for a merchant's local backend.
    public static func validateReturnURL(_ text: String, allowlist: [String], mode: Mode) throws -> String {
        guard let url = StrictURL.parse(text) else {
            throw CancelflowError.invalid(
                "return_url_invalid",
                "returnUrl must be an absolute https URL of printable ASCII, without user information, backslashes or spaces.",
                param: "returnUrl"
            )
        }
        guard url.scheme == "https" || (mode == .test && url.isLoopback) else {
            throw CancelflowError.invalid(
                "return_url_invalid",
                mode == .live
                    ? "returnUrl must use https in live mode."
                    : "returnUrl must use https (http is allowed only for localhost in test mode).",
                param: "returnUrl"
            )
        }
        guard allowlist.compactMap(StrictURL.AllowlistEntry.parse).contains(where: { $0.allows(url) }) else {
            throw CancelflowError.unprocessable(
                "return_url_not_allowed",
                "returnUrl's host is not on this organization's return-URL allow-list.",
                param: "returnUrl"
            )
        }
        return url.text
    }

    // Stored timestamps have millisecond precision; the value returned at mint time must be the
    // same one a later GET reads back.
    static func truncatedToMillis(_ date: Date) -> Date {
        Millis.date(Millis.from(date))
    }
}
