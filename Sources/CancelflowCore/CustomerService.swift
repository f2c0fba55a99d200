import Foundation

/// Customers and subscriptions as the API shows them: read from the mode's billing provider,
/// and, for the built-in provider, pushed by the merchant. Every rule on the pushed fields lives
/// here.
public struct CustomerService: Sendable {
    let store: any BillingDataStore & OrganizationStore
    let time: any TimeSource
    let providers: any BillingProviders

    public init(store: any BillingDataStore & OrganizationStore, time: any TimeSource, providers: any BillingProviders) {
        self.store = store
        self.time = time
        self.providers = providers
    }

    func provider(organizationID: String, mode: Mode) async throws -> any BillingProvider {
        guard let organization = try await self.store.organization(id: organizationID) else {
            throw CancelflowError.notFound("organization_not_found", "No organization \(organizationID).")
        }
        return try await self.providers.provider(for: organization, mode: mode)
    }

    /// Makes one authenticated read at the mode's provider with its configured key.
    public func testConnection(organizationID: String, mode: Mode) async throws -> BillingProviderKind {
        let provider = try await self.provider(organizationID: organizationID, mode: mode)
        try await provider.checkCredentials()
        return provider.kind
    }

    /// Which provider a mode's customers live at.
    public func providerKind(organizationID: String, mode: Mode) async throws -> BillingProviderKind {
        try await self.provider(organizationID: organizationID, mode: mode).kind
    }

    /// Only the built-in provider's data is pushed: a Stripe or Paddle mode's customers live
    /// there, and a pushed copy would disagree with them.
    func requireBuiltin(organizationID: String, mode: Mode) async throws {
        let kind = try await self.provider(organizationID: organizationID, mode: mode).kind
        guard kind == .builtin else {
            throw CancelflowError(
                .conflict, code: "customers_managed_by_provider",
                message:
                    "This mode's customers and subscriptions live at \(kind.displayName) and are read from there; they cannot be pushed.")
        }
    }

    /// A customer with their subscriptions.
    public struct CustomerRecord: Sendable {
        public var customer: Customer
        public var subscriptions: [Subscription]
    }

    /// A timestamp field as the caller decoded it: absent, a date, or text that is not one.
    public enum DecodedDate: Sendable {
        case absent
        case date(Date)
        case invalid
    }

    /// A subscription as the merchant describes it.
    public struct SubscriptionInput: Sendable {
        public var status: String
        public var planName: String?
        public var amount: Int?
        public var currency: String?
        public var interval: String?
        public var currentPeriodEnd: DecodedDate
        public var planID: String?
        public var startedAt: DecodedDate = .absent

        public init(status: String, planName: String?, amount: Int?, currency: String?, interval: String?, currentPeriodEnd: DecodedDate) {
            self.status = status
            self.planName = planName
            self.amount = amount
            self.currency = currency
            self.interval = interval
            self.currentPeriodEnd = currentPeriodEnd
        }
    }

    /// Creates or updates a customer (the address is kept lower-cased).
    public func upsertCustomer(organizationID: String, mode: Mode, id: String, email: String?, name: String?) async throws -> Customer {
        try CancelLinkService.validateIdentifier(id, param: "customerId")
        try await self.requireBuiltin(organizationID: organizationID, mode: mode)
        if let email {
            guard email.count <= 254, Self.looksLikeEmail(email) else {
                throw CancelflowError.invalid("parameter_invalid", "email must be an email address.", param: "email")
            }
        }
        if let name, name.count > 200 {
            throw CancelflowError.invalid("parameter_too_long", "name must be at most 200 characters.", param: "name")
        }
        return try await self.store.upsertCustomer(
            organizationID: organizationID, mode: mode, id: id, email: email?.lowercased(), name: name, now: self.time.now()
        )
    }

