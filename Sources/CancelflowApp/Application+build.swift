import CancelflowCore
import CancelflowStore
import Configuration
import Hummingbird
import HummingbirdCore
import Logging
import Mustache
import ServiceLifecycle

/// What `serve` reports the first time it starts on an empty database.
/// The third value is the first owner's one-time dashboard set-up link.
public typealias FirstStartHandler = @Sendable (CredentialService.CreatedOrganization, AppConfiguration, String) -> Void

/// Builds the service from configuration: opens the database, migrates it before the server
/// starts, creates a first organization on an empty database (handing its keys to `onFirstStart`
/// to show once), and keeps the database open until graceful shutdown.
public func buildApplication(
    reader: ConfigReader,
    logger: Logger,
    onFirstStart: @escaping FirstStartHandler = { _, _, _ in }
) async throws -> some ApplicationProtocol {
    let configuration = try AppConfiguration(reader: reader)
    var configuredLogger = logger
    configuredLogger.logLevel = configuration.logLevel
    let logger = configuredLogger
    let services = try await AppServices.open(configuration: configuration, logger: logger)
    var app = try buildApplication(services: services, logger: logger)
    // First in, so last to shut down: the database outlives everything that uses it.
    app.addServices(services.pool)
    let migrated = StartGate()
    app.addServices(GatedService(gate: migrated, inner: FlowSweeper(services: services, logger: logger)))
    app.addServices(GatedService(gate: migrated, inner: WebhookWorker(services: services, logger: logger)))
    app.addServices(GatedService(gate: migrated, inner: try ConfirmationSender(services: services, logger: logger)))
    if let address = configuration.metricsAddress {
        app.addServices(metricsApplication(services: services, host: address.host, port: address.port, logger: logger))
    }
    if configuration.smtp == nil {
        logger.warning(
            "No mail server is configured (--smtp-url): verification emails go to the log, and test-mode ones to /dev/mailbox"
        )
    }
    app.beforeServerStarts {
        try await Migrator(pool: services.pool).migrate(logger: logger)
        migrated.open()
        if try await services.store.organizationCount() == 0,
            let created = try await services.credentials.createFirstOrganization(name: "My Organization")
        {
            logger.notice("Created the first organization", metadata: ["organization_id": .string(created.organization.id)])
            let token = try await services.dashboardAuth.firstOwnerLink(organizationID: created.organization.id)
            onFirstStart(created, services.configuration, "\(services.configuration.publicBase)/dashboard/setup/\(token)")
        }
    }
    logger.info(
        "Starting Cancelflow",
        metadata: [
            "database": .string(configuration.database.redacted),
            "public_url": .string(configuration.publicURL.absoluteString),
        ]
    )
    return app
}

/// Builds the service around services that already exist; tests call this with their own clock
/// and database, and own the database's lifecycle.
public func buildApplication(services: AppServices, logger: Logger) throws -> Application<RouterResponder<AppRequestContext>> {
    let configuration = services.configuration
    let router = try buildRouter(services: services)
    // Header limits well above what any client of ours sends (our own cookies are short) and
    // well below NIO's 80 KiB default; over them, HeaderLimitHandler answers 431. The idle
    // timeout doubles as the deadline for a request's headers: it is not reset by header bytes,
    // so a client trickling them is cut off (slowloris).
    let http1 = HTTP1Channel.Configuration(
        additionalChannelHandlers: [HeaderLimitHandler()],
        idleTimeout: .milliseconds(Int64(configuration.readTimeoutSeconds * 1000)),
        httpDecoderConfiguration: .init(maxHeaderFieldSize: 8 * 1024, maxHeaderListSize: 32 * 1024, maxHeaderFieldCount: 100)
    )
    return Application(
        router: router,
        server: .http1(configuration: http1),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "cancelflow"),
        logger: logger
    )
}

