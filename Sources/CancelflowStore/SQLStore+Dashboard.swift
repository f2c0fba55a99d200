import CancelflowCore
import Foundation
import SQLKit

extension SQLStore: DashboardStore {
    public func dashboardUser(email: String) async throws -> DashboardUser? {
        try await self.pool.read { db in
            try await db.raw("SELECT * FROM dashboard_users WHERE email = \(bind: email)").first().map(Self.decodeDashboardUser)
        }
    }

    public func dashboardUser(id: String) async throws -> DashboardUser? {
        try await self.pool.read { db in
            try await db.raw("SELECT * FROM dashboard_users WHERE id = \(bind: id)").first().map(Self.decodeDashboardUser)
        }
    }

    public func dashboardUsers(organizationID: String) async throws -> [DashboardUser] {
        try await self.pool.read { db in
            try await db.raw(
                "SELECT * FROM dashboard_users WHERE organization_id = \(bind: organizationID) ORDER BY created_at, id"
            ).all().map(Self.decodeDashboardUser)
        }
    }

    public func insertSetupLink(_ link: DashboardSetupLink, tokenHash: String) async throws {
        try await self.pool.write { db in
            try await db.raw(
                """
                INSERT INTO dashboard_setup_links (token_hash, organization_id, user_id, email, role, purpose, clears_totp, created_at, expires_at)
                VALUES (\(bind: tokenHash), \(bind: link.organizationID), \(bind: link.userID), \(bind: link.email), \(bind: link.role.rawValue),
                    \(bind: link.purpose.rawValue), \(bind: link.clearsTOTP), \(bind: Millis.from(link.createdAt)),
                    \(bind: Millis.from(link.expiresAt)))
                """
            ).run()
        }
    }

    public func setupLink(tokenHash: String, now: Date) async throws -> DashboardSetupLink? {
        try await self.pool.read { db in
            try await db.raw(
                """
                SELECT * FROM dashboard_setup_links
                WHERE token_hash = \(bind: tokenHash) AND used_at IS NULL AND expires_at > \(bind: Millis.from(now))
                """
            ).first().map(Self.decodeSetupLink)
        }
    }

    public func redeemSetupLink(tokenHash: String, now: Date, newUser: DashboardUser, passwordHash: String) async throws -> DashboardUser? {
        let nowMillis = Millis.from(now)
        do {
            return try await self.pool.transaction { db in
                // One conditional update uses the link up: of two submissions, one wins.
                guard
                    let row = try await db.raw(
                        """
                        UPDATE dashboard_setup_links SET used_at = \(bind: nowMillis)
                        WHERE token_hash = \(bind: tokenHash) AND used_at IS NULL AND expires_at > \(bind: nowMillis)
                        RETURNING *
                        """
                    ).first()
                else { return nil }
                let link = try Self.decodeSetupLink(row)
                if link.purpose == .setup {
                    try await db.raw(
                        """
                        INSERT INTO dashboard_users (id, organization_id, email, name, role, password_hash, created_at, updated_at)
                        VALUES (\(bind: newUser.id), \(bind: link.organizationID), \(bind: newUser.email), \(bind: newUser.name),
                            \(bind: link.role.rawValue), \(bind: passwordHash), \(bind: nowMillis), \(bind: nowMillis))
                        """
                    ).run()
                } else {
                    guard let userID = link.userID else { throw StoreError.corrupt("a reset link without an account") }
                    let clear = link.clearsTOTP
                    try await db.raw(
                        """
                        UPDATE dashboard_users SET password_hash = \(bind: passwordHash), updated_at = \(bind: nowMillis),
                            totp_sealed = CASE WHEN \(bind: clear) THEN NULL ELSE totp_sealed END
                        WHERE id = \(bind: userID)
                        """
                    ).run()
                    // Any session the account had may be the reason for the reset, and any other
                    // reset link still out there is one too many.
                    try await db.raw("DELETE FROM dashboard_sessions WHERE user_id = \(bind: userID)").run()
                    try await db.raw(
                        "UPDATE dashboard_setup_links SET used_at = \(bind: nowMillis) WHERE user_id = \(bind: userID) AND used_at IS NULL"
                    ).run()
                }
                let id = link.userID ?? newUser.id
                return try await db.raw("SELECT * FROM dashboard_users WHERE id = \(bind: id)").first().map(Self.decodeDashboardUser)
            }
        } catch  where isUniqueViolation(error) {
            throw CancelflowError(.conflict, code: "email_taken", message: "An account with this email address already exists.", param: "email")
        }
    }

    public func insertDashboardSession(_ session: DashboardSession, keyHash: String) async throws {
        try await self.pool.write { db in
            try await db.raw(
                """
                INSERT INTO dashboard_sessions (id, key_hash, user_id, stage, created_at, last_seen_at, expires_at)
                VALUES (\(bind: session.id), \(bind: keyHash), \(bind: session.userID), \(bind: session.stage.rawValue),
                    \(bind: Millis.from(session.createdAt)), \(bind: Millis.from(session.lastSeenAt)), \(bind: Millis.from(session.expiresAt)))
                """
            ).run()
        }
    }

