import ArgumentParser
import CancelflowAPI
import CancelflowApp
import CancelflowCore
import Configuration
import Foundation
import Logging

/// `cancelflow`: serve the API and hosted pages, or manage organizations, keys and links.
@main
struct Cancelflow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancelflow",
        abstract: "Cancel Links: signed, single-use URLs that land a customer on their cancel flow.",
        subcommands: [Serve.self, Worker.self, Migrate.self, Backup.self, Orgs.self, Keys.self, Links.self, Webhooks.self],
        defaultSubcommand: Serve.self
    )
}

/// Options every command shares. Each falls back to its `CANCELFLOW_*` environment variable,
/// then to `.env` in the working directory, then to the default in the README.
struct CommonOptions: ParsableArguments {
    @Option(help: "Database: sqlite:PATH or postgres://user:pass@host:port/db (default sqlite:cancelflow.sqlite).")
    var database: String?

    @Option(help: "Interface to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (default 8080).")
    var port: Int?

    @Option(help: "Public base URL of links and hosted pages (default http://HOST:PORT).")
    var publicUrl: String?

    @Option(help: "Parent domain for organization subdomains, e.g. cancel.example.com (default: none).")
    var subdomainBase: String?

    @Option(help: "Server secret for token MACs, 32+ characters. Visible to every user in ps: prefer --secret-file (default on SQLite: generated into DATABASE.secret).")
    var secret: String?

    @Option(help: "File holding the server secret (mode 0600; refused when others can read it). The recommended way to pass it (default on SQLite: DATABASE.secret).")
    var secretFile: String?

    @Option(help: "Requests per second allowed per API key (default 100).")
    var rateLimit: Double?

    @Option(help: "Burst of requests allowed per API key (default 200).")
    var rateLimitBurst: Double?

    @Option(help: "Log level: trace, debug, info, notice, warning, error (default info).")
    var logLevel: String?

    @Option(help: "Comma-separated addresses or CIDR networks of reverse proxies whose X-Forwarded-For and X-Forwarded-Host are believed (default: none).")
    var trustedProxies: String?

    @Flag(help: "Shorthand for --trusted-proxies 127.0.0.0/8,::1: a reverse proxy on this machine (default off).")
    var trustProxy = false

    @Flag(help: "Serve GET /metrics (Prometheus text format) on the main listener (default off).")
    var metrics = false

    @Option(help: "Serve GET /metrics on a listener of its own, HOST:PORT or a port on 127.0.0.1 (default: none).")
    var metricsAddress: String?

    @Option(help: "Log format: text, or json for one JSON object per line (default text).")
    var logFormat: String?

    @Flag(help: "Allow webhook endpoints on loopback, private and link-local addresses (default off).")
    var allowPrivateWebhooks = false

    @Option(help: "Seconds a worker's claim on a webhook delivery lasts before another may take it (default 60).")
    var webhookLease: Double?

    @Option(help: "SQLite durability: full (every commit synced, the default) or normal (synced at checkpoints; a power cut may lose the last commits).")
    var sqliteSynchronous: String?

    @Option(help: "Seconds an API-key check is remembered; revocation and rotation take effect within it on every instance (default 5, 0 = never).")
    var apiKeyCache: Double?

    @Option(help: "Seconds a client has to send a request's headers, and then its body, before it is cut off; also how long an idle kept-alive connection stays open (default 30).")
    var readTimeout: Double?

    @Option(help: "Failed API authentications one client address may make per minute before it is refused without a database lookup (default 20).")
    var authFailureLimit: Int?

    @Option(help: "Form submissions to hosted pages one client address may make per minute (default 60).")
    var pagePostLimit: Int?

    @Option(help: "Mail server for verification codes: smtp://user:pass@host:587 (STARTTLS when offered; ?starttls=required) or smtps://user:pass@host:465 (default: none, emails go to the log and test-mode ones to /dev/mailbox).")
    var smtpUrl: String?

    @Option(help: "Sender address of verification emails (default no-reply@ the public URL's host).")
    var mailFrom: String?

    @Option(help: "Verification codes one email address may be sent per hour (default 5).")
    var verifyAddressLimit: Int?

    @Option(help: "Verification requests plus code tries one client IP may make per hour (default 30).")
    var verifyClientLimit: Int?

    @Option(help: "Verification emails one organization's mode may send per hour (default 1000).")
    var verifyOrganizationLimit: Int?

