import CancelflowCore
import Foundation
import SQLKit

/// The one store implementation, over SQLite or PostgreSQL. Every statement binds its values;
/// rows are turned into Core types here and nowhere else.
public struct SQLStore: Sendable {
    /// The pool the store runs on.
    public let pool: any DatabasePool
    /// Organizations by id and host (`StoreCache`); shared by copies of this store.
    let organizations: StoreCache<Organization>
    /// Each organization's and mode's live webhook endpoints, for the outbox; shared by copies.
    let endpoints: StoreCache<[SubscribedEndpoint]>
    /// Each organization's live flows, for choosing a session's flow; shared by copies.
    let flowLists: StoreCache<[StoredFlow]>

    /// Creates a store over a pool; `cacheSeconds` (the API-key cache's lifetime in the service,
    /// 0 here by default) is how long another instance's change to an organization, a webhook
    /// endpoint or a published flow may go unseen.
    public init(pool: any DatabasePool, cacheSeconds: TimeInterval = 0) {
        self.pool = pool
        self.organizations = StoreCache(lifetime: cacheSeconds)
        self.endpoints = StoreCache(lifetime: cacheSeconds)
        self.flowLists = StoreCache(lifetime: cacheSeconds)
    }
}

// MARK: - Organizations and credentials

extension SQLStore: OrganizationStore {
    public func createOrganization(_ organization: Organization, credentials: [NewCredential], onlyIfFirst: Bool) async throws -> Bool {
        let allowlist = try JSONCoding.encode(organization.returnURLAllowlist)
        let engine = self.pool.engine
        do {
            return try await self.pool.transaction { db in
                if onlyIfFirst {
                    // SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL needs a lock
                    // so that two instances starting on an empty database create one organization.
                    if engine == .postgres {
                        try await db.raw("SELECT pg_advisory_xact_lock(7452020)").run()
                    }
                    let count = try await db.raw("SELECT COUNT(*) AS n FROM organizations").first()?.decode(column: "n", as: Int.self)
                    if count != 0 { return false }
                }
                try await db.raw(
                    """
                    INSERT INTO organizations (id, name, subdomain, custom_domain, custom_domain_verified, billing_provider,
                        session_link_expiration_seconds, return_url_allowlist, created_at)
                    VALUES (\(bind: organization.id), \(bind: organization.name), \(bind: organization.subdomain),
                        \(bind: organization.customDomain), \(bind: organization.customDomainVerified),
                        \(bind: organization.billingProvider.rawValue), \(bind: Int64(organization.sessionLinkExpiration)),
                        \(bind: allowlist), \(bind: Millis.from(organization.createdAt)))
                    """
                ).run()
                for credential in credentials {
                    try await db.raw(
                        """
                        INSERT INTO app_credentials (app_id, organization_id, mode)
                        VALUES (\(bind: credential.appID), \(bind: organization.id), \(bind: credential.mode.rawValue))
                        """
                    ).run()
                    try await db.raw(
                        """
                        INSERT INTO api_keys (id, app_id, key_hash, key_hint, created_at, expires_at)
                        VALUES (\(bind: credential.keyID), \(bind: credential.appID), \(bind: credential.keyHash),
                            \(bind: credential.keyHint), \(bind: Millis.from(organization.createdAt)), NULL)
                        """
                    ).run()
                }
                return true
            }
        } catch  where isUniqueViolation(error) {
            throw CancelflowError(
                .conflict,
                code: "organization_conflict",
                message: "The subdomain or custom domain is already taken by another organization."
            )
        }
    }

    public func organization(id: String) async throws -> Organization? {
        try await self.organizations.cached("id:\(id)") {
            try await self.pool.read { db in
                try await db.raw("SELECT * FROM organizations WHERE id = \(bind: id)").first().map(Self.decodeOrganization)
            }
        }
    }

    public func organization(host: DomainPicker.HostOwner) async throws -> Organization? {
        let key: String
        switch host {
        case .service: return nil
        case .customDomain(let domain): key = "domain:\(domain)"
        case .subdomain(let label): key = "subdomain:\(label)"
        }
        return try await self.organizations.cached(key) { try await self.uncachedOrganization(host: host) }
    }

