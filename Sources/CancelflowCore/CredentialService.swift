import Foundation

/// Creates organizations with their key pairs, rotates keys, and checks the credentials a request
/// presents.
public struct CredentialService: Sendable {
    /// The longest header value accepted for `x-ck-app` / `x-ck-api-key`; longer ones are refused
    /// before any work is done.
    public static let maximumHeaderLength = 128
    /// The longest rotation grace period (PRODUCT.md: now … 7 days).
    public static let maximumGrace: TimeInterval = 7 * 24 * 3600

    let store: any OrganizationStore
    let time: any TimeSource
    let cache: CredentialCache

    /// Creates the service; without a cache every check reads the database.
    public init(store: any OrganizationStore, time: any TimeSource, cache: CredentialCache = CredentialCache(lifetime: 0)) {
        self.store = store
        self.time = time
        self.cache = cache
    }

    /// What `createOrganization` hands back: the organization and, once only, its keys.
    public struct CreatedOrganization: Sendable {
        /// The organization.
        public var organization: Organization
        /// Test-mode pair.
        public var test: IssuedCredentials
        /// Live-mode pair.
        public var live: IssuedCredentials
    }

    /// Creates an organization with a test and a live key pair.
    public func createOrganization(
        name: String,
        subdomain: String? = nil,
        customDomain: String? = nil,
        billingProvider: BillingProviderKind = .builtin,
        returnURLAllowlist: [String] = []
    ) async throws -> CreatedOrganization {
        try await self.createOrganization(
            name: name,
            subdomain: subdomain,
            customDomain: customDomain,
            billingProvider: billingProvider,
            returnURLAllowlist: returnURLAllowlist,
            onlyIfFirst: false
        )!
    }

    /// Creates the first organization of an empty database; nil when one exists already.
    public func createFirstOrganization(name: String) async throws -> CreatedOrganization? {
        try await self.createOrganization(
            name: name, subdomain: nil, customDomain: nil, billingProvider: .builtin, returnURLAllowlist: [], onlyIfFirst: true
        )
    }

    func createOrganization(
        name: String,
        subdomain: String?,
        customDomain: String?,
        billingProvider: BillingProviderKind,
        returnURLAllowlist: [String],
        onlyIfFirst: Bool
    ) async throws -> CreatedOrganization? {
        let name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200, InputText.isAcceptable(name) else {
            throw CancelflowError.invalid(
                "name_invalid", "The organization name must be 1 to 200 characters, without control characters.", param: "name"
            )
        }
        if let subdomain, !Self.isDNSLabel(subdomain) {
            throw CancelflowError.invalid(
                "subdomain_invalid",
                "A subdomain is one DNS label: letters, digits and hyphens, 1 to 63 characters.",
                param: "subdomain"
            )
        }
        if let customDomain, !Self.isHostName(customDomain) {
            throw CancelflowError.invalid("custom_domain_invalid", "The custom domain must be a host name.", param: "customDomain")
        }
        if let bad = returnURLAllowlist.first(where: { StrictURL.AllowlistEntry.parse($0) == nil }) {
            throw CancelflowError.invalid(
                "return_host_invalid",
                "\(bad) is not a host name (app.acme.com) or an origin (https://app.acme.com:8443).",
                param: "returnHost"
            )
        }
        let organization = Organization(
            id: Identifier.make("org_"),
            name: name,
            subdomain: subdomain?.lowercased(),
            customDomain: customDomain?.lowercased(),
            billingProvider: billingProvider,
            returnURLAllowlist: returnURLAllowlist.map { $0.lowercased() },
            createdAt: Millis.date(Millis.from(self.time.now()))
        )
        var issued: [Mode: IssuedCredentials] = [:]
        var credentials: [NewCredential] = []
        for mode in Mode.allCases {
            let pair = IssuedCredentials(appId: Identifier.appID(mode: mode), apiKey: APIKeyFormat.generate(mode: mode))
            issued[mode] = pair
            credentials.append(
                NewCredential(
                    mode: mode,
                    appID: pair.appId,
                    keyID: Identifier.make("key_"),
                    keyHash: APIKeyFormat.hash(pair.apiKey),
                    keyHint: APIKeyFormat.hint(pair.apiKey)
                )
            )
        }
        guard try await self.store.createOrganization(organization, credentials: credentials, onlyIfFirst: onlyIfFirst) else {
            return nil
        }
        return CreatedOrganization(organization: organization, test: issued[.test]!, live: issued[.live]!)
    }

    /// Issues a new key for a mode; older keys keep working for `grace`, then stop.
    public func rotateKey(organizationID: String, mode: Mode, grace: TimeInterval) async throws -> IssuedCredentials {
        guard grace >= 0, grace <= Self.maximumGrace else {
            throw CancelflowError.invalid("grace_invalid", "The grace period must be between 0 and 7 days.", param: "grace")
        }
        guard let appID = try await self.store.appID(organizationID: organizationID, mode: mode) else {
            throw CancelflowError.notFound("organization_not_found", "No organization with that id.", param: "org")
        }
        let now = self.time.now()
        let key = APIKeyFormat.generate(mode: mode)
        defer { self.cache.invalidate(appID: appID) }
        try await self.store.rotateKey(
            organizationID: organizationID,
            mode: mode,
            newKeyID: Identifier.make("key_"),
            newKeyHash: APIKeyFormat.hash(key),
            newKeyHint: APIKeyFormat.hint(key),
            now: now,
            oldKeysExpireAt: now.addingTimeInterval(grace)
        )
        return IssuedCredentials(appId: appID, apiKey: key)
    }

