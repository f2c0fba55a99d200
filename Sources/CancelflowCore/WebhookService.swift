import Crypto
import Foundation

/// Decides whether a URL may receive webhooks. The App layer's implementation parses it strictly
/// and resolves its host, refusing private, loopback and link-local addresses.
public protocol WebhookURLPolicy: Sendable {
    /// Why `url` may not receive `mode`'s webhooks, or nil when it may.
    func refusal(url: String, mode: Mode) async -> String?
}

/// Seals endpoint signing secrets for storage: they must be readable again to sign, so they are
/// encrypted (AES-GCM) under a key derived from the server secret rather than hashed.
public struct WebhookSecrets: Sendable {
    let box: SecretBox

    public init(secret: ServerSecret) {
        self.box = SecretBox(secret: secret, purpose: "webhook-endpoint-secret-v1")
    }

    public func seal(_ secret: String) throws -> [UInt8] {
        try self.box.seal(secret)
    }

    public func open(_ sealed: [UInt8]) throws -> String {
        try self.box.open(sealed)
    }
}

/// Webhook endpoints and the event log, for the API, the CLI and (later) the dashboard.
public struct WebhookService: Sendable {
    /// How long a rotated-out secret keeps signing beside the new one.
    public static let rotationOverlap: TimeInterval = 24 * 3600
    /// The longest endpoint description.
    public static let maximumDescriptionLength = 500

    let store: any WebhookStore & OrganizationStore
    let time: any TimeSource
    let secrets: WebhookSecrets
    let events: any EventEncoder
    let urlPolicy: any WebhookURLPolicy

    public init(
        store: any WebhookStore & OrganizationStore, time: any TimeSource, secrets: WebhookSecrets, events: any EventEncoder,
        urlPolicy: any WebhookURLPolicy
    ) {
        self.store = store
        self.time = time
        self.secrets = secrets
        self.events = events
        self.urlPolicy = urlPolicy
    }

    /// Adds an endpoint; returns it with its signing secret, which is shown this once.
    public func createEndpoint(
        organizationID: String, mode: Mode, url: String, events: [String], description: String? = nil
    ) async throws -> (WebhookEndpoint, String) {
        var types: [EventType] = []
        for name in events {
            guard let type = EventType(rawValue: name), type != .ping else {
                throw CancelflowError.invalid("event_type_invalid", "Unknown event type \(name).", param: "events")
            }
            if !types.contains(type) { types.append(type) }
        }
        if let description, description.count > Self.maximumDescriptionLength {
            throw CancelflowError.invalid("parameter_too_long", "description must be at most 500 characters.", param: "description")
        }
        // Last, because it resolves the host.
        if let reason = await self.urlPolicy.refusal(url: url, mode: mode) {
            throw CancelflowError.unprocessable("url_not_allowed", reason, param: "url")
        }
        // Stored as re-serialised from what was checked.
        let url = StrictURL.parse(url)?.text ?? url
        guard try await self.store.organization(id: organizationID) != nil else {
            throw CancelflowError.notFound("organization_not_found", "No organization \(organizationID).")
        }
        let secret = StandardWebhooks.generateSecret()
        let endpoint = WebhookEndpoint(
            id: Identifier.make("we_"), organizationID: organizationID, mode: mode, url: url, events: types, description: description,
            sealedSecret: try self.secrets.seal(secret), createdAt: Millis.date(Millis.from(self.time.now()))
        )
        try await self.store.createEndpoint(endpoint)
        return (endpoint, secret)
    }

    /// An organization's endpoints in one mode.
    public func endpoints(organizationID: String, mode: Mode) async throws -> [WebhookEndpoint] {
        try await self.store.endpoints(organizationID: organizationID, mode: mode)
    }

    /// One endpoint; `endpoint_not_found` when there is none with that id.
    public func endpoint(organizationID: String, mode: Mode, id: String) async throws -> WebhookEndpoint {
        guard let endpoint = try await self.store.endpoint(organizationID: organizationID, mode: mode, id: id) else {
            throw Self.endpointNotFound
        }
        return endpoint
    }

    /// Disables an endpoint (it gets no new events until enabled again) or enables it.
    public func setDisabled(organizationID: String, mode: Mode, id: String, disabled: Bool) async throws {
        guard
            try await self.store.setEndpointDisabled(
                organizationID: organizationID, mode: mode, id: id, at: disabled ? self.time.now() : nil)
        else { throw Self.endpointNotFound }
    }

    /// Deletes an endpoint; its pending deliveries stop.
    public func deleteEndpoint(organizationID: String, mode: Mode, id: String) async throws {
        guard try await self.store.deleteEndpoint(organizationID: organizationID, mode: mode, id: id, now: self.time.now()) else {
            throw Self.endpointNotFound
        }
    }

    /// Gives an endpoint a new signing secret (returned once); the old one keeps signing alongside
    /// for 24 hours so receivers can switch without dropping deliveries.
    public func rotateSecret(organizationID: String, mode: Mode, id: String) async throws -> String {
        let secret = StandardWebhooks.generateSecret()
        let rotated = try await self.store.rotateEndpointSecret(
            organizationID: organizationID, mode: mode, id: id, sealedSecret: try self.secrets.seal(secret),
            previousExpiresAt: self.time.now().addingTimeInterval(Self.rotationOverlap)
        )
        guard rotated != nil else { throw Self.endpointNotFound }
        return secret
    }

    /// Queues a `ping` event for one endpoint; returns the event id.
    public func ping(organizationID: String, mode: Mode, id: String) async throws -> String {
        guard try await self.store.endpoint(organizationID: organizationID, mode: mode, id: id) != nil else {
            throw Self.endpointNotFound
        }
        let now = self.time.now()
        let event = self.events.outbox(.ping, organizationID: organizationID, mode: mode, at: now)
        try await self.store.enqueue([event], onlyEndpoint: id, now: now)
        return event.id
    }

    /// Events, newest first.
    public func events(organizationID: String, mode: Mode, limit: Int, startingAfter: String?) async throws -> [OutboxEvent] {
        try await self.store.events(organizationID: organizationID, mode: mode, limit: limit, startingAfter: startingAfter)
    }

    /// One event; `event_not_found` when there is none with that id.
    public func event(organizationID: String, mode: Mode, id: String) async throws -> OutboxEvent {
        guard let event = try await self.store.event(organizationID: organizationID, mode: mode, id: id) else {
            throw CancelflowError.notFound("event_not_found", "No event with that id.", param: "id")
        }
        return event
    }

    /// An event's deliveries, each with its attempts.
    public func deliveries(of event: OutboxEvent) async throws -> [DeliveryRecord] {
        try await self.store.deliveries(eventID: event.id)
    }

    /// Queues an event again for every endpoint that wants it now.
    public func resend(_ event: OutboxEvent) async throws {
        _ = try await self.store.resend(organizationID: event.organizationID, mode: event.mode, eventID: event.id, now: self.time.now())
    }

    /// Deliveries waiting to be made, across every organization.
    public func pendingDeliveryCount() async throws -> Int {
        try await self.store.pendingDeliveryCount()
    }

    static var endpointNotFound: CancelflowError {
        CancelflowError.notFound("endpoint_not_found", "No webhook endpoint with that id.", param: "id")
    }
}