    func uncachedOrganization(host: DomainPicker.HostOwner) async throws -> Organization? {
        try await self.pool.read { db in
            switch host {
            case .service:
                return nil
            case .customDomain(let domain):
                return try await db.raw(
                    "SELECT * FROM organizations WHERE custom_domain = \(bind: domain) AND custom_domain_verified = \(bind: true)"
                ).first().map(Self.decodeOrganization)
            case .subdomain(let label):
                return try await db.raw("SELECT * FROM organizations WHERE subdomain = \(bind: label)").first().map(Self.decodeOrganization)
            }
        }
    }

    public func organizationCount() async throws -> Int {
        try await self.pool.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM organizations").first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }

    public func setCustomDomainVerified(organizationID: String, verified: Bool) async throws -> Bool {
        defer { self.organizations.invalidate() }
        return try await self.pool.write { db in
            let rows = try await db.raw(
                """
                UPDATE organizations SET custom_domain_verified = \(bind: verified)
                WHERE id = \(bind: organizationID) AND custom_domain IS NOT NULL RETURNING id
                """
            ).all()
            return !rows.isEmpty
        }
    }

    public func credentials(appID: String, now: Date) async throws -> CredentialRecord? {
        let nowMillis = Millis.from(now)
        return try await self.pool.read { db in
            let rows = try await db.raw(
                """
                SELECT a.organization_id, a.mode, k.id AS key_id, k.key_hash, k.expires_at
                FROM app_credentials a
                LEFT JOIN api_keys k ON k.app_id = a.app_id AND (k.expires_at IS NULL OR k.expires_at > \(bind: nowMillis))
                WHERE a.app_id = \(bind: appID)
                """
            ).all()
            guard let first = rows.first else { return nil }
            let organizationID = try first.decode(column: "organization_id", as: String.self)
            let mode = try Self.decodeMode(first.decode(column: "mode", as: String.self))
            var keys: [StoredAPIKey] = []
            for row in rows {
                guard let id = try row.decode(column: "key_id", as: String?.self) else { continue }
                keys.append(
                    StoredAPIKey(
                        id: id,
                        hash: try row.decode(column: "key_hash", as: String.self),
                        expiresAt: try row.decode(column: "expires_at", as: Int64?.self).map(Millis.date)
                    )
                )
            }
            return CredentialRecord(organizationID: organizationID, mode: mode, keys: keys)
        }
    }

    public func appID(organizationID: String, mode: Mode) async throws -> String? {
        try await self.pool.read { db in
            try await db.raw(
                "SELECT app_id FROM app_credentials WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)"
            ).first()?.decode(column: "app_id", as: String.self)
        }
    }

    public func rotateKey(
        organizationID: String,
        mode: Mode,
        newKeyID: String,
        newKeyHash: String,
        newKeyHint: String,
        now: Date,
        oldKeysExpireAt: Date?
    ) async throws {
        let expiry = oldKeysExpireAt.map(Millis.from)
        let nowMillis = Millis.from(now)
        try await self.pool.transaction { db in
            guard
                let appID = try await db.raw(
                    "SELECT app_id FROM app_credentials WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)"
                ).first()?.decode(column: "app_id", as: String.self)
            else {
                throw CancelflowError.notFound("organization_not_found", "No organization with that id.")
            }
            // Older keys end at the grace deadline, or earlier if they were already due to.
            if let expiry {
                try await db.raw(
                    """
                    UPDATE api_keys SET expires_at = \(bind: expiry)
                    WHERE app_id = \(bind: appID) AND (expires_at IS NULL OR expires_at > \(bind: expiry))
                    """
                ).run()
            }
            try await db.raw(
                """
                INSERT INTO api_keys (id, app_id, key_hash, key_hint, created_at, expires_at)
                VALUES (\(bind: newKeyID), \(bind: appID), \(bind: newKeyHash), \(bind: newKeyHint), \(bind: nowMillis), NULL)
                """
            ).run()
        }
    }

    public func apiKeys(organizationID: String, mode: Mode, since: Date) async throws -> [APIKeyInfo] {
        try await self.pool.read { db in
            try await db.raw(
                """
                SELECT k.id, k.key_hint, k.created_at, k.expires_at FROM api_keys k
                JOIN app_credentials a ON a.app_id = k.app_id
                WHERE a.organization_id = \(bind: organizationID) AND a.mode = \(bind: mode.rawValue)
                    AND (k.expires_at IS NULL OR k.expires_at > \(bind: Millis.from(since)))
                ORDER BY k.created_at DESC, k.id DESC
                """
            ).all().map { row in
                APIKeyInfo(
                    id: try row.decode(column: "id", as: String.self), hint: try row.decode(column: "key_hint", as: String.self),
                    createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self)),
                    expiresAt: try row.decode(column: "expires_at", as: Int64?.self).map(Millis.date))
            }
        }
    }

    public func revokeKey(organizationID: String, mode: Mode, keyID: String, now: Date) async throws -> Bool {
        let nowMillis = Millis.from(now)
        return try await self.pool.write { db in
            let rows = try await db.raw(
                """
                UPDATE api_keys SET expires_at = \(bind: nowMillis)
                WHERE id = \(bind: keyID) AND (expires_at IS NULL OR expires_at > \(bind: nowMillis))
                    AND app_id IN (SELECT app_id FROM app_credentials
                        WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue))
                RETURNING id
                """
            ).all()
            return !rows.isEmpty
        }
    }

    public func updateOrganization(_ organization: Organization, flowSettings: FlowSettings?, now: Date) async throws {
        let allowlist = try JSONCoding.encode(organization.returnURLAllowlist)
        defer {
            self.organizations.invalidate()
            self.flowLists.invalidate()
        }
        do {
            try await self.pool.transaction { db in
                try await db.raw(
                    """
                    UPDATE organizations SET name = \(bind: organization.name), subdomain = \(bind: organization.subdomain),
                        custom_domain = \(bind: organization.customDomain), custom_domain_verified = \(bind: organization.customDomainVerified),
                        session_link_expiration_seconds = \(bind: Int64(organization.sessionLinkExpiration)),
                        return_url_allowlist = \(bind: allowlist)
                    WHERE id = \(bind: organization.id)
                    """
                ).run()
                if let flowSettings {
                    try await Self.writeFlowSettings(organizationID: organization.id, flowSettings, now: now, db: db)
                }
            }
        } catch  where isUniqueViolation(error) {
            throw CancelflowError(
                .conflict, code: "organization_conflict", message: "The subdomain or custom domain is already taken by another organization.")
        }
    }

    static func decodeOrganization(_ row: any SQLRow) throws -> Organization {
        let provider = try row.decode(column: "billing_provider", as: String.self)
        return Organization(
            id: try row.decode(column: "id", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            subdomain: try row.decode(column: "subdomain", as: String?.self),
            customDomain: try row.decode(column: "custom_domain", as: String?.self),
            customDomainVerified: try row.decode(column: "custom_domain_verified", as: Bool.self),
            billingProvider: BillingProviderKind(rawValue: provider) ?? .builtin,
            sessionLinkExpiration: TimeInterval(try row.decode(column: "session_link_expiration_seconds", as: Int64.self)),
            returnURLAllowlist: try JSONCoding.decode([String].self, from: row.decode(column: "return_url_allowlist", as: String.self)),
            createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self))
        )
    }

    static func decodeMode(_ text: String) throws -> Mode {
        guard let mode = Mode(rawValue: text) else { throw StoreError.corrupt("unknown mode \(text)") }
        return mode
    }
}

/// A row the store cannot turn into a Core value.
public enum StoreError: Error, CustomStringConvertible {
    case corrupt(String)
    /// The pool was shut down.
    case closed

    public var description: String {
        switch self {
        case .closed: "The database connection is closed."
        case .corrupt(let detail): "Stored data is not in the expected shape: \(detail)."
        }
    }
}

/// JSON for the few columns that hold a small list or map.
enum JSONCoding {
    static func encode<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from text: String) throws -> Value {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
