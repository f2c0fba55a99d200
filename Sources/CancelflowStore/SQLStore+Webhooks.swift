import CancelflowCore
import Foundation
import SQLKit

extension SQLStore: WebhookStore {
    public func createEndpoint(_ endpoint: WebhookEndpoint) async throws {
        let events = try JSONCoding.encode(endpoint.events.map(\.rawValue))
        try await self.pool.write { db in
            try await db.raw(
                """
                INSERT INTO webhook_endpoints (id, organization_id, mode, url, events, description, sealed_secret, created_at)
                VALUES (\(bind: endpoint.id), \(bind: endpoint.organizationID), \(bind: endpoint.mode.rawValue), \(bind: endpoint.url),
                    \(bind: events), \(bind: endpoint.description), \(bind: Data(endpoint.sealedSecret).base64EncodedString()),
                    \(bind: Millis.from(endpoint.createdAt)))
                """
            ).run()
        }
        self.endpoints.invalidate()
    }

    public func endpoints(organizationID: String, mode: Mode) async throws -> [WebhookEndpoint] {
        try await self.pool.read { db in
            try await db.raw(
                """
                SELECT * FROM webhook_endpoints
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue) AND deleted_at IS NULL
                ORDER BY created_at, id
                """
            ).all().map(Self.decodeEndpoint)
        }
    }

    public func endpoint(organizationID: String, mode: Mode, id: String) async throws -> WebhookEndpoint? {
        try await self.pool.read { db in
            try await db.raw(
                """
                SELECT * FROM webhook_endpoints
                WHERE id = \(bind: id) AND organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue) AND deleted_at IS NULL
                """
            ).first().map(Self.decodeEndpoint)
        }
    }

    public func setEndpointDisabled(organizationID: String, mode: Mode, id: String, at: Date?) async throws -> Bool {
        defer { self.endpoints.invalidate() }
        return try await self.pool.write { db in
            let rows = try await db.raw(
                """
                UPDATE webhook_endpoints SET disabled_at = \(bind: at.map(Millis.from))
                WHERE id = \(bind: id) AND organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue) AND deleted_at IS NULL
                RETURNING id
                """
            ).all()
            return !rows.isEmpty
        }
    }

    public func deleteEndpoint(organizationID: String, mode: Mode, id: String, now: Date) async throws -> Bool {
        defer { self.endpoints.invalidate() }
        return try await self.pool.transaction { db in
            // Kept as a row (deliveries and attempts refer to it), but gone from every listing and
            // from every future fan-out; its pending deliveries stop.
            let deleted = try await db.raw(
                """
                UPDATE webhook_endpoints SET deleted_at = \(bind: Millis.from(now))
                WHERE id = \(bind: id) AND organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue) AND deleted_at IS NULL
                RETURNING id
                """
            ).first()
            guard deleted != nil else { return false }
            try await db.raw(
                "UPDATE webhook_deliveries SET status = 'failed', locked_by = NULL WHERE endpoint_id = \(bind: id) AND status = 'pending'"
            )
            .run()
            return true
        }
    }

    public func rotateEndpointSecret(
        organizationID: String, mode: Mode, id: String, sealedSecret: [UInt8], previousExpiresAt: Date
    )
        async throws -> WebhookEndpoint?
    {
        try await self.pool.write { db in
            try await db.raw(
                """
                UPDATE webhook_endpoints SET sealed_previous_secret = sealed_secret,
                    sealed_secret = \(bind: Data(sealedSecret).base64EncodedString()),
                    previous_secret_expires_at = \(bind: Millis.from(previousExpiresAt))
                WHERE id = \(bind: id) AND organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue) AND deleted_at IS NULL
                RETURNING *
                """
            ).first().map(Self.decodeEndpoint)
        }
    }

    public func enqueue(_ events: [OutboxEvent], onlyEndpoint: String?, now: Date) async throws {
        try await self.pool.transaction { db in
            try await self.writeOutbox(events, onlyEndpoint: onlyEndpoint, db: db)
        }
    }

