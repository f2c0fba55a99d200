import CancelflowAPI
import CancelflowCore
import Foundation
import Hummingbird

/// `/v1/webhook-endpoints` and `/v1/events`.
struct WebhooksController: Sendable {
    let services: AppServices

    /// The body of `POST /v1/webhook-endpoints`.
    struct CreateEndpoint: Decodable {
        var url: String
        var events: [String]?
        var description: String?
        static let allowedKeys: Set<String> = ["url", "events", "description"]
    }

    func addRoutes(endpoints: RouterGroup<APIRequestContext>, events: RouterGroup<APIRequestContext>) {
        endpoints.post(use: self.create)
        endpoints.get(use: self.list)
        endpoints.get(":id", use: self.show)
        endpoints.delete(":id", use: self.delete)
        endpoints.post(":id/rotate-secret", use: self.rotate)
        endpoints.post(":id/test", use: self.test)
        events.get(use: self.listEvents)
        events.get(":id", use: self.showEvent)
        events.get(":id/deliveries", use: self.deliveries)
        events.post(":id/resend", use: self.resend)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let body = try await JSONBody.collect(&request, within: self.services.configuration.readTimeout)
        let input = try JSONBody.decode(CreateEndpoint.self, from: body, allowedKeys: CreateEndpoint.allowedKeys)
        let (endpoint, secret) = try await createWebhookEndpoint(
            services: self.services, organizationID: context.identity.organizationID, mode: context.identity.mode,
            url: input.url, events: input.events ?? [], description: input.description
        )
        return JSONBody.response(Self.view(endpoint, secret: secret), status: .created)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let endpoints = try await self.services.store.endpoints(organizationID: context.identity.organizationID, mode: context.identity.mode)
        return JSONBody.response(Self.Wrapper(json: .object([("object", .string("list")), ("data", .array(endpoints.map { Self.view($0).orderedJSON }))])))
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        JSONBody.response(Self.view(try await self.endpoint(context)))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard try await self.services.store.deleteEndpoint(
            organizationID: context.identity.organizationID, mode: context.identity.mode, id: id, now: self.services.time.now()
        ) else {
            throw CancelflowError.notFound("endpoint_not_found", "No webhook endpoint with that id.", param: "id")
        }
        return JSONBody.response(Self.Wrapper(json: .object([("id", .string(id)), ("deleted", .bool(true))])))
    }

    @Sendable func rotate(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let secret = try await rotateWebhookSecret(services: self.services, organizationID: context.identity.organizationID,
                                                   mode: context.identity.mode, id: id)
        return JSONBody.response(Self.view(try await self.endpoint(context), secret: secret))
    }

    @Sendable func test(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let eventID = try await pingWebhookEndpoint(services: self.services, organizationID: context.identity.organizationID,
                                                    mode: context.identity.mode, id: id)
        return JSONBody.response(Self.Wrapper(json: .object([("eventId", .string(eventID)), ("type", .string("ping"))])), status: .accepted)
    }

    @Sendable func listEvents(_ request: Request, context: APIRequestContext) async throws -> Response {
        var limit = 10
        if let text = request.uri.queryParameters["limit"] {
            guard let value = Int(String(text)), (1...100).contains(value) else {
                throw CancelflowError.invalid("parameter_invalid", "limit must be a whole number from 1 to 100.", param: "limit")
            }
            limit = value
        }
        var events = try await self.services.store.events(
            organizationID: context.identity.organizationID, mode: context.identity.mode, limit: limit + 1,
            startingAfter: request.uri.queryParameters["startingAfter"].map(String.init)
        )
        let hasMore = events.count > limit
        if hasMore { events.removeLast() }
        return JSONBody.response(Self.Wrapper(json: .object([
            ("object", .string("list")), ("data", .array(events.map { .raw($0.payload) })), ("hasMore", .bool(hasMore)),
            ("nextCursor", .optional(hasMore ? events.last?.id : nil)),
        ])))
    }

    @Sendable func showEvent(_ request: Request, context: APIRequestContext) async throws -> Response {
        JSONBody.response(Self.Wrapper(json: .raw(try await self.event(context).payload)))
    }

    @Sendable func deliveries(_ request: Request, context: APIRequestContext) async throws -> Response {
        let event = try await self.event(context)
        let records = try await self.services.store.deliveries(eventID: event.id)
        let data = records.map { record in
            OrderedJSON.object([
                ("id", .string(record.id)), ("endpointId", .string(record.endpointID)), ("status", .string(record.status)),
                ("nextAttemptAt", .optional(record.status == "pending" ? record.nextAttemptAt.map(Timestamp.format) : nil)),
                ("attempts", .array(record.attempts.map { attempt in
                    .object([
                        ("attemptedAt", .string(Timestamp.format(attempt.attemptedAt))), ("statusCode", .optional(attempt.statusCode)),
                        ("latencyMs", .int(attempt.latencyMillis)), ("response", .optional(attempt.responseExcerpt)),
                        ("error", .optional(attempt.error)),
                    ])
                })),
            ])
        }
        return JSONBody.response(Self.Wrapper(json: .object([("object", .string("list")), ("data", .array(data))])))
    }