    public func dashboardSession(keyHash: String) async throws -> (DashboardSession, DashboardUser)? {
        try await self.pool.read { db in
            guard
                let row = try await db.raw(
                    """
                    SELECT s.id AS session_id, s.stage, s.created_at AS session_created_at, s.last_seen_at, s.expires_at, u.*
                    FROM dashboard_sessions s JOIN dashboard_users u ON u.id = s.user_id
                    WHERE s.key_hash = \(bind: keyHash)
                    """
                ).first()
            else { return nil }
            guard let stage = DashboardSession.Stage(rawValue: try row.decode(column: "stage", as: String.self)) else {
                throw StoreError.corrupt("unknown session stage")
            }
            let user = try Self.decodeDashboardUser(row)
            let session = DashboardSession(
                id: try row.decode(column: "session_id", as: String.self), userID: user.id, stage: stage,
                createdAt: Millis.date(try row.decode(column: "session_created_at", as: Int64.self)),
                lastSeenAt: Millis.date(try row.decode(column: "last_seen_at", as: Int64.self)),
                expiresAt: Millis.date(try row.decode(column: "expires_at", as: Int64.self)))
            return (session, user)
        }
    }

    public func touchDashboardSession(id: String, now: Date) async throws {
        try await self.pool.write { db in
            try await db.raw("UPDATE dashboard_sessions SET last_seen_at = \(bind: Millis.from(now)) WHERE id = \(bind: id)").run()
        }
    }

    public func promoteDashboardSession(id: String, newKeyHash: String, now: Date, expiresAt: Date) async throws -> Bool {
        try await self.pool.write { db in
            let rows = try await db.raw(
                """
                UPDATE dashboard_sessions SET key_hash = \(bind: newKeyHash), stage = 'full', last_seen_at = \(bind: Millis.from(now)),
                    expires_at = \(bind: Millis.from(expiresAt))
                WHERE id = \(bind: id) AND stage = 'code'
                RETURNING id
                """
            ).all()
            return !rows.isEmpty
        }
    }

    public func deleteDashboardSession(id: String) async throws {
        try await self.pool.write { db in
            try await db.raw("DELETE FROM dashboard_sessions WHERE id = \(bind: id)").run()
        }
    }

    public func deleteDashboardSessions(userID: String) async throws {
        try await self.pool.write { db in
            try await db.raw("DELETE FROM dashboard_sessions WHERE user_id = \(bind: userID)").run()
        }
    }

    public func recordTOTPStep(userID: String, step: Int64) async throws -> Bool {
        try await self.pool.write { db in
            let rows = try await db.raw(
                """
                UPDATE dashboard_users SET totp_last_step = \(bind: step)
                WHERE id = \(bind: userID) AND (totp_last_step IS NULL OR totp_last_step < \(bind: step))
                RETURNING id
                """
            ).all()
            return !rows.isEmpty
        }
    }

    public func setPasswordHash(userID: String, hash: String) async throws {
        try await self.updateUser(userID, "password_hash = \(bind: hash)")
    }

    public func setTOTP(userID: String, sealed: [UInt8]?) async throws {
        let text = sealed.map { Data($0).base64EncodedString() }
        try await self.updateUser(userID, "totp_sealed = \(bind: text)")
    }

    public func updateMember(userID: String, role: DashboardRole, disabledAt: Date?, keepAnOwner: Bool) async throws -> Bool {
        let engine = self.pool.engine
        let now = Millis.from(Date())
        return try await self.pool.transaction { db in
            if keepAnOwner {
                // SQLite's write transaction already serialises this; PostgreSQL locks the
                // organization's owner rows, so a concurrent demotion waits and then counts again.
                let lock: SQLQueryString = engine == .postgres ? " FOR UPDATE" : ""
                let owners = try await db.raw(
                    """
                    SELECT id, disabled_at FROM dashboard_users
                    WHERE organization_id = (SELECT organization_id FROM dashboard_users WHERE id = \(bind: userID)) AND role = 'owner'
                    """ + lock
                ).all()
                let others = try owners.filter {
                    try $0.decode(column: "id", as: String.self) != userID && $0.decode(column: "disabled_at", as: Int64?.self) == nil
                }
                guard !others.isEmpty else { return false }
            }
            try await db.raw(
                """
                UPDATE dashboard_users SET role = \(bind: role.rawValue), disabled_at = \(bind: disabledAt.map(Millis.from)), updated_at = \(bind: now)
                WHERE id = \(bind: userID)
                """
            ).run()
            try await db.raw("DELETE FROM dashboard_sessions WHERE user_id = \(bind: userID)").run()
            return true
        }
    }

    public func expireSetupLinks(userID: String, now: Date) async throws {
        try await self.pool.write { db in
            try await db.raw(
                "UPDATE dashboard_setup_links SET used_at = \(bind: Millis.from(now)) WHERE user_id = \(bind: userID) AND used_at IS NULL"
            ).run()
        }
    }