    /// A mode's keys (newest first), including those that stopped in the last week, and its App ID.
    public func keys(organizationID: String, mode: Mode) async throws -> (appID: String, keys: [APIKeyInfo]) {
        guard let appID = try await self.store.appID(organizationID: organizationID, mode: mode) else {
            throw CancelflowError.notFound("organization_not_found", "No organization with that id.", param: "org")
        }
        let since = self.time.now().addingTimeInterval(-7 * 86400)
        return (appID, try await self.store.apiKeys(organizationID: organizationID, mode: mode, since: since))
    }

    /// Issues another key for a mode; the existing keys keep working (for a second backend, or a
    /// rotation done by hand: create, deploy, then revoke the old one).
    public func createKey(organizationID: String, mode: Mode) async throws -> IssuedCredentials {
        guard let appID = try await self.store.appID(organizationID: organizationID, mode: mode) else {
            throw CancelflowError.notFound("organization_not_found", "No organization with that id.", param: "org")
        }
        let key = APIKeyFormat.generate(mode: mode)
        defer { self.cache.invalidate(appID: appID) }
        try await self.store.rotateKey(
            organizationID: organizationID, mode: mode, newKeyID: Identifier.make("key_"), newKeyHash: APIKeyFormat.hash(key),
            newKeyHint: APIKeyFormat.hint(key), now: self.time.now(), oldKeysExpireAt: nil)
        return IssuedCredentials(appId: appID, apiKey: key)
    }

    /// Makes one key stop working now (on other instances within the API-key cache's lifetime).
    public func revokeKey(organizationID: String, mode: Mode, keyID: String) async throws {
        guard let appID = try await self.store.appID(organizationID: organizationID, mode: mode) else {
            throw CancelflowError.notFound("organization_not_found", "No organization with that id.", param: "org")
        }
        defer { self.cache.invalidate(appID: appID) }
        guard try await self.store.revokeKey(organizationID: organizationID, mode: mode, keyID: keyID, now: self.time.now()) else {
            throw CancelflowError.notFound("key_not_found", "No working key with that id.", param: "id")
        }
    }

    /// Checks an App ID and API key; throws 401 errors that never say which half was wrong.
    public func authenticate(appID: String?, apiKey: String?) async throws -> APIIdentity {
        guard let appID, !appID.isEmpty, let apiKey, !apiKey.isEmpty else {
            throw CancelflowError(
                .authentication,
                code: "missing_credentials",
                message: "Send both the x-ck-app and x-ck-api-key headers."
            )
        }
        let invalid = CancelflowError(
            .authentication,
            code: "invalid_credentials",
            message: "The App ID and API key do not match an active key pair."
        )
        guard appID.utf8.count <= Self.maximumHeaderLength, apiKey.utf8.count <= Self.maximumHeaderLength else { throw invalid }
        // A key that fails its own checksum, or names another mode than the App ID, is refused
        // without a lookup.
        guard let keyMode = APIKeyFormat.mode(of: apiKey), appID.hasPrefix("app_\(keyMode.rawValue)_") else { throw invalid }
        let now = self.time.now()
        let presented = Array(APIKeyFormat.hash(apiKey).utf8)
        if let cached = self.cache.record(appID: appID, now: now), let identity = Self.match(presented, cached, appID: appID, now: now) {
            return identity
        }
        // Not cached, or the cached keys do not include this one (it may have just been issued):
        // ask the database.
        guard let record = try await self.store.credentials(appID: appID, now: now), record.mode == keyMode else {
            throw invalid
        }
        self.cache.store(record, appID: appID, now: now)
        guard let identity = Self.match(presented, record, appID: appID, now: now) else { throw invalid }
        return identity
    }

    /// The key of a record the presented hash matches, if it has not expired by `now`.
    static func match(_ presented: [UInt8], _ record: CredentialRecord, appID: String, now: Date) -> APIIdentity? {
        var matched: StoredAPIKey?
        // Compare against every candidate, without stopping early, in constant time each.
        for key in record.keys where constantTimeEquals(presented, Array(key.hash.utf8)) {
            matched = key
        }
        guard let matched, matched.expiresAt.map({ $0 > now }) ?? true else { return nil }
        return APIIdentity(organizationID: record.organizationID, mode: record.mode, appID: appID, keyID: matched.id)
    }

    static func isDNSLabel(_ text: String) -> Bool {
        let bytes = Array(text.lowercased().utf8)
        guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-")
        }
    }

    static func isHostName(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return text.utf8.count <= 253 && labels.count >= 2 && labels.allSatisfy { self.isDNSLabel(String($0)) }
    }
}
