import Foundation

/// A stored API key, as the credential check sees it: only its hash.
public struct StoredAPIKey: Sendable, Equatable {
    /// `key_…`
    public var id: String
    /// SHA-256 of the key, hex.
    public var hash: String
    /// When a rotated-out key stops working; nil while it is current.
    public var expiresAt: Date?

    /// Creates a stored key value.
    public init(id: String, hash: String, expiresAt: Date?) {
        self.id = id
        self.hash = hash
        self.expiresAt = expiresAt
    }
}

/// What an App ID unlocks: its organization, its mode, and the keys currently valid for it.
public struct CredentialRecord: Sendable, Equatable {
    /// The organization.
    public var organizationID: String
    /// The App ID's mode.
    public var mode: Mode
    /// Keys not yet expired at the time of the lookup.
    public var keys: [StoredAPIKey]

    /// Creates a record.
    public init(organizationID: String, mode: Mode, keys: [StoredAPIKey]) {
        self.organizationID = organizationID
        self.mode = mode
        self.keys = keys
    }
}

/// A new App ID and the hash of its first key, for organization creation.
public struct NewCredential: Sendable {
    /// The mode.
    public var mode: Mode
    /// The App ID.
    public var appID: String
    /// The key's id.
    public var keyID: String
    /// The key's hash.
    public var keyHash: String
    /// The key's last four characters.
    public var keyHint: String

    /// Creates a new credential value.
    public init(mode: Mode, appID: String, keyID: String, keyHash: String, keyHint: String) {
        self.mode = mode
        self.appID = appID
        self.keyID = keyID
        self.keyHash = keyHash
        self.keyHint = keyHint
    }
}

/// Organizations and their credentials.
public protocol OrganizationStore: Sendable {
    /// Creates an organization with its App IDs and first keys, all or nothing. With `onlyIfFirst`
    /// it does so only while no organization exists, atomically even when several instances start
    /// on one empty database at once; it returns whether it created one.
    @discardableResult
    func createOrganization(_ organization: Organization, credentials: [NewCredential], onlyIfFirst: Bool) async throws -> Bool
    /// One organization.
    func organization(id: String) async throws -> Organization?
    /// The organization whose verified custom domain, or whose subdomain label, this is.
    func organization(host: DomainPicker.HostOwner) async throws -> Organization?
    /// How many organizations exist.
    func organizationCount() async throws -> Int
    /// Marks the custom domain verified (or not).
    func setCustomDomainVerified(organizationID: String, verified: Bool) async throws -> Bool
    /// The organization, mode and keys valid at `now` for an App ID.
    func credentials(appID: String, now: Date) async throws -> CredentialRecord?
    /// The App ID of an organization's mode.
    func appID(organizationID: String, mode: Mode) async throws -> String?
    /// Adds a new key for the mode and makes every older key expire at `oldKeysExpireAt` (or
    /// keeps its earlier expiry), in one transaction; with nil the older keys stay as they are.
    func rotateKey(
        organizationID: String, mode: Mode, newKeyID: String, newKeyHash: String, newKeyHint: String,
        now: Date, oldKeysExpireAt: Date?) async throws
    /// A mode's keys, newest first, with those that stopped working in the last week.
    func apiKeys(organizationID: String, mode: Mode, since: Date) async throws -> [APIKeyInfo]
    /// Makes a key stop working now; false when it is unknown or already stopped.
    func revokeKey(organizationID: String, mode: Mode, keyID: String, now: Date) async throws -> Bool
    /// Saves an organization's own settings (name, domains, link expiration, allow-list) and,
    /// when given, its flow settings, in one transaction; `organization_conflict` when the
    /// subdomain or custom domain is another's.
    func updateOrganization(_ organization: Organization, flowSettings: FlowSettings?, now: Date) async throws
}

/// An API key as the dashboard lists it: never the key, only its last four characters.
public struct APIKeyInfo: Sendable, Equatable {
    /// `key_…`
    public var id: String
    /// The key's last four characters.
    public var hint: String
    public var createdAt: Date
    /// When it stops (or stopped) working; nil while it has no end.
    public var expiresAt: Date?

