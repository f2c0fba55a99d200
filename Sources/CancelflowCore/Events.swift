import Foundation

/// The events the service emits to merchants' webhook endpoints.
public enum EventType: String, Sendable, CaseIterable, Codable {
    case cancelLinkCreated = "cancel_link.created"
    case cancelLinkExchanged = "cancel_link.exchanged"
    case cancelLinkConsumed = "cancel_link.consumed"
    case cancelLinkRevoked = "cancel_link.revoked"
    case cancelFlowCompleted = "cancel_flow.completed"
    case ping
}

/// What happened, before it is put into the wire format.
public enum DomainEvent: Sendable {
    case linkCreated(CancelLink)
    case linkExchanged(CancelLink)
    case linkConsumed(CancelLink)
    case linkRevoked(CancelLink)
    case flowCompleted(FlowSession, offerAccepted: Bool, metadata: [String: String], billing: BillingReceipt?)
    case ping

    /// The event's type.
    public var type: EventType {
        switch self {
        case .linkCreated: .cancelLinkCreated
        case .linkExchanged: .cancelLinkExchanged
        case .linkConsumed: .cancelLinkConsumed
        case .linkRevoked: .cancelLinkRevoked
        case .flowCompleted: .cancelFlowCompleted
        case .ping: .ping
        }
    }
}

/// An event ready for the outbox: its id, type and the exact JSON body every delivery sends.
public struct OutboxEvent: Sendable, Equatable {
    /// `evt_…`, also the `webhook-id` of every delivery, stable across retries.
    public var id: String
    /// The type.
    public var type: EventType
    /// The organization.
    public var organizationID: String
    /// The mode; test events go only to test endpoints.
    public var mode: Mode
    /// The JSON envelope.
    public var payload: String
    /// When it happened.
    public var createdAt: Date

    /// Creates an outbox event.
    public init(id: String, type: EventType, organizationID: String, mode: Mode, payload: String, createdAt: Date) {
        self.id = id
        self.type = type
        self.organizationID = organizationID
        self.mode = mode
        self.payload = payload
        self.createdAt = createdAt
    }
}

/// Turns domain events into their wire JSON. Core decides when events happen; the API layer owns
/// what they look like, so the service is handed an encoder.
public protocol EventEncoder: Sendable {
    /// The JSON envelope `{"id", "type", "createdAt", "livemode", "data"}` of an event.
    func envelope(for event: DomainEvent, id: String, mode: Mode, createdAt: Date) -> String
}

extension EventEncoder {
    /// An outbox event for a domain event.
    public func outbox(_ event: DomainEvent, organizationID: String, mode: Mode, at date: Date) -> OutboxEvent {
        let id = Identifier.make("evt_")
        let createdAt = Millis.date(Millis.from(date))
        return OutboxEvent(
            id: id,
            type: event.type,
            organizationID: organizationID,
            mode: mode,
            payload: self.envelope(for: event, id: id, mode: mode, createdAt: createdAt),
            createdAt: createdAt
        )
    }
}
