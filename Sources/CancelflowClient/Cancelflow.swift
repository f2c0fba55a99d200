import AsyncHTTPClient
import Foundation
import HTTPTypes
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

/// A Cancel Link (the API calls it a cancel session). `url` and `token` are set only on the
/// value that `createCancelLink` returns: treat them like a password-reset link.
public typealias CancelLink = Components.Schemas.CancelSession
/// A built-in billing customer, with their subscriptions.
public typealias Customer = Components.Schemas.Customer
/// A built-in billing subscription.
public typealias Subscription = Components.Schemas.Subscription
/// `active`, `trialing`, `pastDue`, `paused` or `canceled`.
public typealias SubscriptionStatus = Components.Schemas.SubscriptionStatus
/// A webhook endpoint. `secret` is set only when it was created or rotated.
public typealias WebhookEndpoint = Components.Schemas.WebhookEndpoint
/// An event as it was delivered to webhook endpoints.
public typealias Event = Components.Schemas.Event
/// An event type, `cancel_link.created` and so on.
public typealias EventType = Components.Schemas.EventType
/// An event's delivery to one endpoint, with its attempts.
public typealias Delivery = Components.Schemas.Delivery
/// `cancel_flow.completed` as delivered: the outcome, the survey, what the billing provider did.
public typealias CancelFlowCompletedEvent = Components.Schemas.CancelFlowCompletedEvent
/// `cancel_link.created`, `.exchanged`, `.consumed` or `.revoked` as delivered.
public typealias CancelLinkEvent = Components.Schemas.CancelSessionEvent

/// Cancelflow's API, for a merchant's backend.
///
/// ```swift
/// let cancelflow = Cancelflow(baseURL: URL(string: "https://cancel.example.com")!, appID: appID, apiKey: apiKey)
/// let link = try await cancelflow.createCancelLink(customerId: "cus_abc123", expiresIn: .seconds(3600))
/// // Redirect the customer to link.url (302).
/// ```
///
/// Every failure the API reports is thrown as ``CancelflowAPIError``, with the API's `code`. The
/// methods here cover the whole API in the shape most code wants; ``generated`` is the client
/// generated from the OpenAPI document, for anything finer (response headers, for one).
public struct Cancelflow: Sendable {
    /// The client generated from openapi.yaml, with the credentials already attached.
    public let generated: Client

    /// `baseURL` is the instance's public URL (without `/v1`); `appID` and `apiKey` are one
    /// mode's credentials (`app_test_…` with `ck_test_…`, or the live pair). Keep the key on
    /// your server. `timeout` bounds each try; `retries` is how many more tries a request gets
    /// after a dropped connection, 429, 502, 503 or 504, when repeating it cannot act twice.
    public init(
        baseURL: URL, appID: String, apiKey: String, httpClient: HTTPClient = .shared, timeout: Duration = .seconds(30),
        retries: Int = 2
    ) {
        let transport = AsyncHTTPClientTransport(configuration: .init(client: httpClient, timeout: .init(timeout)))
        self.generated = Client(
            serverURL: baseURL,
            configuration: .init(dateTranscoder: CancelflowDates()),
            transport: transport,
            middlewares: [Credentials(appID: appID, apiKey: apiKey), Retries(limit: retries)]
        )
    }

    // MARK: Cancel Links

    /// Mints a Cancel Link for a customer, valid for `expiresIn` from now (at most 30 days).
    ///
    /// The SDK's own retries (see `init`) resend the identical request under one idempotency key,
    /// generated when none is given, so a dropped connection never mints twice. To retry across
    /// calls yourself, use the `expiresAt:` form with the same date and the same key: a
    /// different `expiresAt` is a different request, which the server refuses under a used key.
    public func createCancelLink(
        customerId: String,
        subscriptionId: String? = nil,
        expiresIn: Duration,
        singleUse: Bool = true,
        returnUrl: String? = nil,
        metadata: [String: String] = [:],
        attributes: [String: String] = [:],
        locale: String? = nil,
        idempotencyKey: String? = nil
    ) async throws -> CancelLink {
        let seconds = Double(expiresIn.components.seconds) + Double(expiresIn.components.attoseconds) / 1e18
        return try await self.createCancelLink(
            customerId: customerId, subscriptionId: subscriptionId, expiresAt: Date().addingTimeInterval(seconds), singleUse: singleUse,
            returnUrl: returnUrl, metadata: metadata, attributes: attributes, locale: locale, idempotencyKey: idempotencyKey)
    }