    /// Writes events and their deliveries inside the caller's transaction, so an event exists
    /// exactly when the change that caused it committed. Nothing is written for an event no
    /// endpoint wants. Which endpoints want what comes from `endpoints` (the cache), except for
    /// an event meant for one endpoint (a ping, a resend), which is always read afresh.
    func writeOutbox(_ events: [OutboxEvent], onlyEndpoint: String? = nil, db: any SQLDatabase) async throws {
        guard let first = events.first else { return }
        let endpoints: [SubscribedEndpoint]
        if onlyEndpoint == nil {
            endpoints =
                try await self.endpoints.cached(Self.endpointsKey(first.organizationID, first.mode)) {
                    try await Self.liveEndpoints(organizationID: first.organizationID, mode: first.mode, db: db)
                } ?? []
        } else {
            endpoints = try await Self.liveEndpoints(organizationID: first.organizationID, mode: first.mode, db: db)
        }
        for event in events {
            let wanting = endpoints.filter { endpoint in
                if let onlyEndpoint { return endpoint.id == onlyEndpoint }
                return endpoint.wants(event.type)
            }
            if wanting.isEmpty { continue }
            let created = Millis.from(event.createdAt)
            try await db.raw(
                """
                INSERT INTO events (id, organization_id, mode, type, payload, created_at)
                VALUES (\(bind: event.id), \(bind: event.organizationID), \(bind: event.mode.rawValue), \(bind: event.type.rawValue),
                    \(bind: event.payload), \(bind: created))
                """
            ).run()
            for endpoint in wanting {
                try await Self.insertDelivery(eventID: event.id, endpointID: endpoint.id, at: created, db: db)
            }
        }
    }

    /// Whether `events` would be written now for no endpoint at all, by what the cache holds
    /// (nil when it holds nothing fresh): a change with nothing to announce needs no transaction
    /// around its one statement.
    func outboxIsSurelyEmpty(_ events: [OutboxEvent]) -> Bool {
        guard let first = events.first else { return true }
        guard let endpoints = self.endpoints.value(Self.endpointsKey(first.organizationID, first.mode)).0 else { return false }
        return !events.contains { event in endpoints.contains { $0.wants(event.type) } }
    }

    static func endpointsKey(_ organizationID: String, _ mode: Mode) -> String {
        "\(organizationID)\u{0}\(mode.rawValue)"
    }

    static func liveEndpoints(organizationID: String, mode: Mode, db: any SQLDatabase) async throws -> [SubscribedEndpoint] {
        try await db.raw(
            """
            SELECT id, events FROM webhook_endpoints
            WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)
                AND disabled_at IS NULL AND deleted_at IS NULL
            """
        ).all().map { row in
            SubscribedEndpoint(
                id: try row.decode(column: "id", as: String.self),
                events: try JSONCoding.decode([String].self, from: row.decode(column: "events", as: String.self))
            )
        }
    }