    /// Creates or replaces one of a customer's subscriptions; `customer_not_found` when the
    /// customer does not exist in that mode.
    public func upsertSubscription(
        organizationID: String, mode: Mode, customerID: String, subscriptionID: String, _ input: SubscriptionInput
    ) async throws -> Subscription {
        try CancelLinkService.validateIdentifier(customerID, param: "customerId")
        try CancelLinkService.validateIdentifier(subscriptionID, param: "subscriptionId")
        guard let status = SubscriptionStatus(rawValue: input.status) else {
            throw CancelflowError.invalid(
                "parameter_invalid",
                "status must be one of active, trialing, past_due, paused, canceled.",
                param: "status"
            )
        }
        var interval: BillingInterval?
        if let text = input.interval {
            guard let value = BillingInterval(rawValue: text) else {
                throw CancelflowError.invalid("parameter_invalid", "interval must be month or year.", param: "interval")
            }
            interval = value
        }
        if let amount = input.amount, amount < 0 {
            throw CancelflowError.invalid("parameter_invalid", "amount must not be negative.", param: "amount")
        }
        if let currency = input.currency, currency.count != 3 || !currency.allSatisfy({ $0.isASCII && $0.isLetter }) {
            throw CancelflowError.invalid("parameter_invalid", "currency must be a three-letter ISO 4217 code.", param: "currency")
        }
        if let planName = input.planName, planName.count > 200 {
            throw CancelflowError.invalid("parameter_too_long", "planName must be at most 200 characters.", param: "planName")
        }
        if let planID = input.planID, planID.isEmpty || planID.count > 200 {
            throw CancelflowError.invalid("parameter_invalid", "planId must be 1 to 200 characters.", param: "planId")
        }
        var startedAt: Date?
        switch input.startedAt {
        case .absent: startedAt = nil
        case .date(let date): startedAt = date
        case .invalid:
            throw CancelflowError.invalid("parameter_invalid", "startedAt must be an ISO 8601 timestamp with a zone.", param: "startedAt")
        }
        try await self.requireBuiltin(organizationID: organizationID, mode: mode)
        var periodEnd: Date?
        switch input.currentPeriodEnd {
        case .absent: periodEnd = nil
        case .date(let date): periodEnd = date
        case .invalid:
            throw CancelflowError.invalid(
                "parameter_invalid",
                "currentPeriodEnd must be an ISO 8601 timestamp with a zone.",
                param: "currentPeriodEnd"
            )
        }
        let now = self.time.now()
        var subscription = Subscription(
            id: subscriptionID,
            customerID: customerID,
            status: status,
            planName: input.planName,
            amount: input.amount,
            currency: input.currency?.lowercased(),
            interval: interval,
            currentPeriodEnd: periodEnd,
            createdAt: now,
            updatedAt: now
        )
        subscription.planID = input.planID
        subscription.startedAt = startedAt
        let stored = try await self.store.upsertSubscription(organizationID: organizationID, mode: mode, subscription, now: now)
        guard let stored else { throw Self.customerNotFound(mode) }
        return stored
    }

    /// A customer and their subscriptions, from the mode's provider (for Paddle, a `sub_…`
    /// reference answers its customer with that one subscription); `customer_not_found` when
    /// there is none.
    public func customer(organizationID: String, mode: Mode, id: String) async throws -> CustomerRecord {
        let provider = try await self.provider(organizationID: organizationID, mode: mode)
        guard let found = try await provider.customer(reference: id) else { throw Self.customerNotFound(mode) }
        return CustomerRecord(customer: found.customer, subscriptions: found.subscriptions)
    }

    /// What a customer search found.
    public struct SearchResult: Sendable {
        /// The customers, in id order for the built-in provider.
        public var customers: [Customer]
        /// Where the next page starts (built-in provider only).
        public var nextCursor: String?
        /// Whether the mode's customers live at a provider, so only a search by address or id
        /// finds them (they are not listed).
        public var searchOnly: Bool
    }

    /// The dashboard's customer list: the built-in provider's customers a page at a time
    /// (optionally searched); for Stripe and Paddle, the customer an exact address or id names,
    /// looked up there (their APIs are the list, and copying it would go stale).
    public func search(organizationID: String, mode: Mode, query: String, limit: Int, startingAfter: String?) async throws -> SearchResult {
        let query = query.trimmingCharacters(in: .whitespaces)
        guard query.utf8.count <= CancelLinkService.maximumIdentifierLength, InputText.isAcceptable(query) else {
            throw CancelflowError.invalid("invalid_search", "Search for an email address, a customer id or a name.", param: "q")
        }
        let provider = try await self.provider(organizationID: organizationID, mode: mode)
        if provider.kind == .builtin {
            let found = try await self.store.customers(
                organizationID: organizationID, mode: mode, search: query.isEmpty ? nil : query, limit: limit + 1, startingAfter: startingAfter)
            return SearchResult(
                customers: Array(found.prefix(limit)), nextCursor: found.count > limit ? found[limit - 1].id : nil, searchOnly: false)
        }
        guard !query.isEmpty else { return SearchResult(customers: [], nextCursor: nil, searchOnly: true) }
        if Self.looksLikeEmail(query) {
            let found = try await provider.customerReference(email: query.lowercased())
            return SearchResult(customers: found.map { [$0] } ?? [], nextCursor: nil, searchOnly: true)
        }
        let found = try await provider.customer(reference: query)
        return SearchResult(customers: found.map { [$0.customer] } ?? [], nextCursor: nil, searchOnly: true)
    }

    static func customerNotFound(_ mode: Mode) -> CancelflowError {
        CancelflowError.notFound("customer_not_found", "No customer with that id exists in \(mode.rawValue) mode.", param: "customerId")
    }

    static func looksLikeEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !text.contains(where: { $0.isWhitespace })
    }
}
