import CancelflowAPI
import CancelflowCore
import Foundation
import Hummingbird

/// `/v1/customers`: the built-in billing provider's data, pushed by the merchant.
struct CustomersController: Sendable {
    let services: AppServices

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.put(":customerId", use: self.upsertCustomer)
        group.get(":customerId", use: self.show)
        group.put(":customerId/subscriptions/:subscriptionId", use: self.upsertSubscription)
    }

    /// `PUT /v1/customers/{customerId}`.
    @Sendable func upsertCustomer(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let customerID = try context.parameters.require("customerId")
        try CancelLinkService.validateIdentifier(customerID, param: "customerId")
        let body = try await JSONBody.collect(&request, within: self.services.configuration.readTimeout)
        let input = try JSONBody.decode(UpsertCustomerRequest.self, from: body, allowedKeys: UpsertCustomerRequest.allowedKeys)
        if let email = input.email {
            guard email.count <= 254, Self.looksLikeEmail(email) else {
                throw CancelflowError.invalid("parameter_invalid", "email must be an email address.", param: "email")
            }
        }
        if let name = input.name, name.count > 200 {
            throw CancelflowError.invalid("parameter_too_long", "name must be at most 200 characters.", param: "name")
        }
        let identity = context.identity
        _ = try await self.services.store.upsertCustomer(
            organizationID: identity.organizationID,
            mode: identity.mode,
            id: customerID,
            email: input.email?.lowercased(),
            name: input.name,
            now: self.services.time.now()
        )
        return try await self.customerResponse(identity: identity, customerID: customerID)
    }

    /// `GET /v1/customers/{customerId}`.
    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let customerID = try context.parameters.require("customerId")
        try CancelLinkService.validateIdentifier(customerID, param: "customerId")
        return try await self.customerResponse(identity: context.identity, customerID: customerID)
    }

    /// `PUT /v1/customers/{customerId}/subscriptions/{subscriptionId}`.
    @Sendable func upsertSubscription(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let customerID = try context.parameters.require("customerId")
        let subscriptionID = try context.parameters.require("subscriptionId")
        try CancelLinkService.validateIdentifier(customerID, param: "customerId")
        try CancelLinkService.validateIdentifier(subscriptionID, param: "subscriptionId")
        let body = try await JSONBody.collect(&request, within: self.services.configuration.readTimeout)
        let input = try JSONBody.decode(UpsertSubscriptionRequest.self, from: body, allowedKeys: UpsertSubscriptionRequest.allowedKeys)
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
        var periodEnd: Date?
        if let text = input.currentPeriodEnd {
            guard let date = Timestamp.parse(text) else {
                throw CancelflowError.invalid(
                    "parameter_invalid",
                    "currentPeriodEnd must be an ISO 8601 timestamp with a zone.",
                    param: "currentPeriodEnd"
                )
            }
            periodEnd = date
        }
        let identity = context.identity
        let now = self.services.time.now()
        let stored = try await self.services.store.upsertSubscription(
            organizationID: identity.organizationID,
            mode: identity.mode,
            Subscription(
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
            ),
            now: now
        )
        guard let stored else {
            throw CancelflowError.notFound("customer_not_found", "No customer with that id exists in \(identity.mode.rawValue) mode.", param: "customerId")
        }
        return JSONBody.response(Self.view(stored, mode: identity.mode))
    }

    func customerResponse(identity: APIIdentity, customerID: String) async throws -> Response {
        let store = self.services.store
        guard let customer = try await store.customer(organizationID: identity.organizationID, mode: identity.mode, id: customerID) else {
            throw CancelflowError.notFound("customer_not_found", "No customer with that id exists in \(identity.mode.rawValue) mode.", param: "customerId")
        }
        let subscriptions = try await store.subscriptions(organizationID: identity.organizationID, mode: identity.mode, customerID: customerID)
        let body = CustomerBody(
            id: customer.id,
            email: customer.email,
            name: customer.name,
            livemode: identity.mode.isLive,
            createdAt: Timestamp.format(customer.createdAt),
            updatedAt: Timestamp.format(customer.updatedAt),
            subscriptions: subscriptions.map { Self.view($0, mode: identity.mode) }
        )
        return JSONBody.response(body)
    }

    static func view(_ subscription: Subscription, mode: Mode) -> SubscriptionBody {
        SubscriptionBody(
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
    }

    static func looksLikeEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !text.contains(where: { $0.isWhitespace })
    }
}