    @Sendable func resend(_ request: Request, context: APIRequestContext) async throws -> Response {
        let event = try await self.event(context)
        _ = try await self.services.store.resend(organizationID: event.organizationID, mode: event.mode, eventID: event.id, now: self.services.time.now())
        return JSONBody.response(Self.Wrapper(json: .object([("eventId", .string(event.id)), ("resent", .bool(true))])), status: .accepted)
    }

    func endpoint(_ context: APIRequestContext) async throws -> WebhookEndpoint {
        let id = try context.parameters.require("id")
        guard let endpoint = try await self.services.store.endpoint(organizationID: context.identity.organizationID, mode: context.identity.mode, id: id) else {
            throw CancelflowError.notFound("endpoint_not_found", "No webhook endpoint with that id.", param: "id")
        }
        return endpoint
    }

    func event(_ context: APIRequestContext) async throws -> OutboxEvent {
        let id = try context.parameters.require("id")
        guard let event = try await self.services.store.event(organizationID: context.identity.organizationID, mode: context.identity.mode, id: id) else {
            throw CancelflowError.notFound("event_not_found", "No event with that id.", param: "id")
        }
        return event
    }

    /// An endpoint as the API shows it; the secret only when just created or rotated.
    static func view(_ endpoint: WebhookEndpoint, secret: String? = nil) -> Wrapper {
        var members: [(String, OrderedJSON)] = [
            ("id", .string(endpoint.id)), ("url", .string(endpoint.url)), ("events", .array(endpoint.events.map { .string($0.rawValue) })),
            ("description", .optional(endpoint.description)), ("status", .string(endpoint.disabledAt == nil ? "enabled" : "disabled")),
            ("livemode", .bool(endpoint.mode.isLive)), ("createdAt", .string(Timestamp.format(endpoint.createdAt))),
        ]
        if let secret { members.append(("secret", .string(secret))) }
        return Wrapper(json: .object(members))
    }

    /// Any ordered JSON as a response body.
    struct Wrapper: OrderedJSONRepresentable {
        let json: OrderedJSON
        var orderedJSON: OrderedJSON { self.json }
    }
}

/// Creates an endpoint after the same checks for the API and the CLI; returns it with its
/// signing secret, which is shown this once.
public func createWebhookEndpoint(
    services: AppServices, organizationID: String, mode: Mode, url: String, events: [String], description: String? = nil
) async throws -> (WebhookEndpoint, String) {
    var types: [EventType] = []
    for name in events {
        guard let type = EventType(rawValue: name), type != .ping else {
            throw CancelflowError.invalid("event_type_invalid", "Unknown event type \(name).", param: "events")
        }
        if !types.contains(type) { types.append(type) }
    }
    if let description, description.count > 500 {
        throw CancelflowError.invalid("parameter_too_long", "description must be at most 500 characters.", param: "description")
    }
    // Last, because it resolves the host.
    if let reason = await AddressPolicy.check(url: url, mode: mode.rawValue, allowPrivate: services.configuration.allowPrivateWebhooks) {
        throw CancelflowError.unprocessable("url_not_allowed", reason, param: "url")
    }
    // Stored as re-serialised from what was checked.
    let url = StrictURL.parse(url)?.text ?? url
    guard try await services.store.organization(id: organizationID) != nil else {
        throw CancelflowError.notFound("organization_not_found", "No organization \(organizationID).")
    }
    let secret = StandardWebhooks.generateSecret()
    let endpoint = WebhookEndpoint(
        id: Identifier.make("we_"), organizationID: organizationID, mode: mode, url: url, events: types, description: description,
        sealedSecret: try WebhookSecrets(secret: services.secret).seal(secret), createdAt: Millis.date(Millis.from(services.time.now()))
    )
    try await services.store.createEndpoint(endpoint)
    return (endpoint, secret)
}

/// Gives an endpoint a new signing secret (returned once); the old one keeps signing alongside
/// for 24 hours so receivers can switch without dropping deliveries.
public func rotateWebhookSecret(services: AppServices, organizationID: String, mode: Mode, id: String) async throws -> String {
    let secret = StandardWebhooks.generateSecret()
    let rotated = try await services.store.rotateEndpointSecret(
        organizationID: organizationID, mode: mode, id: id,
        sealedSecret: try WebhookSecrets(secret: services.secret).seal(secret),
        previousExpiresAt: services.time.now().addingTimeInterval(24 * 3600)
    )
    guard rotated != nil else { throw CancelflowError.notFound("endpoint_not_found", "No webhook endpoint with that id.", param: "id") }
    return secret
}

/// Queues a `ping` event for one endpoint; returns the event id.
public func pingWebhookEndpoint(services: AppServices, organizationID: String, mode: Mode, id: String) async throws -> String {
    guard try await services.store.endpoint(organizationID: organizationID, mode: mode, id: id) != nil else {
        throw CancelflowError.notFound("endpoint_not_found", "No webhook endpoint with that id.", param: "id")
    }
    let now = services.time.now()
    let event = services.events.outbox(.ping, organizationID: organizationID, mode: mode, at: now)
    try await services.store.enqueue([event], onlyEndpoint: id, now: now)
    return event.id
}