    public init(id: String, hint: String, createdAt: Date, expiresAt: Date?) {
        self.id = id
        self.hint = hint
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// The built-in billing provider's customers and subscriptions, scoped by organization and mode.
public protocol BillingDataStore: Sendable {
    /// Creates or updates a customer; returns it as stored.
    func upsertCustomer(organizationID: String, mode: Mode, id: String, email: String?, name: String?, now: Date) async throws -> Customer
    /// One customer.
    func customer(organizationID: String, mode: Mode, id: String) async throws -> Customer?
    /// Customers in id order after the cursor, optionally those whose id or address starts with,
    /// or whose name contains, `search` (case-insensitively).
    func customers(organizationID: String, mode: Mode, search: String?, limit: Int, startingAfter: String?) async throws -> [Customer]
    /// Creates or updates a subscription of an existing customer; nil when the customer does not
    /// exist, and throws `subscription_customer_mismatch` when the id belongs to another customer.
    func upsertSubscription(organizationID: String, mode: Mode, _ subscription: Subscription, now: Date) async throws -> Subscription?
    /// A customer's subscriptions, newest first.
    func subscriptions(organizationID: String, mode: Mode, customerID: String) async throws -> [Subscription]
    /// One subscription.
    func subscription(organizationID: String, mode: Mode, id: String) async throws -> Subscription?
}

/// A response to keep with an idempotency key, written in the same transaction as the change.
public struct IdempotentResult: Sendable {
    /// HTTP status.
    public var status: Int
    /// The response body, sealed under a key only the server secret and the idempotency key open.
    public var sealedBody: [UInt8]

    /// Creates a result value.
    public init(status: Int, sealedBody: [UInt8]) {
        self.status = status
        self.sealedBody = sealedBody
    }
}

/// An idempotency key's answer, to be written in the transaction of the change it answers for:
/// the key is never left claimed after a change that committed, and a mint costs one write
/// transaction rather than two.
public struct IdempotencyCompletion: Sendable {
    public var organizationID: String
    public var mode: Mode
    public var key: String
    public var result: IdempotentResult

    public init(organizationID: String, mode: Mode, key: String, result: IdempotentResult) {
        self.organizationID = organizationID
        self.mode = mode
        self.key = key
        self.result = result
    }
}

/// Cancel Links.
public protocol CancelLinkStore: Sendable {
    /// Inserts a link with the hash of its token, and its events, in one transaction; with
    /// `completing`, the idempotency key's answer too, in the same transaction.
    func insertLink(_ link: CancelLink, tokenHash: String, events: [OutboxEvent], completing: IdempotencyCompletion?) async throws
    /// One link of an organization's mode.
    func link(organizationID: String, mode: Mode, id: String) async throws -> CancelLink?
    /// The link a token hash belongs to.
    func link(tokenHash: String) async throws -> CancelLink?
    /// Links newest first, optionally for one customer, after the cursor link id.
    func links(organizationID: String, mode: Mode, customerID: String?, limit: Int, startingAfter: String?) async throws -> [CancelLink]
    /// Revokes an active, unexpired link in one conditional update; returns the link as it is
    /// afterwards (revoked, or unchanged when it could not be revoked), or nil when unknown.
    func revokeLink(
        organizationID: String, mode: Mode, id: String, now: Date, events: @escaping @Sendable (CancelLink) -> [OutboxEvent]
    ) async throws
        -> CancelLink?
}

/// What happened when a request claimed an idempotency key.
public enum IdempotencyClaim: Sendable, Equatable {
    /// The key is new: go ahead, then complete it.
    case claimed
    /// The key finished earlier with this response.
    case completed(status: Int, sealedBody: [UInt8])
    /// Another request with the key is still running.
    case inProgress
    /// The key was used with a different request.
    case mismatch
}

/// Idempotency keys, kept for 24 hours.
public protocol IdempotencyStore: Sendable {
    /// Claims a key for a request fingerprint, or reports what became of an earlier claim. Keys
    /// older than `staleBefore` are forgotten first.
    func claimIdempotencyKey(
        organizationID: String, mode: Mode, key: String, fingerprint: String, now: Date, staleBefore: Date
    ) async throws
        -> IdempotencyClaim
    /// Records the response of a claimed key.
    func completeIdempotencyKey(organizationID: String, mode: Mode, key: String, result: IdempotentResult) async throws
    /// Releases a claim whose request failed in a way that must not be replayed (a server error).
    func releaseIdempotencyKey(organizationID: String, mode: Mode, key: String) async throws
}

/// Everything the service needs from its database.
public typealias CancelflowStorage = OrganizationStore & BillingDataStore & CancelLinkStore & IdempotencyStore & FlowStore & WebhookStore
    & VerificationStore & BillingAccountStore & BillingActionStore & DashboardStore & AuditStore & OutcomeStore & FlowDocumentStore
    & ConfirmationStore

extension CancelLinkStore {
    /// Inserts a link with the hash of its token, and its events, in one transaction.
    public func insertLink(_ link: CancelLink, tokenHash: String, events: [OutboxEvent]) async throws {
        try await self.insertLink(link, tokenHash: tokenHash, events: events, completing: nil)
    }
}