    /// Mints a Cancel Link that stops working at `expiresAt` (sent in whole seconds).
    /// `attributes` are what flows target; `locale` the customer's language (BCP 47).
    public func createCancelLink(
        customerId: String,
        subscriptionId: String? = nil,
        expiresAt: Date,
        singleUse: Bool = true,
        returnUrl: String? = nil,
        metadata: [String: String] = [:],
        attributes: [String: String] = [:],
        locale: String? = nil,
        idempotencyKey: String? = nil
    ) async throws -> CancelLink {
        let body = Components.Schemas.CreateCancelSessionRequest(
            customerId: customerId,
            expiresAt: expiresAt,
            subscriptionId: subscriptionId,
            singleUse: singleUse,
            returnUrl: returnUrl,
            metadata: metadata.isEmpty ? nil : .init(additionalProperties: metadata),
            attributes: attributes.isEmpty ? nil : .init(additionalProperties: attributes),
            locale: locale
        )
        let key = idempotencyKey ?? Self.newIdempotencyKey()
        let input = Operations.CreateCancelSession.Input(headers: .init(idempotencyKey: key), body: .json(body))
        let output = try await call { try await self.generated.createCancelSession(input) }
        switch output {
        case .created(let created): return try created.body.json
        case .default(let status, let error): throw CancelflowAPIError(status: status, error)
        }
    }

    /// A Cancel Link by id (never its url or token).
    public func cancelLink(id: String) async throws -> CancelLink {
        switch try await call({ try await self.generated.getCancelSession(.init(path: .init(id: id))) }) {
        case .ok(let ok): return try ok.body.json
        case .default(let status, let error): throw CancelflowAPIError(status: status, error)
        }
    }

    /// Every Cancel Link, newest first, or one customer's; pages of `pageSize` are fetched as the
    /// sequence is iterated.
    public func cancelLinks(customerId: String? = nil, pageSize: Int = 100) -> Paginated<CancelLink> {
        let client = self.generated
        return Paginated { cursor in
            let query = Operations.ListCancelSessions.Input.Query(customerId: customerId, limit: pageSize, startingAfter: cursor)
            switch try await call({ try await client.listCancelSessions(.init(query: query)) }) {
            case .ok(let ok):
                let page = try ok.body.json
                return (page.data, page.hasMore ? page.nextCursor : nil)
            case .default(let status, let error): throw CancelflowAPIError(status: status, error)
            }
        }
    }

    /// Revokes a Cancel Link: it stops working at once. Revoking it again changes nothing; a
    /// consumed or expired link throws `link_not_revocable`.
    public func revokeCancelLink(id: String, idempotencyKey: String? = nil) async throws -> CancelLink {
        let key = idempotencyKey ?? Self.newIdempotencyKey()
        let input = Operations.RevokeCancelSession.Input(path: .init(id: id), headers: .init(idempotencyKey: key))
        switch try await call({ try await self.generated.revokeCancelSession(input) }) {
        case .ok(let ok): return try ok.body.json
        case .default(let status, let error): throw CancelflowAPIError(status: status, error)
        }
    }

    /// A fresh key for one logical request, shared by its retries.
    static func newIdempotencyKey() -> String {
        "sdk-" + UUID().uuidString.lowercased()
    }

    // MARK: Customers (the built-in billing provider)

    /// Creates or replaces a built-in customer. A mode connected to Stripe or Paddle throws
    /// `customers_managed_by_provider`: its customers live there.
    public func upsertCustomer(id: String, email: String? = nil, name: String? = nil) async throws -> Customer {
        let input = Operations.UpsertCustomer.Input(path: .init(customerId: id), body: .json(.init(email: email, name: name)))
        switch try await call({ try await self.generated.upsertCustomer(input) }) {
        case .ok(let ok): return try ok.body.json
        case .default(let status, let error): throw CancelflowAPIError(status: status, error)
        }
    }

    /// A customer and their subscriptions (from Stripe or Paddle, in a mode connected to one).
    public func customer(id: String) async throws -> Customer {
        switch try await call({ try await self.generated.getCustomer(.init(path: .init(customerId: id))) }) {
        case .ok(let ok): return try ok.body.json
        case .default(let status, let error): throw CancelflowAPIError(status: status, error)
        }
    }

    /// Creates or replaces one of a built-in customer's subscriptions. `amount` is in minor
    /// units; `interval` is `month` or `year`.
    public func upsertSubscription(
        customerId: String,
        id: String,
        status: SubscriptionStatus,
        planName: String? = nil,
        amount: Int? = nil,
        currency: String? = nil,
        interval: Components.Schemas.UpsertSubscriptionRequest.IntervalPayload? = nil,
        currentPeriodEnd: Date? = nil
    ) async throws -> Subscription {
        let body = Components.Schemas.UpsertSubscriptionRequest(
            status: status, planName: planName, amount: amount, currency: currency, interval: interval, currentPeriodEnd: currentPeriodEnd
        )
        let input = Operations.UpsertSubscription.Input(path: .init(customerId: customerId, subscriptionId: id), body: .json(body))
        switch try await call({ try await self.generated.upsertSubscription(input) }) {
        case .ok(let ok): return try ok.body.json
        case .default(let status, let error): throw CancelflowAPIError(status: status, error)
        }
    }
}

/// Sends the two credential headers on every request. (The generator leaves security schemes
/// to the caller.)
struct Credentials: ClientMiddleware {
    let appID: String
    let apiKey: String

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[HTTPField.Name("x-ck-app")!] = self.appID
        request.headerFields[HTTPField.Name("x-ck-api-key")!] = self.apiKey
        return try await next(request, body, baseURL)
    }
}
