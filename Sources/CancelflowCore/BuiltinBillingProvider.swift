import Foundation

/// The built-in provider: customers and subscriptions the merchant pushes over `/v1/customers`.
/// Its changes are not made here but in the transaction that ends the flow session
/// (`SubscriptionChange`), so the outcome and the change are never apart.
public struct BuiltinBillingProvider: BillingProvider {
    let store: any BillingDataStore & VerificationStore
    let organizationID: String
    let mode: Mode

    public init(store: any BillingDataStore & VerificationStore, organizationID: String, mode: Mode) {
        self.store = store
        self.organizationID = organizationID
        self.mode = mode
    }

    public var kind: BillingProviderKind { .builtin }

    public func customer(reference: String) async throws -> BillingCustomer? {
        guard let customer = try await self.store.customer(organizationID: self.organizationID, mode: self.mode, id: reference) else {
            return nil
        }
        let subscriptions = try await self.store.subscriptions(organizationID: self.organizationID, mode: self.mode, customerID: reference)
        return BillingCustomer(customer: customer, subscriptions: subscriptions)
    }

    /// Nothing to reach: the data is in our own database.
    public func checkCredentials() async throws {}

    public func customerReference(email: String) async throws -> Customer? {
        try await self.store.customer(organizationID: self.organizationID, mode: self.mode, email: email)
    }

    /// Two indexed reads, without loading every subscription: this runs on every mint.
    public func checkMint(reference: String, subscriptionID: String?) async throws -> CancelflowError? {
        guard try await self.store.customer(organizationID: self.organizationID, mode: self.mode, id: reference) != nil else {
            return CustomerService.customerNotFound(self.mode)
        }
        if let subscriptionID {
            let subscription = try await self.store.subscription(organizationID: self.organizationID, mode: self.mode, id: subscriptionID)
            guard let subscription, subscription.customerID == reference else { return BillingErrors.subscriptionNotFound }
        }
        return nil
    }

    public func apply(_ request: BillingActionRequest) async throws -> BillingReceipt {
        BillingReceipt(provider: .builtin, objectID: request.subscription.id, action: request.action.name)
    }

    /// The change `apply` leaves to the flow's own transaction.
    public static func change(for action: BillingAction, now: Date) -> SubscriptionChange {
        switch action {
        case .cancelAtPeriodEnd: .cancel(timing: .periodEnd)
        case .cancelNow: .cancel(timing: .immediately)
        case .pause(_, let resumesAt): .pause(until: resumesAt)
        case .discount(let percent, let months): .discount(percent: percent, until: FlowService.adding(months: months, to: now))
        case .changePlan(let planID, let name, let amount, let currency): .changePlan(planID: planID, name: name, amount: amount, currency: currency)
        case .extendTrial(_, let until): .extendPeriod(until: until)
        }
    }
}
