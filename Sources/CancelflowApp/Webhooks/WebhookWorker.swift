import AsyncHTTPClient
import CancelflowCore
import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Delivers the outbox: claims due deliveries (with a lease, so a crashed worker's claims come
/// back), signs them per Standard Webhooks, POSTs them with a 10 s timeout and no redirects,
/// records every attempt and schedules retries. Runs inside `serve`, or alone as `cancelflow
/// worker`; several can share one PostgreSQL database.
public struct WebhookWorker: Service {
    let store: any WebhookStore
    let time: any TimeSource
    let secrets: WebhookSecrets
    /// `--allow-private-webhooks`: deliveries then connect as the shared client likes.
    public var allowPrivate: Bool
    let logger: Logger
    let metrics: AppMetrics
    let id: String
    var lease: TimeInterval = 60
    var batch = 8
    var pollInterval: Duration = .seconds(1)
    var timeout: TimeAmount = .seconds(10)
    /// Kept clients for endpoints reached through a checked address (not with
    /// `--allow-private-webhooks`, where the shared client connects as it likes); shared by copies.
    let pinnedClients = PinnedClients()
    /// Which resolved addresses a delivery refuses (`AddressPolicy.isRestricted`). Tests let
    /// loopback through to exercise the checked-address path against a local receiver.
    public var refusesAddress: @Sendable (String) -> Bool = AddressPolicy.isRestricted

    /// A worker over the service's store; tests give each worker its own id.
    public init(services: AppServices, logger: Logger, id: String = Identifier.make("wk_")) {
        self.store = services.store
        self.time = services.time
        self.secrets = WebhookSecrets(secret: services.secret)
        self.allowPrivate = services.configuration.allowPrivateWebhooks
        self.lease = services.configuration.webhookLease
        self.logger = logger
        self.metrics = services.metrics
        self.id = id
    }

    /// Delivers until graceful shutdown.
    public func run() async throws {
        let client = Self.makeClient()
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let delivered: Int
            do {
                delivered = try await self.runOnce(client: client)
            } catch {
                self.logger.error("Webhook worker pass failed", metadata: ["error": .string(String(describing: error))])
                delivered = 0
            }
            if delivered == 0 {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.pollInterval) }
            }
        }
        try? await client.shutdown()
        await self.pinnedClients.shutdown()
    }

    /// Shuts down the clients kept per checked address; `run` does it on the way out, a caller
    /// of `runOnce` does it when done.
    public func shutdownKeptClients() async {
        await self.pinnedClients.shutdown()
    }

    /// How many per-address clients are kept (for tests).
    public var keptClients: Int { self.pinnedClients.count }

    /// An HTTP client that never follows redirects: a 3xx is a failed attempt, not a hop to
    /// wherever the endpoint points.
    public static func makeClient(dnsOverride: [String: String] = [:]) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(10))
        configuration.decompression = .disabled
        configuration.dnsOverride = dnsOverride
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// The most one attempt may take, response body included: a slow-dripping endpoint must not
    /// hold a worker (or outlive its lease).
    static let attemptDeadline: Duration = .seconds(15)

    /// One pass: claims and delivers what is due; returns how many deliveries it attempted.
    @discardableResult
    public func runOnce(client: HTTPClient) async throws -> Int {
        let now = self.time.now()
        let claims = try await self.store.claimDeliveries(
            worker: self.id, now: now, leaseUntil: now.addingTimeInterval(self.lease), limit: self.batch)
        await withTaskGroup(of: Void.self) { group in
            for claim in claims {
                group.addTask { await self.deliver(claim, client: client) }
            }
        }
        return claims.count
    }

    func deliver(_ claim: ClaimedDelivery, client: HTTPClient) async {
        let started = ContinuousClock.now
        let attemptedAt = self.time.now()
        var statusCode: Int?
        var excerpt: String?
        var failure: String?
        var retryAfter: TimeInterval?
        do {
            if let refusal = await AddressPolicy.check(url: claim.endpoint.url, mode: claim.endpoint.mode.rawValue, allowPrivate: true) {
                throw DeliveryFailure(refusal)
            }
            var request = HTTPClientRequest(url: claim.endpoint.url)
            request.method = .POST
            request.headers = try self.headers(for: claim, at: attemptedAt)
            request.body = .bytes(ByteBuffer(string: claim.payload))
            var sender = client
            var pinned: HTTPClient?
            if !self.allowPrivate, let host = URLComponents(string: claim.endpoint.url)?.host {
                switch await AddressPolicy.pinnedAddress(host: host, refusing: self.refusesAddress) {
                case .failure(let refusal): throw refusal
                case .success(let address):
                    let kept = self.pinnedClients.client(host: host, address: address)
                    sender = kept.client
                    if kept.owned { pinned = kept.client }
                }
            }
            let timeout = self.timeout
            let prepared = request
            let answer: (Int, TimeInterval?, String)
            do {
                answer = try await Self.send(prepared, with: sender, timeout: timeout)
            } catch {
                // A client made for one delivery must be shut down on every path.
                try? await pinned?.shutdown()
                throw error
            }
            try? await pinned?.shutdown()
            (statusCode, retryAfter, excerpt) = (answer.0, answer.1, answer.2)
        } catch let error as DeliveryFailure {
            failure = error.reason
        } catch {
            failure = InputText.sanitized(String(describing: error).prefix(300).description)
        }
        let elapsed = ContinuousClock.now - started
        let attempt = DeliveryAttempt(
            attemptedAt: attemptedAt,
            statusCode: statusCode,
            latencyMillis: Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000),
            responseExcerpt: excerpt,
            error: failure
        )
        let result: DeliveryResult
        switch statusCode {
        case .some(200..<300): result = .succeeded
        case .some(410): result = .gone
        default:
            let jitter = Double.random(in: 0...0.1)
            if let next = RetrySchedule.nextAttempt(after: claim.attempts + 1, now: attemptedAt, retryAfter: retryAfter, jitter: jitter) {
                result = .retry(at: next)
            } else {
                result = .failed
            }
        }
        do {
            try await self.store.recordAttempt(deliveryID: claim.id, worker: self.id, attempt: attempt, result: result)
        } catch {
            self.logger.error("Recording a webhook attempt failed", metadata: ["delivery_id": .string(claim.id), "error": .string("\(error)")])
            // Whatever went wrong with the details, the attempt and its result must be recorded:
            // a delivery whose failure is never written is re-sent after every lease and, with
            // the oldest due time, claimed before every other tenant's.
            var bare = attempt
            bare.responseExcerpt = nil
            bare.error = "The attempt's details could not be recorded."
            do {
                try await self.store.recordAttempt(deliveryID: claim.id, worker: self.id, attempt: bare, result: result)
            } catch {
                self.logger.error("Recording a webhook attempt failed again", metadata: ["delivery_id": .string(claim.id)])
            }
        }
        let label =
            switch result {
            case .succeeded: "succeeded"
            case .gone: "gone"
            case .failed: "failed"
            case .retry: "retry"
            }
        self.metrics.webhookAttempt(label)
        self.logger.info(
            "Webhook attempt",
            metadata: [
                "delivery_id": .string(claim.id), "event_id": .string(claim.eventID), "endpoint_id": .string(claim.endpoint.id),
                "status": .string(statusCode.map(String.init) ?? "none"), "result": .string("\(result)"),
            ]
        )
    }

    /// Sends one request under the whole-attempt deadline; returns the status, Retry-After and
    /// the first KiB of the answer.
    static func send(_ request: HTTPClientRequest, with client: HTTPClient, timeout: TimeAmount) async throws -> (Int, TimeInterval?, String) {
        try await withThrowingTaskGroup(of: (Int, TimeInterval?, String).self) { group in
            group.addTask {
                let response = try await client.execute(request, timeout: timeout)
                // Read at most 1 KiB of whatever the endpoint answers.
                var body = ByteBuffer()
                for try await chunk in response.body {
                    var chunk = chunk
                    body.writeBuffer(&chunk)
                    if body.readableBytes >= 1024 { break }
                }
                return (
                    Int(response.status.code), response.headers.first(name: "retry-after").flatMap(TimeInterval.init),
                    // The receiver's bytes, made storable: NUL and other controls, and bytes that
                    // are not UTF-8, become U+FFFD.
                    InputText.sanitized(body.readableBytesView.prefix(1024))
                )
            }
            group.addTask {
                try await Task.sleep(for: Self.attemptDeadline)
                throw DeliveryFailure("The endpoint took longer than 15 seconds to answer.")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// `webhook-id`, `webhook-timestamp`, and `webhook-signature` with one `v1,` signature per
    /// secret in force (two during a rotation's grace period).
    func headers(for claim: ClaimedDelivery, at date: Date) throws -> HTTPHeaders {
        let timestamp = Int(date.timeIntervalSince1970)
        var secrets = [try self.secrets.open(claim.endpoint.sealedSecret)]
        if let previous = claim.endpoint.sealedPreviousSecret, let until = claim.endpoint.previousSecretExpiresAt, until > date {
            secrets.append(try self.secrets.open(previous))
        }
        let signatures = secrets.compactMap { StandardWebhooks.signature(secret: $0, id: claim.eventID, timestamp: timestamp, body: claim.payload) }
        return [
            "content-type": "application/json",
            "user-agent": "Cancelflow-Webhooks/1",
            "webhook-id": claim.eventID,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": signatures.joined(separator: " "),
        ]
    }
}

struct DeliveryFailure: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
