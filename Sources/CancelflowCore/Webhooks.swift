import Crypto
import Foundation

/// A merchant's webhook endpoint.
public struct WebhookEndpoint: Sendable, Equatable {
    /// `we_…`
    public var id: String
    /// The organization.
    public var organizationID: String
    /// The mode whose events it receives.
    public var mode: Mode
    /// Where deliveries are POSTed.
    public var url: String
    /// The event types it wants; empty means all.
    public var events: [EventType]
    /// A note for the merchant.
    public var description: String?
    /// The signing secret, sealed under the server secret (it must be recoverable to sign).
    public var sealedSecret: [UInt8]
    /// The secret before the last rotation, which keeps signing alongside until it expires.
    public var sealedPreviousSecret: [UInt8]?
    /// When the previous secret stops signing.
    public var previousSecretExpiresAt: Date?
    /// When deliveries were stopped (410 Gone from the endpoint).
    public var disabledAt: Date?
    /// When it was created.
    public var createdAt: Date

    /// Creates an endpoint value.
    public init(
        id: String, organizationID: String, mode: Mode, url: String, events: [EventType], description: String?,
        sealedSecret: [UInt8], sealedPreviousSecret: [UInt8]? = nil, previousSecretExpiresAt: Date? = nil,
        disabledAt: Date? = nil, createdAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.mode = mode
        self.url = url
        self.events = events
        self.description = description
        self.sealedSecret = sealedSecret
        self.sealedPreviousSecret = sealedPreviousSecret
        self.previousSecretExpiresAt = previousSecretExpiresAt
        self.disabledAt = disabledAt
        self.createdAt = createdAt
    }

    /// Whether the endpoint wants an event type (a ping goes to the one endpoint tested).
    public func wants(_ type: EventType) -> Bool {
        self.disabledAt == nil && (self.events.isEmpty || self.events.contains(type))
    }
}

/// A delivery a worker claimed: everything needed to send it.
public struct ClaimedDelivery: Sendable, Equatable {
    /// `whd_…`
    public var id: String
    /// The event (its id is the `webhook-id`).
    public var eventID: String
    /// The JSON body.
    public var payload: String
    /// The endpoint.
    public var endpoint: WebhookEndpoint
    /// Attempts made before this one.
    public var attempts: Int

    /// Creates a claimed delivery.
    public init(id: String, eventID: String, payload: String, endpoint: WebhookEndpoint, attempts: Int) {
        self.id = id
        self.eventID = eventID
        self.payload = payload
        self.endpoint = endpoint
        self.attempts = attempts
    }
}

/// One attempt at a delivery.
public struct DeliveryAttempt: Sendable, Equatable {
    /// When it was made.
    public var attemptedAt: Date
    /// The HTTP status, when a response came.
    public var statusCode: Int?
    /// How long it took.
    public var latencyMillis: Int
    /// The first KiB of the response body.
    public var responseExcerpt: String?
    /// What went wrong, when no response came.
    public var error: String?

    /// Creates an attempt record.
    public init(attemptedAt: Date, statusCode: Int?, latencyMillis: Int, responseExcerpt: String?, error: String?) {
        self.attemptedAt = attemptedAt
        self.statusCode = statusCode
        self.latencyMillis = latencyMillis
        self.responseExcerpt = responseExcerpt
        self.error = error
    }
}

/// What became of an attempt.
public enum DeliveryResult: Sendable, Equatable {
    /// 2xx.
    case succeeded
    /// Try again at this time.
    case retry(at: Date)
    /// No more attempts.
    case failed
    /// 410 Gone: the endpoint is disabled and the delivery failed.
    case gone
}

/// A delivery as the inspection API shows it.
public struct DeliveryRecord: Sendable, Equatable {
    public var id: String
    public var endpointID: String
    public var status: String
    public var attempts: [DeliveryAttempt]
    public var nextAttemptAt: Date?

