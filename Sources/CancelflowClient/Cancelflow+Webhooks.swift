import Foundation

extension Cancelflow {
    // MARK: Webhook endpoints

    /// Adds an endpoint. The returned value carries the signing `secret` (for ``WebhookVerifier``);
    /// it is shown only here and on rotation. `events` empty means every type.
    public func createWebhookEndpoint(
        url: String, events: [Components.Schemas.SubscribableEventType] = [], description: String? = nil
    ) async throws -> WebhookEndpoint {
        let body = Components.Schemas.CreateWebhookEndpointRequest(url: url, events: events.isEmpty ? nil : events, description: description)
        switch try await call({ try await self.generated.createWebhookEndpoint(.init(body: .json(body))) }) {
        case .created(let created): return try created.body.json
        case .default(let status, let error): throw CancelflowAPIError(status: status, error)
        }
    }

    /// Every endpoint of this mode, oldest first.
    public func webhookEndpoints() async throws -> [WebhookEndpoint] {
        switch try await call({ try await self.generated.listWebhookEndpoints(.init()) }) {
        case .ok(let ok): return try ok.body.json.data
        case .default(let status, let error): throw CancelflowAPIError(status: status, error)
        }
    }

    /// An endpoint by id (never its secret).
    public func webhookEndpoint(id: String) async throws -> WebhookEndpoint {
        switch try await call({ try await self.generated.getWebhookEndpoint(.init(path: .init(id: id))) }) {
        case .ok(let ok): return try ok.body.json
        case .default(let status, let error): throw CancelflowAPIError(status: status, error)
        }
    }

    /// Deletes an endpoint; deliveries still pending to it are dropped.
    public func deleteWebhookEndpoint(id: String) async throws {
        switch try await call({ try await self.generated.deleteWebhookEndpoint(.init(path: .init(id: id))) }) {
        case .ok: return
        case .default(let status, let error): throw CancelflowAPIError(status: status, error)
        }
    }

    /// A new signing secret; the old one keeps signing alongside it for 24 hours.
    public func rotateWebhookEndpointSecret(id: String) async throws -> WebhookEndpoint {
        switch try await call({ try await self.generated.rotateWebhookEndpointSecret(.init(path: .init(id: id))) }) {
        case .ok(let ok): return try ok.body.json
        case .default(let status, let error): throw CancelflowAPIError(status: status, error)
        }
    }

    /// Queues a `ping` event for the endpoint; returns the event's id.
    @discardableResult
    public func testWebhookEndpoint(id: String) async throws -> String {
        switch try await call({ try await self.generated.testWebhookEndpoint(.init(path: .init(id: id))) }) {
        case .accepted(let accepted): return try accepted.body.json.eventId
        case .default(let status, let error): throw CancelflowAPIError(status: status, error)
        }
    }

    // MARK: Events

    /// Every event of this mode, newest first, fetched in pages of `pageSize` as it is iterated.
    public func events(pageSize: Int = 100) -> Paginated<Event> {
        let client = self.generated
        return Paginated { cursor in
            switch try await call({ try await client.listEvents(.init(query: .init(limit: pageSize, startingAfter: cursor))) }) {
            case .ok(let ok):
                let page = try ok.body.json
                return (page.data, page.hasMore ? page.nextCursor : nil)
            case .default(let status, let error): throw CancelflowAPIError(status: status, error)
            }
        }
    }

    /// An event by id, as it was delivered.
    public func event(id: String) async throws -> Event {
        switch try await call({ try await self.generated.getEvent(.init(path: .init(id: id))) }) {
        case .ok(let ok): return try ok.body.json
        case .default(let status, let error): throw CancelflowAPIError(status: status, error)
        }
    }

    /// An event's deliveries, one per endpoint that wanted it, with every attempt.
    public func deliveries(eventId: String) async throws -> [Delivery] {
        switch try await call({ try await self.generated.listEventDeliveries(.init(path: .init(id: eventId))) }) {
        case .ok(let ok): return try ok.body.json.data
        case .default(let status, let error): throw CancelflowAPIError(status: status, error)
        }
    }

    /// Queues the event again for every enabled endpoint that wants its type.
    public func resendEvent(id: String) async throws {
        switch try await call({ try await self.generated.resendEvent(.init(path: .init(id: id))) }) {
        case .accepted: return
        case .default(let status, let error): throw CancelflowAPIError(status: status, error)
        }
    }
}