/// The routes: health checks at the root, hosted pages, the JSON API under `/v1`.
func buildRouter(services: AppServices) throws -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: MetricsMiddleware(metrics: services.metrics))
    let routes = RouteMethods()
    router.add(middleware: ErrorMiddleware(routes: routes))
    router.add(middleware: InputGuardMiddleware())
    router.add(
        middleware: PagePostThrottle(
            limiter: RateLimiter(
                rate: Double(services.configuration.pagePostLimit) / 60, burst: Double(services.configuration.pagePostLimit),
                time: services.time),
            proxyTrust: services.configuration.proxyTrust
        )
    )
    HealthController(pool: services.pool).addRoutes(to: router)
    if services.configuration.metrics {
        MetricsController(services: services).addRoutes(to: router)
    }
    try addHostedPages(to: router, services: services)
    try addDashboard(to: router, services: services)

    // Outside the authenticated group: the document is public, like any published API reference.
    OpenAPIDocumentController(publicBase: services.configuration.publicBase).addRoutes(to: router)
    let limiter = RateLimiter(
        rate: services.configuration.rateLimitPerSecond,
        burst: services.configuration.rateLimitBurst,
        time: services.time
    )
    let api = router.group("v1")
        .add(
            middleware: APIAuthMiddleware(
                credentials: services.credentials,
                limiter: limiter,
                failures: RateLimiter(
                    rate: Double(services.configuration.authFailureLimit) / 60, burst: Double(services.configuration.authFailureLimit),
                    time: services.time
                ),
                proxyTrust: services.configuration.proxyTrust
            )
        )
        .group(context: APIRequestContext.self)
    let idempotency = IdempotencyGuard(store: services.store, secret: services.secret, time: services.time)
    let readTimeout = services.configuration.readTimeout
    CancelSessionsController(
        links: services.links, organizations: services.organizations, idempotency: idempotency, metrics: services.metrics,
        time: services.time, readTimeout: readTimeout
    ).addRoutes(to: api.group("cancel-sessions"))
    CustomersController(customers: services.customers, readTimeout: readTimeout).addRoutes(to: api.group("customers"))
    WebhooksController(webhooks: services.webhooks, readTimeout: readTimeout)
        .addRoutes(endpoints: api.group("webhook-endpoints"), events: api.group("events"))
    FlowsController(flows: services.flowConfig, readTimeout: readTimeout).addRoutes(to: api.group("flows"))
    routes.load(from: router)
    return router
}

/// The customer-facing pages: link landing and exchange, the flow (behind its session
/// middleware), email verification and the test mailbox, each given only what it uses.
func addHostedPages(to router: Router<AppRequestContext>, services: AppServices) throws {
    let configuration = services.configuration
    let library = try Templates.library()
    let pages = Pages(
        library: library, security: PageSecurity(secret: services.secret, publicURL: configuration.publicURL),
        organizations: services.organizations
    )
    let site = HostedSite(picker: services.links.picker, proxyTrust: configuration.proxyTrust)
    let owners = PageOwners(organizations: services.organizations, site: site)
    LinkPagesController(
        links: services.links, organizations: services.organizations, flow: services.flow, pages: pages, site: site,
        metrics: services.metrics, time: services.time, readTimeout: configuration.readTimeout
    ).addRoutes(to: router)
    let flowRoutes = router.group("flow")
        .add(middleware: FlowSessionMiddleware(flow: services.flow, pages: pages, readTimeout: configuration.readTimeout))
        .group(context: FlowRequestContext.self)
    FlowPagesController(flow: services.flow, pages: pages, metrics: services.metrics).addRoutes(to: flowRoutes)
    VerifyPagesController(
        verification: services.verification, owners: owners, pages: pages, mailer: services.mailer,
        emails: VerificationEmails(library: library, mailFrom: configuration.mailFrom), metrics: services.metrics,
        readTimeout: configuration.readTimeout
    ).addRoutes(to: router)
    DevMailboxController(mailbox: services.mailer.mailbox, owners: owners, pages: pages).addRoutes(to: router)
    pages.addStaticRoutes(to: router)
}

