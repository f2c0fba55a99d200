import CancelflowBilling
import CancelflowCore
import CancelflowStore
import Foundation
import Logging
import ServiceLifecycle

/// The long-lived things every part of the service shares: the database, the store over it, the
/// clock and the server secret. Built once at the composition root and handed down.
public struct AppServices: Sendable {
    /// The configuration it was built from.
    public let configuration: AppConfiguration
    /// The database sessions.
    public let pool: any DatabasePool
    /// The store.
    public let store: SQLStore
    /// Where "now" comes from.
    public let time: any TimeSource
    /// The root of the service's MAC and encryption keys.
    public let secret: ServerSecret
    /// Where verification emails go: the SMTP server, or the log and the test mailbox.
    let mailer: any Mailer
    /// API-key checks remembered for `--api-key-cache` seconds, shared by every request.
    let credentialCache: CredentialCache
    /// The metrics of this service (its own registry).
    public let metrics: AppMetrics
    /// Each organization mode's billing provider, its configuration cached like API keys.
    public let billing: ConfiguredBillingProviders
    /// Customers a provider confirmed at mint, shared by every mint of this instance.
    let confirmedCustomers: ExpiringCache<Bool>
    /// What providers last said about customers, for landing pages (see `FlowService`).
    let customerPreviews: ExpiringCache<BillingCustomer?>
    /// Published flow versions, which never change once published (see `FlowResolver`).
    let flowVersions = ExpiringCache<FlowDocument>(lifetime: 24 * 3600, capacity: 1_000)
    /// The stand-in bcrypt hash for sign-ins to unknown addresses, made once per process.
    let dummyHash = DashboardAuthService.DummyHash()

    /// Assembles services from parts (tests inject a clock and a pool).
    public init(configuration: AppConfiguration, pool: any DatabasePool, time: any TimeSource, secret: ServerSecret) {
        self.configuration = configuration
        self.pool = pool
        self.store = SQLStore(pool: pool, cacheSeconds: configuration.apiKeyCacheSeconds)
        self.time = time
        self.secret = secret
        self.credentialCache = CredentialCache(lifetime: configuration.apiKeyCacheSeconds)
        self.metrics = AppMetrics()
        let metrics = self.metrics
        self.billing = ConfiguredBillingProviders(
            store: self.store, box: SecretBox.billingKeys(secret), timeouts: configuration.billingTimeouts, time: time,
            cacheLifetime: configuration.apiKeyCacheSeconds
        ) { provider, result, duration in
            metrics.billingCall(provider: provider, result: result, duration: duration)
        }
        self.confirmedCustomers = ExpiringCache(lifetime: CancelLinkService.customerCheckLifetime)
        self.customerPreviews = ExpiringCache(lifetime: FlowService.previewLifetime)
        self.mailer =
            configuration.smtp.map { SMTPMailer(client: SMTPClient(configuration: $0)) }
            ?? LogMailer(mailbox: configuration.devMailbox ? DevMailbox() : nil)
    }

    /// The email-verification service.
    public var verification: VerificationService {
        VerificationService(
            store: self.store,
            time: self.time,
            secret: self.secret,
            limits: .init(
                perAddressPerHour: self.configuration.verifyAddressLimit,
                perClientPerHour: self.configuration.verifyClientLimit,
                perOrganizationPerHour: self.configuration.verifyOrganizationLimit
            ),
            providers: self.billing
        )
    }

    /// What expires, and the sweep that deletes it.
    public var retention: RetentionService { RetentionService(store: self.store, time: self.time) }

    /// The credential service.
    public var credentials: CredentialService { CredentialService(store: self.store, time: self.time, cache: self.credentialCache) }

    /// The link service.
    public var links: CancelLinkService {
        CancelLinkService(
            store: self.store,
            time: self.time,
            codec: CancelTokenCodec(serverSecret: self.secret),
            picker: DomainPicker(publicURL: self.configuration.publicURL, subdomainBase: self.configuration.subdomainBase),
            events: self.events,
            providers: self.billing,
            confirmed: self.confirmedCustomers
        )
    }

    /// Organizations' own settings: lookup, custom domain, flow settings.
    public var organizations: OrganizationService { OrganizationService(store: self.store, time: self.time) }

    /// Customers and subscriptions: read from each mode's provider, pushed for the built-in one.
    public var customers: CustomerService { CustomerService(store: self.store, time: self.time, providers: self.billing) }

    /// Webhook endpoints and the event log.
    public var webhooks: WebhookService {
        WebhookService(
            store: self.store, time: self.time, secrets: WebhookSecrets(secret: self.secret), events: self.events,
            urlPolicy: AddressURLPolicy(allowPrivate: self.configuration.allowPrivateWebhooks)
        )
    }

    /// Flows as documents (`/v1/flows`). No phrase may be overridden yet: the pages' phrase
    /// catalogue comes with their translations.
    public var flowConfig: FlowConfigService { FlowConfigService(store: self.store, time: self.time, phraseKeys: Catalogue.flowKeys) }

    /// The cancel-flow service.
    public var flow: FlowService {
        FlowService(
            store: self.store, time: self.time, events: self.events, providers: self.billing, idempotency: BillingIdempotency(secret: self.secret),
            flows: FlowResolver(
                store: self.store, config: self.flowConfig,
                assigner: VariantAssigner(key: self.secret.derivedKey(purpose: "flow-variant-v1")),
                versions: self.flowVersions),
            // A discount is up to three calls (find, create, apply), each within the timeout.
            actionDeadline: self.configuration.billingTimeoutSeconds * 3 + 5, previews: self.customerPreviews)
    }

