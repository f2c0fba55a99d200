import CancelflowCore
import Foundation
import SQLKit

// MARK: - Cancel Links

extension SQLStore: CancelLinkStore {
    public func insertLink(_ link: CancelLink, tokenHash: String, events: [OutboxEvent], completing: IdempotencyCompletion?) async throws {
        let metadata = try JSONCoding.encode(link.metadata)
        // NULL when empty, as nearly every link's is: nothing to decode on the hot paths.
        let attributes = link.attributes.isEmpty ? nil : try JSONCoding.encode(link.attributes)
        let insert: SQLQueryString = """
            INSERT INTO cancel_links (id, organization_id, mode, token_hash, customer_id, subscription_id, single_use, status,
                expires_at, created_at, return_url, metadata, exchange_count, minted_by_user_id, attributes, locale)
            VALUES (\(bind: link.id), \(bind: link.organizationID), \(bind: link.mode.rawValue), \(bind: tokenHash),
                \(bind: link.customerID), \(bind: link.subscriptionID), \(bind: link.singleUse), \(bind: link.storedStatus.rawValue),
                \(bind: Millis.from(link.expiresAt)), \(bind: Millis.from(link.createdAt)), \(bind: link.returnURL),
                \(bind: metadata), 0, \(bind: link.mintedByUserID), \(bind: attributes), \(bind: link.locale))
            """
        // Most organizations have no endpoint wanting `cancel_link.created`: then the link is one
        // statement, atomic on its own, which PostgreSQL commits in one round trip instead of
        // four (BEGIN, INSERT, the endpoints, COMMIT).
        if completing == nil, self.outboxIsSurelyEmpty(events) {
            try await self.pool.run(insert)
            return
        }
        try await self.pool.transaction { db in
            try await db.raw(insert).run()
            try await self.writeOutbox(events, db: db)
            if let completing {
                try await Self.completeIdempotencyKey(completing, db: db)
            }
        }
    }

    public func link(organizationID: String, mode: Mode, id: String) async throws -> CancelLink? {
        try await self.pool.read { db in
            try await db.raw(
                """
                SELECT * FROM cancel_links
                WHERE id = \(bind: id) AND organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)
                """
            ).first().map(Self.decodeLink)
        }
    }

    public func link(tokenHash: String) async throws -> CancelLink? {
        try await self.pool.read { db in
            try await db.raw("SELECT * FROM cancel_links WHERE token_hash = \(bind: tokenHash)").first().map(Self.decodeLink)
        }
    }

    public func links(
        organizationID: String, mode: Mode, customerID: String?, limit: Int, startingAfter: String?
    ) async throws
        -> [CancelLink]
    {
        try await self.pool.read { db in
            var query = SQLQueryString(
                "SELECT * FROM cancel_links WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)"
            )
            if let customerID {
                query.appendInterpolation(unsafeRaw: " AND customer_id = ")
                query.appendInterpolation(bind: customerID)
            }
            if let startingAfter {
                let cursor = try await db.raw(
                    """
                    SELECT created_at FROM cancel_links
                    WHERE id = \(bind: startingAfter) AND organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)
                    """
                ).first()
                guard let cursor else {
                    throw CancelflowError.invalid("cursor_not_found", "startingAfter names no cancel session.", param: "startingAfter")
                }
                Self.appendAfterCursor(&query, createdAt: try cursor.decode(column: "created_at", as: Int64.self), id: startingAfter)
            }
            Self.appendNewestFirst(&query, limit: limit)
            return try await db.raw(query).all().map(Self.decodeLink)
        }
    }

    public func revokeLink(
        organizationID: String, mode: Mode, id: String, now: Date, events: @escaping @Sendable (CancelLink) -> [OutboxEvent]
    )
        async throws -> CancelLink?
    {
        let nowMillis = Millis.from(now)
        return try await self.pool.transaction { db in
            // One conditional update: a link being exchanged at this instant is either revoked
            // first or consumed first, never both.
            let revoked = try await db.raw(
                """
                UPDATE cancel_links SET status = 'revoked', revoked_at = \(bind: nowMillis)
                WHERE id = \(bind: id) AND organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)
                    AND status = 'active' AND expires_at > \(bind: nowMillis)
                RETURNING *
                """
            ).first()
            if let revoked {
                let link = try Self.decodeLink(revoked)
                // Sessions already opened from a (reusable) link end with it.
                try await db.raw(
                    """
                    UPDATE flow_sessions SET expires_at = \(bind: nowMillis)
                    WHERE link_id = \(bind: link.id) AND outcome IS NULL AND expires_at > \(bind: nowMillis)
                    """
                ).run()
                try await self.writeOutbox(events(link), db: db)
                return link
            }
            return try await db.raw(
                """
                SELECT * FROM cancel_links
                WHERE id = \(bind: id) AND organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)
                """
            ).first().map(Self.decodeLink)
        }
    }

    /// Keyset pagination, newest first: rows strictly after the cursor row in
    /// `(created_at DESC, id DESC)` order, which the `…_newest` indexes serve without a scan.
    static func appendAfterCursor(_ query: inout SQLQueryString, createdAt: Int64, id: String) {
        query.appendInterpolation(unsafeRaw: " AND (created_at < ")
        query.appendInterpolation(bind: createdAt)
        query.appendInterpolation(unsafeRaw: " OR (created_at = ")
        query.appendInterpolation(bind: createdAt)
        query.appendInterpolation(unsafeRaw: " AND id < ")
        query.appendInterpolation(bind: id)
        query.appendInterpolation(unsafeRaw: "))")
    }

    static func appendNewestFirst(_ query: inout SQLQueryString, limit: Int) {
        query.appendInterpolation(unsafeRaw: " ORDER BY created_at DESC, id DESC LIMIT ")
        query.appendInterpolation(bind: limit)
    }

    static func decodeLink(_ row: any SQLRow) throws -> CancelLink {
        let status = try row.decode(column: "status", as: String.self)
        guard let status = LinkStatus(rawValue: status) else { throw StoreError.corrupt("unknown link status") }
        var link = CancelLink(
            id: try row.decode(column: "id", as: String.self),
            organizationID: try row.decode(column: "organization_id", as: String.self),
            mode: try Self.decodeMode(row.decode(column: "mode", as: String.self)),
            customerID: try row.decode(column: "customer_id", as: String.self),
            subscriptionID: try row.decode(column: "subscription_id", as: String?.self),
            singleUse: try row.decode(column: "single_use", as: Bool.self),
            storedStatus: status,
            expiresAt: Millis.date(try row.decode(column: "expires_at", as: Int64.self)),
            createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self)),
            consumedAt: try row.decode(column: "consumed_at", as: Int64?.self).map(Millis.date),
            revokedAt: try row.decode(column: "revoked_at", as: Int64?.self).map(Millis.date),
            returnURL: try row.decode(column: "return_url", as: String?.self),
            metadata: try JSONCoding.decode([String: String].self, from: row.decode(column: "metadata", as: String.self)),
            exchangeCount: Int(try row.decode(column: "exchange_count", as: Int64.self)),
            mintedByUserID: try row.decode(column: "minted_by_user_id", as: String?.self)
        )
        link.attributes = try row.decode(column: "attributes", as: String?.self).map { try JSONCoding.decode([String: String].self, from: $0) } ?? [:]
        link.locale = try row.decode(column: "locale", as: String?.self)
        return link
    }
}