    public init(id: String, endpointID: String, status: String, attempts: [DeliveryAttempt], nextAttemptAt: Date?) {
        self.id = id
        self.endpointID = endpointID
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
    }
}

/// Webhook endpoints, the event outbox and deliveries.
public protocol WebhookStore: Sendable {
    func createEndpoint(_ endpoint: WebhookEndpoint) async throws
    func endpoints(organizationID: String, mode: Mode) async throws -> [WebhookEndpoint]
    func endpoint(organizationID: String, mode: Mode, id: String) async throws -> WebhookEndpoint?
    func deleteEndpoint(organizationID: String, mode: Mode, id: String, now: Date) async throws -> Bool
    /// Stops (a date) or resumes (nil) an endpoint's new deliveries; false when it is unknown.
    func setEndpointDisabled(organizationID: String, mode: Mode, id: String, at: Date?) async throws -> Bool
    func rotateEndpointSecret(
        organizationID: String, mode: Mode, id: String, sealedSecret: [UInt8], previousExpiresAt: Date
    ) async throws
        -> WebhookEndpoint?
    /// Writes events, and a pending delivery for every enabled endpoint that wants each, in its
    /// own transaction (for events not tied to another change, like `ping`); `onlyEndpoint`
    /// restricts the deliveries to one endpoint.
    func enqueue(_ events: [OutboxEvent], onlyEndpoint: String?, now: Date) async throws
    /// Claims up to `limit` due deliveries for `worker` until `leaseUntil`; claims whose lease ran
    /// out are claimable again.
    func claimDeliveries(worker: String, now: Date, leaseUntil: Date, limit: Int) async throws -> [ClaimedDelivery]
    /// Records an attempt and its result (only while `worker` still holds the claim).
    func recordAttempt(deliveryID: String, worker: String, attempt: DeliveryAttempt, result: DeliveryResult) async throws
    /// Events, newest first.
    func events(organizationID: String, mode: Mode, limit: Int, startingAfter: String?) async throws -> [OutboxEvent]
    func event(organizationID: String, mode: Mode, id: String) async throws -> OutboxEvent?
    func deliveries(eventID: String) async throws -> [DeliveryRecord]
    /// Queues the event again for every endpoint that wants it now.
    func resend(organizationID: String, mode: Mode, eventID: String, now: Date) async throws -> Bool
    /// Deliveries waiting to be made, across every organization (for the metrics).
    func pendingDeliveryCount() async throws -> Int
}

/// The retry schedule: about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h after the failures, each
/// stretched by up to 10 % of random jitter so endpoints that failed together do not retry
/// together; `Retry-After` is honoured when it asks for longer.
public enum RetrySchedule {
    /// Delays after the 1st … 7th failure.
    public static let delays: [TimeInterval] = [5, 300, 1800, 7200, 18000, 36000, 36000]
    /// Attempts in all: the first and one per delay.
    public static var maximumAttempts: Int { self.delays.count + 1 }

    /// When to try again after `failures` failed attempts, or nil when that was the last.
    public static func nextAttempt(after failures: Int, now: Date, retryAfter: TimeInterval?, jitter: Double) -> Date? {
        guard failures >= 1, failures <= self.delays.count else { return nil }
        let base = self.delays[failures - 1] * (1 + max(0, min(jitter, 0.1)))
        return now.addingTimeInterval(max(base, min(retryAfter ?? 0, 36000)))
    }
}

/// Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,…`).
public enum StandardWebhooks {
    /// A new `whsec_` secret: base64 of 32 random bytes.
    public static func generateSecret() -> String {
        "whsec_" + Data(SecureRandom.bytes(32)).base64EncodedString()
    }

    /// The `v1,<base64>` signature of a message under a `whsec_` secret.
    public static func signature(secret: String, id: String, timestamp: Int, body: String) -> String? {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard let key = Data(base64Encoded: encoded) else { return nil }
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(timestamp).\(body)".utf8), using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }
}