    /// Which billing provider each organization mode uses.
    public var billingAccounts: BillingAccountService {
        let billing = self.billing
        let confirmed = self.confirmedCustomers
        return BillingAccountService(store: self.store, time: self.time, box: SecretBox.billingKeys(self.secret)) { organizationID, mode in
            // This instance sees the change at once; others within their caches' lifetimes.
            billing.forget(organizationID: organizationID, mode: mode)
            confirmed.remove(prefix: "\(organizationID):\(mode.rawValue):")
        }
    }

    /// Dashboard sign-in, sessions, set-up links and the team.
    public var dashboardAuth: DashboardAuthService {
        DashboardAuthService(
            store: self.store, time: self.time, secret: self.secret, hasher: BcryptPasswordHasher(cost: UInt8(self.configuration.passwordHashCost)),
            codes: TOTPCodes(), dummy: self.dummyHash)
    }

    /// The audit log.
    public var audit: AuditService { AuditService(store: self.store, time: self.time) }

    /// How events are written for webhooks.
    public var events: any EventEncoder { WebhookEventEncoder() }

    /// Opens the configured database (not yet migrated) and resolves the server secret.
    public static func open(
        configuration: AppConfiguration, logger: Logger, time: any TimeSource = SystemTimeSource()
    ) async throws
        -> AppServices
    {
        let secret = try Self.resolveSecret(configuration: configuration)
        let pool: any DatabasePool
        switch configuration.database {
        case .sqlite(let path):
            pool = try await SQLiteDatabasePool.open(path: path, synchronous: configuration.sqliteSynchronous, logger: logger)
        case .postgres(let url):
            pool = try PostgresDatabasePool(url: url, logger: logger)
        }
        return AppServices(configuration: configuration, pool: pool, time: time, secret: secret)
    }

    /// Opens the database, runs its connection pool while `body` runs, migrates it, and closes it
    /// afterwards: for commands that do one thing and exit. They get the domain services only.
    public static func withCommandServices<Result: Sendable>(
        configuration: AppConfiguration,
        logger: Logger,
        _ body: @Sendable (CommandServices) async throws -> Result
    ) async throws -> Result {
        let services = try await Self.open(configuration: configuration, logger: logger)
        return try await services.withRunningPool {
            try await Migrator(pool: services.pool).migrate(logger: logger)
            return try await body(CommandServices(services))
        }
    }

    /// Runs the database pool (a `Service`) while `body` runs, then closes it.
    public func withRunningPool<Result: Sendable>(_ body: @Sendable () async throws -> Result) async throws -> Result {
        let pool = self.pool
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pool.run() }
            // Cancelling the pool's run closes it; the group then waits for that to finish.
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// The secret from configuration (`--secret-file` or `--secret`), or, for SQLite, the one
    /// kept beside the database file (created with mode 0600 on first start). PostgreSQL
    /// deployments run several instances, which must share one secret, so there it must be
    /// configured. A secret file that other users can read is refused: the secret is the root of
    /// every token MAC and of the webhook secrets' encryption.
    static func resolveSecret(configuration: AppConfiguration) throws -> ServerSecret {
        if let text = configuration.secret {
            return try ServerSecret(text)
        }
        if let path = configuration.secretFile {
            guard FileManager.default.fileExists(atPath: path) else {
                throw CancelflowError.configuration("the secret file \(path) does not exist")
            }
            return try ServerSecret(Self.readSecretFile(path: path))
        }
        switch configuration.database {
        case .postgres:
            throw CancelflowError.configuration(
                "On PostgreSQL every instance must share one server secret: pass --secret-file (or set CANCELFLOW_SECRET_FILE) to a file of 32+ characters with mode 0600."
            )
        case .sqlite(let path):
            return try ServerSecret(Self.readOrCreateSecretFile(path: path + ".secret"))
        }
    }

    static func readOrCreateSecretFile(path: String) throws -> String {
        let fresh = ServerSecret.generateText()
        // Of two processes starting at once, one creates the file and both read it.
        do {
            if try PrivateFile.createExclusively(path, contents: fresh + "\n") { return fresh }
        } catch {
            throw CancelflowError.configuration("could not create the server secret file \(path): \(error)")
        }
        return try Self.readSecretFile(path: path)
    }

    /// Reads a secret file, refusing one that anyone but its owner may read.
    static func readSecretFile(path: String) throws -> String {
        if PrivateFile.isOpenToOthers(path) {
            throw CancelflowError.configuration(
                "the secret file \(path) can be read by other users; run: chmod 600 \(path)"
            )
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CancelflowError.configuration("could not read the server secret file \(path)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// What the command-line tool's commands may use: the domain services, never the store, so that
/// a command and an API route doing the same thing go through the same rules.
public struct CommandServices: Sendable {
    public let organizations: OrganizationService
    public let credentials: CredentialService
    public let links: CancelLinkService
    public let webhooks: WebhookService
    public let billingAccounts: BillingAccountService
    public let dashboardAuth: DashboardAuthService
    public let audit: AuditService
    /// The public URL without a trailing slash.
    public let publicBase: String
    /// Where "now" comes from.
    public let time: any TimeSource

    init(_ services: AppServices) {
        self.organizations = services.organizations
        self.credentials = services.credentials
        self.links = services.links
        self.webhooks = services.webhooks
        self.billingAccounts = services.billingAccounts
        self.dashboardAuth = services.dashboardAuth
        self.audit = services.audit
        self.publicBase = services.configuration.publicBase
        self.time = services.time
    }
}
