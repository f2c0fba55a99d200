import CancelflowCore
import Foundation
import SQLKit

extension SQLStore: FlowDocumentStore {
    /// The flow's row with its published version's, when it has one.
    static let flowSelect = """
        SELECT f.*, v.version AS v_version, v.document AS v_document, v.published_at AS v_published_at, v.published_by AS v_published_by
        FROM flows f LEFT JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.published_version
        """

    public func flows(organizationID: String) async throws -> [StoredFlow] {
        try await self.pool.read { db in
            try await db.raw(
                """
                \(unsafeRaw: Self.flowSelect)
                WHERE f.organization_id = \(bind: organizationID) AND f.archived_at IS NULL
                ORDER BY CASE WHEN f.default_for IS NULL THEN 0 ELSE 1 END, f.position, f.created_at, f.id
                """
            ).all().map(Self.decodeFlow)
        }
    }

    public func publishedFlows(organizationID: String) async throws -> [StoredFlow] {
        try await self.flowLists.cached(organizationID) { try await self.flows(organizationID: organizationID) } ?? []
    }

    public func flowVersion(id: String, organizationID: String, version: Int) async throws -> FlowVersion? {
        try await self.pool.read { db in
            try await db.raw(
                """
                SELECT v.* FROM flow_versions v JOIN flows f ON f.id = v.flow_id
                WHERE v.flow_id = \(bind: id) AND f.organization_id = \(bind: organizationID) AND v.version = \(bind: Int64(version))
                """
            ).first().map(Self.decodeVersion)
        }
    }

    public func flow(id: String, organizationID: String) async throws -> StoredFlow? {
        try await self.pool.read { db in
            try await Self.flow(id: id, organizationID: organizationID, db: db)
        }
    }

    static func flow(id: String, organizationID: String, db: any SQLDatabase) async throws -> StoredFlow? {
        try await db.raw("\(unsafeRaw: Self.flowSelect) WHERE f.id = \(bind: id) AND f.organization_id = \(bind: organizationID)").first()
            .map(Self.decodeFlow)
    }

    public func createFlow(_ flow: StoredFlow, now: Date) async throws -> StoredFlow {
        defer { self.flowLists.invalidate() }
        let draft = try flow.draft.map(JSONCoding.encode)
        let published = try flow.published.map { try JSONCoding.encode($0.document) }
        let nowMillis = Millis.from(now)
        return try await self.pool.transaction { db in
            let next =
                try await db.raw(
                    """
                    SELECT COALESCE(MAX(position), -1) + 1 AS next FROM flows
                    WHERE organization_id = \(bind: flow.organizationID) AND archived_at IS NULL AND default_for IS NULL
                    """
                ).first()?.decode(column: "next", as: Int64.self) ?? 0
            let position = flow.isDefault ? 0 : next
            let inserted = try await db.raw(
                """
                INSERT INTO flows (id, organization_id, default_for, position, draft, draft_updated_at, published_version, created_at, updated_at)
                VALUES (\(bind: flow.id), \(bind: flow.organizationID), \(bind: flow.isDefault ? flow.organizationID : nil), \(bind: position),
                    \(bind: draft), \(bind: draft == nil ? nil : nowMillis), \(bind: published == nil ? nil : Int64(1)),
                    \(bind: nowMillis), \(bind: nowMillis))
                ON CONFLICT (default_for) DO NOTHING
                RETURNING id
                """
            ).first()
            guard inserted != nil else {
                // Another instance created the organization's default flow first: that one it is.
                let existing = try await db.raw(
                    "\(unsafeRaw: Self.flowSelect) WHERE f.default_for = \(bind: flow.organizationID)"
                ).first().map(Self.decodeFlow)
                guard let existing else { throw CancelflowError(.conflict, code: "flow_conflict", message: "Try again.") }
                return existing
            }
            if let published, let version = flow.published {
                try await db.raw(
                    """
                    INSERT INTO flow_versions (flow_id, version, document, published_at, published_by)
                    VALUES (\(bind: flow.id), 1, \(bind: published), \(bind: nowMillis), \(bind: version.publishedBy))
                    """
                ).run()
            }
            guard let stored = try await Self.flow(id: flow.id, organizationID: flow.organizationID, db: db) else {
                throw CancelflowError(.internal, code: "flow_missing", message: "The new flow could not be read back.")
            }
            return stored
        }
    }

    public func saveFlowDraft(id: String, organizationID: String, draft: FlowDocument?, now: Date) async throws -> Bool {
        defer { self.flowLists.invalidate() }
        let text = try draft.map(JSONCoding.encode)
        let nowMillis = Millis.from(now)
        return try await self.pool.write { db in
            try await !db.raw(
                """
                UPDATE flows SET draft = \(bind: text), draft_updated_at = \(bind: text == nil ? nil : nowMillis), updated_at = \(bind: nowMillis)
                WHERE id = \(bind: id) AND organization_id = \(bind: organizationID) AND archived_at IS NULL
                RETURNING id
                """
            ).all().isEmpty
        }
    }