    @Option(help: "Show test-mode emails on /dev/mailbox when no mail server is configured: true or false (default: true only when the public URL is a loopback address).")
    var devMailbox: Bool?

    /// The configuration reader: flags, then environment, then `.env`.
    func reader() async throws -> ConfigReader {
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        func set(_ key: String, _ content: ConfigContent?, secret: Bool = false) {
            guard let content else { return }
            values[AbsoluteConfigKey([AppConfiguration.scope, key])] = ConfigValue(content, isSecret: secret)
        }
        set("database", self.database.map(ConfigContent.string))
        set("host", self.host.map(ConfigContent.string))
        set("port", self.port.map(ConfigContent.int))
        set("publicUrl", self.publicUrl.map(ConfigContent.string))
        set("subdomainBase", self.subdomainBase.map(ConfigContent.string))
        set("secret", self.secret.map(ConfigContent.string), secret: true)
        set("secretFile", self.secretFile.map(ConfigContent.string))
        set("rateLimit", self.rateLimit.map(ConfigContent.double))
        set("rateLimitBurst", self.rateLimitBurst.map(ConfigContent.double))
        set("logLevel", self.logLevel.map(ConfigContent.string))
        set("logFormat", self.logFormat.map(ConfigContent.string))
        set("metrics", self.metrics ? ConfigContent.bool(true) : nil)
        set("metricsAddress", self.metricsAddress.map(ConfigContent.string))
        set("trustProxy", self.trustProxy ? ConfigContent.bool(true) : nil)
        set("trustedProxies", self.trustedProxies.map(ConfigContent.string))
        set("allowPrivateWebhooks", self.allowPrivateWebhooks ? ConfigContent.bool(true) : nil)
        set("webhookLease", self.webhookLease.map(ConfigContent.double))
        set("apiKeyCache", self.apiKeyCache.map(ConfigContent.double))
        set("sqliteSynchronous", self.sqliteSynchronous.map(ConfigContent.string))
        set("readTimeout", self.readTimeout.map(ConfigContent.double))
        set("authFailureLimit", self.authFailureLimit.map(ConfigContent.int))
        set("pagePostLimit", self.pagePostLimit.map(ConfigContent.int))
        set("smtpUrl", self.smtpUrl.map(ConfigContent.string), secret: true)
        set("mailFrom", self.mailFrom.map(ConfigContent.string))
        set("verifyAddressLimit", self.verifyAddressLimit.map(ConfigContent.int))
        set("verifyClientLimit", self.verifyClientLimit.map(ConfigContent.int))
        set("verifyOrganizationLimit", self.verifyOrganizationLimit.map(ConfigContent.int))
        set("devMailbox", self.devMailbox.map(ConfigContent.bool))
        let secrets = SecretsSpecifier<String, String>.specific(["CANCELFLOW_SECRET", "CANCELFLOW_SMTP_URL"])
        return ConfigReader(providers: [
            InMemoryProvider(name: "command line", values: values),
            EnvironmentVariablesProvider(secretsSpecifier: secrets),
            try await EnvironmentVariablesProvider(environmentFilePath: ".env", allowMissing: true, secretsSpecifier: secrets),
        ])
    }

    /// The parsed configuration.
    func configuration() async throws -> AppConfiguration {
        do {
            return try AppConfiguration(reader: try await self.reader())
        } catch {
            throw CommandFailure(error)
        }
    }
}

/// A failure shown to the person at the terminal as one readable line.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ error: any Error) {
        if let error = error as? CancelflowError {
            self.description = error.message
        } else if let error = error as? CommandFailure {
            self.description = error.description
        } else {
            self.description = String(describing: error)
        }
    }

    init(message: String) {
        self.description = message
    }
}

/// A logger for the commands: to standard error, so standard output stays clean for `--json`.
func commandLogger(level: Logger.Level = .warning) -> Logger {
    var logger = Logger(label: "cancelflow") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = level
    return logger
}

/// Runs a command body against the configured database, turning errors into one line.
func withServices<Result: Sendable>(
    _ options: CommonOptions,
    _ body: @Sendable (AppServices) async throws -> Result
) async throws -> Result {
    let configuration = try await options.configuration()
    do {
        return try await AppServices.withServices(configuration: configuration, logger: commandLogger(), body)
    } catch {
        throw CommandFailure(error)
    }
}

/// Writes JSON to standard output.
func printJSON<Value: Encodable>(_ value: Value) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

extension Mode: ExpressibleByArgument {}
extension BillingProvider: ExpressibleByArgument {}
