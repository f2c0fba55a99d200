import CancelflowAPI
import CancelflowCore
import Foundation
import Hummingbird

/// `/v1/customers`: a customer and their subscriptions as the mode's billing provider has them;
/// for the built-in provider, pushed by the merchant here.
struct CustomersController: Sendable {
    let customers: CustomerService
    /// How long a client has to send a request body.
    let readTimeout: Duration

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.put(":customerId", use: self.upsertCustomer)
        group.get(":customerId", use: self.show)
        group.put(":customerId/subscriptions/:subscriptionId", use: self.upsertSubscription)
    }

    /// `PUT /v1/customers/{customerId}`.
    @Sendable func upsertCustomer(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let customerID = try context.pathParameter("customerId")
        // Before reading the body: a bad path is the first thing a caller hears about.
        try CancelLinkService.validateIdentifier(customerID, param: "customerId")
        let body = try await JSONBody.collect(&request, within: self.readTimeout)
        let input = try JSONBody.decode(UpsertCustomerRequest.self, from: body, allowedKeys: UpsertCustomerRequest.allowedKeys)
        let identity = context.identity
        _ = try await self.customers.upsertCustomer(
            organizationID: identity.organizationID, mode: identity.mode, id: customerID, email: input.email, name: input.name
        )
        return try await self.customerResponse(identity: identity, customerID: customerID)
    }

    /// `GET /v1/customers/{customerId}`.
    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let customerID = try context.pathParameter("customerId")
        try CancelLinkService.validateIdentifier(customerID, param: "customerId")
        return try await self.customerResponse(identity: context.identity, customerID: customerID)
    }

    /// `PUT /v1/customers/{customerId}/subscriptions/{subscriptionId}`.
    @Sendable func upsertSubscription(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let customerID = try context.pathParameter("customerId")
        let subscriptionID = try context.pathParameter("subscriptionId")
        try CancelLinkService.validateIdentifier(customerID, param: "customerId")
        try CancelLinkService.validateIdentifier(subscriptionID, param: "subscriptionId")
        let body = try await JSONBody.collect(&request, within: self.readTimeout)
        let input = try JSONBody.decode(UpsertSubscriptionRequest.self, from: body, allowedKeys: UpsertSubscriptionRequest.allowedKeys)
        let periodEnd: CustomerService.DecodedDate =
            switch input.currentPeriodEnd {
            case nil: .absent
            case let text?: Timestamp.parse(text).map { .date($0) } ?? .invalid
            }
        let startedAt: CustomerService.DecodedDate =
            switch input.startedAt {
            case nil: .absent
            case let text?: Timestamp.parse(text).map { .date($0) } ?? .invalid
            }
        let identity = context.identity
        var fields = CustomerService.SubscriptionInput(
            status: input.status, planName: input.planName, amount: input.amount, currency: input.currency, interval: input.interval,
            currentPeriodEnd: periodEnd)
        fields.planID = input.planId
        fields.startedAt = startedAt
        let stored = try await self.customers.upsertSubscription(
            organizationID: identity.organizationID,
            mode: identity.mode,
            customerID: customerID,
            subscriptionID: subscriptionID,
            fields
        )
        return JSONBody.response(Self.view(stored, mode: identity.mode))
    }

    func customerResponse(identity: APIIdentity, customerID: String) async throws -> Response {
        let record = try await self.customers.customer(organizationID: identity.organizationID, mode: identity.mode, id: customerID)
        let customer = record.customer
        let body = CustomerBody(
            id: customer.id,
            email: customer.email,
            name: customer.name,
            livemode: identity.mode.isLive,
            createdAt: Timestamp.format(customer.createdAt),
            updatedAt: Timestamp.format(customer.updatedAt),
            subscriptions: record.subscriptions.map { Self.view($0, mode: identity.mode) }
        )
        return JSONBody.response(body)
    }

    static func view(_ subscription: Subscription, mode: Mode) -> SubscriptionBody {
        var body = SubscriptionBody(
            id: subscription.id,
            customerId: subscription.customerID,
            status: subscription.status.rawValue,
            planName: subscription.planName,
            amount: subscription.amount,
            currency: subscription.currency,
            interval: subscription.interval?.rawValue,
            currentPeriodEnd: subscription.currentPeriodEnd.map(Timestamp.format),
            cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
            canceledAt: subscription.canceledAt.map(Timestamp.format),
            pauseResumesAt: subscription.pauseResumesAt.map(Timestamp.format),
            discountPercent: subscription.discountPercent,
            discountEndsAt: subscription.discountEndsAt.map(Timestamp.format),
            livemode: mode.isLive,
            createdAt: Timestamp.format(subscription.createdAt),
            updatedAt: Timestamp.format(subscription.updatedAt)
        )
        body.planId = subscription.planID
        body.startedAt = subscription.startedAt.map(Timestamp.format)
        return body
    }
}