    public func publishFlow(
        id: String, organizationID: String, document: FlowDocument, clearingDraftSavedAt: Date?, by: String?, now: Date
    ) async throws -> FlowVersion? {
        let savedAt = clearingDraftSavedAt.map(Millis.from) ?? -1
        defer { self.flowLists.invalidate() }
        let text = try JSONCoding.encode(document)
        let nowMillis = Millis.from(now)
        return try await self.pool.transaction { db in
            // The row update takes the row's lock first, so concurrent publishes of one flow get
            // successive versions rather than colliding on the same one.
            let row = try await db.raw(
                """
                UPDATE flows SET published_version = COALESCE(published_version, 0) + 1, updated_at = \(bind: nowMillis),
                    draft = CASE WHEN draft_updated_at = \(bind: savedAt) THEN NULL ELSE draft END,
                    draft_updated_at = CASE WHEN draft_updated_at = \(bind: savedAt) THEN NULL ELSE draft_updated_at END
                WHERE id = \(bind: id) AND organization_id = \(bind: organizationID) AND archived_at IS NULL
                RETURNING published_version
                """
            ).first()
            guard let version = try row?.decode(column: "published_version", as: Int64.self) else { return nil }
            try await db.raw(
                """
                INSERT INTO flow_versions (flow_id, version, document, published_at, published_by)
                VALUES (\(bind: id), \(bind: version), \(bind: text), \(bind: nowMillis), \(bind: by))
                """
            ).run()
            return FlowVersion(version: Int(version), document: document, publishedAt: Millis.date(nowMillis), publishedBy: by)
        }
    }

    public func flowVersions(id: String, organizationID: String) async throws -> [FlowVersion] {
        try await self.pool.read { db in
            try await db.raw(
                """
                SELECT v.* FROM flow_versions v JOIN flows f ON f.id = v.flow_id
                WHERE v.flow_id = \(bind: id) AND f.organization_id = \(bind: organizationID)
                ORDER BY v.version DESC
                """
            ).all().map(Self.decodeVersion)
        }
    }

    static func decodeVersion(_ row: any SQLRow) throws -> FlowVersion {
        FlowVersion(
            version: Int(try row.decode(column: "version", as: Int64.self)),
            document: try JSONCoding.decode(FlowDocument.self, from: row.decode(column: "document", as: String.self)),
            publishedAt: Millis.date(try row.decode(column: "published_at", as: Int64.self)),
            publishedBy: try row.decode(column: "published_by", as: String?.self))
    }

    public func moveFlow(id: String, organizationID: String, position: Int, now: Date) async throws -> Bool {
        defer { self.flowLists.invalidate() }
        return try await self.pool.transaction { db in
            var ids = try await db.raw(
                """
                SELECT id FROM flows WHERE organization_id = \(bind: organizationID) AND archived_at IS NULL AND default_for IS NULL
                ORDER BY position, created_at, id
                """
            ).all().map { try $0.decode(column: "id", as: String.self) }
            guard let from = ids.firstIndex(of: id) else { return false }
            ids.remove(at: from)
            ids.insert(id, at: min(max(position, 0), ids.count))
            for (index, flowID) in ids.enumerated() {
                try await db.raw(
                    "UPDATE flows SET position = \(bind: Int64(index)), updated_at = \(bind: Millis.from(now)) WHERE id = \(bind: flowID)"
                ).run()
            }
            return true
        }
    }

    public func archiveFlow(id: String, organizationID: String, now: Date) async throws -> Bool {
        defer { self.flowLists.invalidate() }
        return try await self.pool.write { db in
            try await !db.raw(
                """
                UPDATE flows SET archived_at = \(bind: Millis.from(now)), updated_at = \(bind: Millis.from(now))
                WHERE id = \(bind: id) AND organization_id = \(bind: organizationID) AND archived_at IS NULL AND default_for IS NULL
                RETURNING id
                """
            ).all().isEmpty
        }
    }

    static func decodeFlow(_ row: any SQLRow) throws -> StoredFlow {
        var published: FlowVersion?
        if let version = try row.decode(column: "v_version", as: Int64?.self), let document = try row.decode(column: "v_document", as: String?.self) {
            published = FlowVersion(
                version: Int(version), document: try JSONCoding.decode(FlowDocument.self, from: document),
                publishedAt: Millis.date(try row.decode(column: "v_published_at", as: Int64.self)),
                publishedBy: try row.decode(column: "v_published_by", as: String?.self))
        }
        return StoredFlow(
            id: try row.decode(column: "id", as: String.self),
            organizationID: try row.decode(column: "organization_id", as: String.self),
            isDefault: try row.decode(column: "default_for", as: String?.self) != nil,
            position: Int(try row.decode(column: "position", as: Int64.self)),
            draft: try row.decode(column: "draft", as: String?.self).map { try JSONCoding.decode(FlowDocument.self, from: $0) },
            draftUpdatedAt: try row.decode(column: "draft_updated_at", as: Int64?.self).map(Millis.date),
            published: published,
            archivedAt: try row.decode(column: "archived_at", as: Int64?.self).map(Millis.date),
            createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Millis.date(try row.decode(column: "updated_at", as: Int64.self)))
    }
}