    private func updateUser(_ userID: String, _ assignment: SQLQueryString) async throws {
        let now = Millis.from(Date())
        try await self.pool.write { db in
            try await db.raw("UPDATE dashboard_users SET " + assignment + ", updated_at = \(bind: now) WHERE id = \(bind: userID)").run()
        }
    }

    static func decodeDashboardUser(_ row: any SQLRow) throws -> DashboardUser {
        guard let role = DashboardRole(rawValue: try row.decode(column: "role", as: String.self)) else {
            throw StoreError.corrupt("unknown dashboard role")
        }
        let sealed = try row.decode(column: "totp_sealed", as: String?.self)
        return DashboardUser(
            id: try row.decode(column: "id", as: String.self),
            organizationID: try row.decode(column: "organization_id", as: String.self),
            email: try row.decode(column: "email", as: String.self),
            name: try row.decode(column: "name", as: String?.self),
            role: role,
            passwordHash: try row.decode(column: "password_hash", as: String?.self),
            sealedTOTP: try sealed.map { text in
                guard let data = Data(base64Encoded: text) else { throw StoreError.corrupt("a sealed TOTP secret is not base64") }
                return Array(data)
            },
            disabledAt: try row.decode(column: "disabled_at", as: Int64?.self).map(Millis.date),
            createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self))
        )
    }

    static func decodeSetupLink(_ row: any SQLRow) throws -> DashboardSetupLink {
        guard let role = DashboardRole(rawValue: try row.decode(column: "role", as: String.self)),
            let purpose = DashboardSetupLink.Purpose(rawValue: try row.decode(column: "purpose", as: String.self))
        else { throw StoreError.corrupt("unknown set-up link role or purpose") }
        return DashboardSetupLink(
            organizationID: try row.decode(column: "organization_id", as: String.self),
            userID: try row.decode(column: "user_id", as: String?.self),
            email: try row.decode(column: "email", as: String?.self),
            role: role, purpose: purpose,
            clearsTOTP: try row.decode(column: "clears_totp", as: Bool.self),
            createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self)),
            expiresAt: Millis.date(try row.decode(column: "expires_at", as: Int64.self))
        )
    }
}

extension SQLStore: AuditStore {
    public func appendAudit(_ entry: AuditEntry) async throws {
        let detail = try JSONCoding.encode(entry.detail)
        try await self.pool.write { db in
            try await db.raw(
                """
                INSERT INTO audit_log (id, organization_id, mode, actor_user_id, actor_label, action, target_type, target_id, detail, created_at)
                VALUES (\(bind: entry.id), \(bind: entry.organizationID), \(bind: entry.mode?.rawValue), \(bind: entry.actorUserID),
                    \(bind: entry.actorLabel), \(bind: entry.action), \(bind: entry.targetType), \(bind: entry.targetID), \(bind: detail),
                    \(bind: Millis.from(entry.createdAt)))
                """
            ).run()
        }
    }

    public func auditEntries(organizationID: String, filter: AuditFilter, limit: Int, before: String?) async throws -> [AuditEntry] {
        try await self.pool.read { db in
            var query: SQLQueryString = "SELECT * FROM audit_log WHERE organization_id = \(bind: organizationID)"
            if let prefix = filter.actionPrefix {
                // A prefix match without LIKE's wildcards: the action names are plain text.
                query = query + " AND substr(action, 1, CAST(\(bind: prefix.unicodeScalars.count) AS INTEGER)) = \(bind: prefix)"
            }
            if let actor = filter.actorUserID { query = query + " AND actor_user_id = \(bind: actor)" }
            if let mode = filter.mode { query = query + " AND (mode = \(bind: mode.rawValue) OR mode IS NULL)" }
            if let before,
                let cursor = try await db.raw(
                    "SELECT created_at FROM audit_log WHERE organization_id = \(bind: organizationID) AND id = \(bind: before)"
                ).first()
            {
                let at = try cursor.decode(column: "created_at", as: Int64.self)
                query = query + " AND (created_at < \(bind: at) OR (created_at = \(bind: at) AND id < \(bind: before)))"
            }
            query = query + " ORDER BY created_at DESC, id DESC LIMIT \(bind: limit)"
            return try await db.raw(query).all().map(Self.decodeAudit)
        }
    }

    static func decodeAudit(_ row: any SQLRow) throws -> AuditEntry {
        AuditEntry(
            id: try row.decode(column: "id", as: String.self),
            organizationID: try row.decode(column: "organization_id", as: String.self),
            mode: try row.decode(column: "mode", as: String?.self).map { try Self.decodeMode($0) },
            actorUserID: try row.decode(column: "actor_user_id", as: String?.self),
            actorLabel: try row.decode(column: "actor_label", as: String.self),
            action: try row.decode(column: "action", as: String.self),
            targetType: try row.decode(column: "target_type", as: String?.self),
            targetID: try row.decode(column: "target_id", as: String?.self),
            detail: try JSONCoding.decode([String: String].self, from: row.decode(column: "detail", as: String.self)),
            createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self))
        )
    }
}