    /// A delivery for an endpoint that is still live when the transaction writes it: the outbox's
    /// list may come from the cache, a few seconds old, and an endpoint another instance deleted
    /// or disabled meanwhile must not be sent anything.
    static func insertDelivery(eventID: String, endpointID: String, at millis: Int64, db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO webhook_deliveries (id, event_id, endpoint_id, status, attempt_count, next_attempt_at, created_at)
            SELECT \(bind: Identifier.make("whd_")), \(bind: eventID), \(bind: endpointID), 'pending', 0, \(bind: millis), \(bind: millis)
            WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = \(bind: endpointID) AND disabled_at IS NULL AND deleted_at IS NULL)
            """
        ).run()
    }

    public func claimDeliveries(worker: String, now: Date, leaseUntil: Date, limit: Int) async throws -> [ClaimedDelivery] {
        let nowMillis = Millis.from(now)
        let lease = Millis.from(leaseUntil)
        let engine = self.pool.engine
        return try await self.pool.transaction { db in
            // On PostgreSQL, SKIP LOCKED lets several workers claim side by side without waiting
            // on each other's rows; SQLite has one writer, and the transaction is the lock.
            let lock = engine == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
            var claim = SQLQueryString(
                """
                UPDATE webhook_deliveries SET locked_by = \(bind: worker), locked_until = \(bind: lease)
                WHERE id IN (
                    SELECT id FROM webhook_deliveries
                    WHERE status = 'pending' AND next_attempt_at <= \(bind: nowMillis)
                        AND (locked_until IS NULL OR locked_until <= \(bind: nowMillis))
                    ORDER BY next_attempt_at LIMIT \(bind: limit)
                """
            )
            claim.appendInterpolation(unsafeRaw: lock + ") RETURNING id")
            let ids = try await db.raw(claim).all().map { try $0.decode(column: "id", as: String.self) }
            var claimed: [ClaimedDelivery] = []
            for id in ids {
                guard
                    let row = try await db.raw(
                        """
                        SELECT d.id AS delivery_id, d.attempt_count, e.id AS event_id, e.payload, w.*
                        FROM webhook_deliveries d JOIN events e ON e.id = d.event_id JOIN webhook_endpoints w ON w.id = d.endpoint_id
                        WHERE d.id = \(bind: id)
                        """
                    ).first()
                else { continue }
                claimed.append(
                    ClaimedDelivery(
                        id: try row.decode(column: "delivery_id", as: String.self),
                        eventID: try row.decode(column: "event_id", as: String.self),
                        payload: try row.decode(column: "payload", as: String.self),
                        endpoint: try Self.decodeEndpoint(row),
                        attempts: Int(try row.decode(column: "attempt_count", as: Int64.self))
                    )
                )
            }
            return claimed
        }
    }

    public func recordAttempt(deliveryID: String, worker: String, attempt: DeliveryAttempt, result: DeliveryResult) async throws {
        let attempted = Millis.from(attempt.attemptedAt)
        // 410 disables the endpoint: the outbox must stop fanning out to it at once.
        defer { if result == .gone { self.endpoints.invalidate() } }
        try await self.pool.transaction { db in
            let status: String
            var next: Int64?
            switch result {
            case .succeeded: status = "succeeded"
            case .retry(let at):
                status = "pending"
                next = Millis.from(at)
            case .failed, .gone: status = "failed"
            }
            let completed: Int64? = status == "pending" ? nil : attempted
            // First the claimed update: a worker whose lease ran out (and whose delivery another
            // worker took over) records nothing and disables nothing.
            let held = try await db.raw(
                """
                UPDATE webhook_deliveries SET status = \(bind: status), attempt_count = attempt_count + 1,
                    next_attempt_at = \(bind: next), completed_at = \(bind: completed), locked_by = NULL, locked_until = NULL
                WHERE id = \(bind: deliveryID) AND locked_by = \(bind: worker) AND status = 'pending'
                RETURNING id
                """
            ).first()
            guard held != nil else { return }
            try await db.raw(
                """
                INSERT INTO webhook_attempts (id, delivery_id, attempted_at, status_code, latency_ms, response_excerpt, error)
                VALUES (\(bind: Identifier.make("wha_")), \(bind: deliveryID), \(bind: attempted), \(bind: attempt.statusCode.map(Int64.init)),
                    \(bind: Int64(attempt.latencyMillis)), \(bind: attempt.responseExcerpt.map(InputText.sanitized)),
                    \(bind: attempt.error.map(InputText.sanitized)))
                """
            ).run()
            if result == .gone {
                try await db.raw(
                    """
                    UPDATE webhook_endpoints SET disabled_at = \(bind: attempted)
                    WHERE id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = \(bind: deliveryID))
                    """
                ).run()
                try await db.raw(
                    """
                    UPDATE webhook_deliveries SET status = 'failed', completed_at = \(bind: attempted), locked_by = NULL
                    WHERE endpoint_id = (SELECT endpoint_id FROM webhook_deliveries WHERE id = \(bind: deliveryID)) AND status = 'pending'
                    """
                ).run()
            }
        }
    }

    public func events(organizationID: String, mode: Mode, limit: Int, startingAfter: String?) async throws -> [OutboxEvent] {
        try await self.pool.read { db in
            var query = SQLQueryString("SELECT * FROM events WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)")
            if let startingAfter {
                guard
                    let cursor = try await db.raw(
                        "SELECT created_at FROM events WHERE id = \(bind: startingAfter) AND organization_id = \(bind: organizationID)"
                    ).first()
                else {
                    throw CancelflowError.invalid("cursor_not_found", "startingAfter names no event.", param: "startingAfter")
                }
                Self.appendAfterCursor(&query, createdAt: try cursor.decode(column: "created_at", as: Int64.self), id: startingAfter)
            }
            Self.appendNewestFirst(&query, limit: limit)
            return try await db.raw(query).all().map(Self.decodeEvent)
        }
    }

    public func event(organizationID: String, mode: Mode, id: String) async throws -> OutboxEvent? {
        try await self.pool.read { db in
            try await db.raw(
                "SELECT * FROM events WHERE id = \(bind: id) AND organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)"
            ).first().map(Self.decodeEvent)
        }
    }

    public func deliveries(eventID: String) async throws -> [DeliveryRecord] {
        try await self.pool.read { db in
            let rows = try await db.raw("SELECT * FROM webhook_deliveries WHERE event_id = \(bind: eventID) ORDER BY created_at, id").all()
            var records: [DeliveryRecord] = []
            for row in rows {
                let id = try row.decode(column: "id", as: String.self)
                let attempts = try await db.raw(
                    "SELECT * FROM webhook_attempts WHERE delivery_id = \(bind: id) ORDER BY attempted_at, id"
                ).all().map { attempt in
                    DeliveryAttempt(
                        attemptedAt: Millis.date(try attempt.decode(column: "attempted_at", as: Int64.self)),
                        statusCode: try attempt.decode(column: "status_code", as: Int64?.self).map { Int($0) },
                        latencyMillis: Int(try attempt.decode(column: "latency_ms", as: Int64.self)),
                        responseExcerpt: try attempt.decode(column: "response_excerpt", as: String?.self),
                        error: try attempt.decode(column: "error", as: String?.self)
                    )
                }
                records.append(
                    DeliveryRecord(
                        id: id,
                        endpointID: try row.decode(column: "endpoint_id", as: String.self),
                        status: try row.decode(column: "status", as: String.self),
                        attempts: attempts,
                        nextAttemptAt: try row.decode(column: "next_attempt_at", as: Int64?.self).map(Millis.date)
                    )
                )
            }
            return records
        }
    }

    public func resend(organizationID: String, mode: Mode, eventID: String, now: Date) async throws -> Bool {
        try await self.pool.transaction { db in
            guard
                let row = try await db.raw(
                    "SELECT type FROM events WHERE id = \(bind: eventID) AND organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)"
                ).first()
            else { return false }
            let type = try row.decode(column: "type", as: String.self)
            let endpoints = try await db.raw(
                """
                SELECT id, events FROM webhook_endpoints
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue) AND disabled_at IS NULL AND deleted_at IS NULL
                """
            ).all()
            for endpoint in endpoints {
                let types = try JSONCoding.decode([String].self, from: endpoint.decode(column: "events", as: String.self))
                let endpointID = try endpoint.decode(column: "id", as: String.self)
                if type == EventType.ping.rawValue {
                    // A ping was for one endpoint: resend it to that one only.
                    let had = try await db.raw(
                        "SELECT id FROM webhook_deliveries WHERE event_id = \(bind: eventID) AND endpoint_id = \(bind: endpointID)"
                    ).first()
                    guard had != nil else { continue }
                } else {
                    guard types.isEmpty || types.contains(type) else { continue }
                }
                try await Self.insertDelivery(eventID: eventID, endpointID: endpointID, at: Millis.from(now), db: db)
            }
            return true
        }
    }

    static func decodeEndpoint(_ row: any SQLRow) throws -> WebhookEndpoint {
        let types = try JSONCoding.decode([String].self, from: row.decode(column: "events", as: String.self))
        return WebhookEndpoint(
            id: try row.decode(column: "id", as: String.self),
            organizationID: try row.decode(column: "organization_id", as: String.self),
            mode: try Self.decodeMode(row.decode(column: "mode", as: String.self)),
            url: try row.decode(column: "url", as: String.self),
            events: types.compactMap(EventType.init(rawValue:)),
            description: try row.decode(column: "description", as: String?.self),
            sealedSecret: Array(Data(base64Encoded: try row.decode(column: "sealed_secret", as: String.self)) ?? Data()),
            sealedPreviousSecret: try row.decode(column: "sealed_previous_secret", as: String?.self).flatMap { Data(base64Encoded: $0) }.map(
                Array.init),
            previousSecretExpiresAt: try row.decode(column: "previous_secret_expires_at", as: Int64?.self).map(Millis.date),
            disabledAt: try row.decode(column: "disabled_at", as: Int64?.self).map(Millis.date),
            createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self))
        )
    }

    static func decodeEvent(_ row: any SQLRow) throws -> OutboxEvent {
        let type = try row.decode(column: "type", as: String.self)
        return OutboxEvent(
            id: try row.decode(column: "id", as: String.self),
            type: EventType(rawValue: type) ?? .ping,
            organizationID: try row.decode(column: "organization_id", as: String.self),
            mode: try Self.decodeMode(row.decode(column: "mode", as: String.self)),
            payload: try row.decode(column: "payload", as: String.self),
            createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self))
        )
    }
}

extension SQLStore {
    /// Deliveries waiting to be made (due now or later), for the metrics.
    public func pendingDeliveryCount() async throws -> Int {
        try await self.pool.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'").first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }
}
