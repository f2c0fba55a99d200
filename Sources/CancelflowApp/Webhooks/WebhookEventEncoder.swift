import CancelflowAPI
import CancelflowCore
import Foundation

/// The wire form of events: `{"id": "evt_…", "type", "createdAt", "livemode", "data": {…}}`.
/// Link events carry the cancel session as the API shows it (never the token or URL) with its
/// metadata; `cancel_flow.completed` carries the outcome, the survey answers, whether an offer
/// was accepted, the subscription, how the customer arrived and what the billing provider did.
struct WebhookEventEncoder: EventEncoder {
    func envelope(for event: DomainEvent, id: String, mode: Mode, createdAt: Date) -> String {
        let data: OrderedJSON
        switch event {
        case .linkCreated(let link), .linkExchanged(let link), .linkConsumed(let link), .linkRevoked(let link):
            data = cancelSessionBody(link, now: createdAt).orderedJSON
        case .flowCompleted(let session, let offerAccepted, let metadata, let billing):
            data = .object([
                ("flowSessionId", .string(session.id)),
                ("cancelSessionId", .optional(session.linkID)),
                ("customerId", .string(session.customerID)),
                ("subscriptionId", .optional(session.subscriptionID)),
                ("outcome", .string(session.outcome?.rawValue ?? "abandoned")),
                ("offerAccepted", .bool(offerAccepted)),
                ("offerId", .optional(session.outcome?.acceptedOffer == true ? session.offerID : nil)),
                (
                    "survey",
                    .object([
                        ("reason", .optional(session.surveyReason)), ("reasonId", .optional(session.reasonID)),
                        ("comment", .optional(session.surveyComment)),
                    ])
                ),
                (
                    "flow",
                    session.run.map {
                        .object([("id", .string($0.flowID)), ("version", .int($0.version)), ("variant", .optional($0.variant))])
                    } ?? .null
                ),
                ("via", .string(session.entry.rawValue)),
                ("completedAt", .optional(session.outcomeAt.map(Timestamp.format))),
                // What the billing provider was asked to do and did; null when nothing changed.
                (
                    "billing",
                    billing.map {
                        .object([("provider", .string($0.provider.rawValue)), ("objectId", .string($0.objectID)), ("action", .string($0.action))])
                    } ?? .null
                ),
                ("metadata", .sortedMap(metadata)),
            ])
        case .ping:
            data = .object([("message", .string("Webhook endpoint test from Cancelflow."))])
        }
        let envelope = OrderedJSON.object([
            ("id", .string(id)),
            ("type", .string(event.type.rawValue)),
            ("createdAt", .string(Timestamp.format(createdAt))),
            ("livemode", .bool(mode.isLive)),
            ("data", data),
        ])
        return String(decoding: envelope.bytes, as: UTF8.self)
    }
}