/// The merchant's dashboard under `/dashboard`: the pages before sign-in, then every page
/// behind `DashboardSessionMiddleware`.
func addDashboard(to router: Router<AppRequestContext>, services: AppServices) throws {
    let configuration = services.configuration
    var library = MustacheLibrary()
    try DashboardTemplates.register(in: &library)
    let pages = DashboardPages(library: library, security: DashboardSecurity(secret: services.secret, publicURL: configuration.publicURL))
    let site = HostedSite(picker: services.links.picker, proxyTrust: configuration.proxyTrust)
    let auth = services.dashboardAuth
    let hosts = DashboardHostMiddleware(site: site, organizations: services.organizations)
    let authPages = DashboardAuthController(
        auth: auth, organizations: services.organizations, pages: pages, site: site, mailer: services.mailer, mailFrom: configuration.mailFrom,
        publicBase: configuration.publicBase, readTimeout: configuration.readTimeout)
    let open = router.group("dashboard").add(middleware: hosts)
    authPages.addPublicRoutes(to: open)
    open.get("assets/dashboard.js") { _, _ in
        var response = Response(
            status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=3600"],
            body: .init(byteBuffer: ByteBuffer(string: DashboardTemplates.script)))
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }
    let once = FormOnce(store: services.store, time: services.time)
    let signedIn = router.group("dashboard").add(middleware: hosts)
        .add(middleware: DashboardSessionMiddleware(auth: auth, pages: pages, readTimeout: configuration.readTimeout))
        .group(context: DashboardRequestContext.self)
    authPages.addSessionRoutes(to: signedIn)
    DashboardCustomersController(
        customers: services.customers, links: services.links, organizations: services.organizations, auth: auth, audit: services.audit,
        idempotency: services.store, pages: pages, metrics: services.metrics, time: services.time
    ).addRoutes(to: signedIn)
    DashboardSettingsController(
        credentials: services.credentials, billingAccounts: services.billingAccounts, customers: services.customers,
        organizations: services.organizations, auth: auth, audit: services.audit, pages: pages, once: once, picker: services.links.picker,
        subdomainBase: configuration.subdomainBase, time: services.time
    ).addRoutes(to: signedIn)
    DashboardTextsController(organizations: services.organizations, audit: services.audit, pages: pages).addRoutes(to: signedIn)
    DashboardFlowsController(flows: services.flowConfig, organizations: services.organizations, audit: services.audit, pages: pages)
        .addRoutes(to: signedIn)
    DashboardWebhooksController(
        webhooks: services.webhooks, organizations: services.organizations, audit: services.audit, pages: pages, once: once
    )
    .addRoutes(to: signedIn)
    DashboardOutcomesController(
        outcomes: OutcomeService(store: services.store, time: services.time), organizations: services.organizations,
        flows: services.flowConfig, audit: services.audit,
        pages: pages
    ).addRoutes(to: signedIn)
    let hostedPages = Pages(
        library: try Templates.library(), security: PageSecurity(secret: services.secret, publicURL: configuration.publicURL),
        organizations: services.organizations)
    DashboardPreviewController(pages: hostedPages, organizations: services.organizations, flows: services.flowConfig).addRoutes(to: signedIn)
}

/// `cancelflow worker`: the webhook delivery worker (and the flow sweeper) without the HTTP
/// server, for running deliveries in processes of their own. Runs until SIGTERM or SIGINT.
public func runWorker(reader: ConfigReader, logger: Logger) async throws {
    let configuration = try AppConfiguration(reader: reader)
    var configuredLogger = logger
    configuredLogger.logLevel = configuration.logLevel
    let logger = configuredLogger
    let services = try await AppServices.open(configuration: configuration, logger: logger)
    var list: [any Service] = [services.pool, WorkerStart(services: services, logger: logger)]
    if let address = configuration.metricsAddress {
        list.append(metricsApplication(services: services, host: address.host, port: address.port, logger: logger))
    }
    let group = ServiceGroup(configuration: .init(services: list, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
}

/// Migrates, then runs the worker and the sweeper side by side.
struct WorkerStart: Service {
    let services: AppServices
    let logger: Logger

    func run() async throws {
        try await Migrator(pool: self.services.pool).migrate(logger: self.logger)
        self.logger.info("Webhook worker started")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await WebhookWorker(services: self.services, logger: self.logger).run() }
            group.addTask { try await FlowSweeper(services: self.services, logger: self.logger).run() }
            group.addTask { try await ConfirmationSender(services: self.services, logger: self.logger).run() }
            try await group.waitForAll()
        }
    }
}
