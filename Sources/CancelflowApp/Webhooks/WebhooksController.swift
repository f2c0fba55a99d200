import CancelflowAPI
import CancelflowCore
import Foundation
import Hummingbird

/// `/v1/webhook-endpoints` and `/v1/events`.
struct WebhooksController: Sendable {
    let webhooks: WebhookService
    /// How long a client has to send a request body.
    let readTimeout: Duration

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
        let body = try await JSONBody.collect(&request, within: self.readTimeout)
        let input = try JSONBody.decode(CreateEndpoint.self, from: body, allowedKeys: CreateEndpoint.allowedKeys)
        let (endpoint, secret) = try await self.webhooks.createEndpoint(
            organizationID: context.identity.organizationID, mode: context.identity.mode,
            url: input.url, events: input.events ?? [], description: input.description
        )
        return JSONBody.response(Self.view(endpoint, secret: secret), status: .created)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let endpoints = try await self.webhooks.endpoints(organizationID: context.identity.organizationID, mode: context.identity.mode)
        return JSONBody.response(
            Self.Wrapper(json: .object([("object", .string("list")), ("data", .array(endpoints.map { Self.view($0).orderedJSON }))])))
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        JSONBody.response(Self.view(try await self.endpoint(context)))
    }

    @Sendable func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.pathParameter("id")
        try await self.webhooks.deleteEndpoint(organizationID: context.identity.organizationID, mode: context.identity.mode, id: id)
        return JSONBody.response(Self.Wrapper(json: .object([("id", .string(id)), ("deleted", .bool(true))])))
    }

    @Sendable func rotate(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.pathParameter("id")
        let secret = try await self.webhooks.rotateSecret(organizationID: context.identity.organizationID, mode: context.identity.mode, id: id)
        return JSONBody.response(Self.view(try await self.endpoint(context), secret: secret))
    }

    @Sendable func test(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.pathParameter("id")
        let eventID = try await self.webhooks.ping(organizationID: context.identity.organizationID, mode: context.identity.mode, id: id)
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
        var events = try await self.webhooks.events(
            organizationID: context.identity.organizationID, mode: context.identity.mode, limit: limit + 1,
            startingAfter: request.uri.queryParameters["startingAfter"].map(String.init)
        )
        let hasMore = events.count > limit
        if hasMore { events.removeLast() }
        return JSONBody.response(
            Self.Wrapper(
                json: .object([
                    ("object", .string("list")), ("data", .array(events.map { .raw($0.payload) })), ("hasMore", .bool(hasMore)),
                    ("nextCursor", .optional(hasMore ? events.last?.id : nil)),
                ])))
    }

    @Sendable func showEvent(_ request: Request, context: APIRequestContext) async throws -> Response {
        JSONBody.response(Self.Wrapper(json: .raw(try await self.event(context).payload)))
    }

    @Sendable func deliveries(_ request: Request, context: APIRequestContext) async throws -> Response {
        let event = try await self.event(context)
        let records = try await self.webhooks.deliveries(of: event)
        let data = records.map { record in
            OrderedJSON.object([
                ("id", .string(record.id)), ("endpointId", .string(record.endpointID)), ("status", .string(record.status)),
                ("nextAttemptAt", .optional(record.status == "pending" ? record.nextAttemptAt.map(Timestamp.format) : nil)),
                (
                    "attempts",
                    .array(
                        record.attempts.map { attempt in
                            .object([
                                ("attemptedAt", .string(Timestamp.format(attempt.attemptedAt))), ("statusCode", .optional(attempt.statusCode)),
                                ("latencyMs", .int(attempt.latencyMillis)), ("response", .optional(attempt.responseExcerpt)),
                                ("error", .optional(attempt.error)),
                            ])
                        })
                ),
            ])
        }
        return JSONBody.response(Self.Wrapper(json: .object([("object", .string("list")), ("data", .array(data))])))
    }

    @Sendable func resend(_ request: Request, context: APIRequestContext) async throws -> Response {
        let event = try await self.event(context)
        try await self.webhooks.resend(event)
        return JSONBody.response(Self.Wrapper(json: .object([("eventId", .string(event.id)), ("resent", .bool(true))])), status: .accepted)
    }

    func endpoint(_ context: APIRequestContext) async throws -> WebhookEndpoint {
        let id = try context.pathParameter("id")
        return try await self.webhooks.endpoint(organizationID: context.identity.organizationID, mode: context.identity.mode, id: id)
    }

    func event(_ context: APIRequestContext) async throws -> OutboxEvent {
        let id = try context.pathParameter("id")
        return try await self.webhooks.event(organizationID: context.identity.organizationID, mode: context.identity.mode, id: id)
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
