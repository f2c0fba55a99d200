import CancelflowBilling
import CancelflowCore
import CancelflowStore
import Configuration
import Foundation
import Logging

/// Everything the service is configured with, read once at start-up from a `ConfigReader`
/// (command-line flags, then `CANCELFLOW_*` environment variables, then `.env`, then the defaults
/// below) and passed down as plain values.
public struct AppConfiguration: Sendable {
    /// Where the data lives.
    public enum Database: Sendable, Equatable {
        /// An SQLite file (the embedded default).
        case sqlite(path: String)
        /// A PostgreSQL server.
        case postgres(url: String)

        /// Parses `sqlite:PATH`, a bare path, or a `postgres://` / `postgresql://` URL.
        public static func parse(_ text: String) throws(CancelflowError) -> Database {
            if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
                return .postgres(url: text)
            }
            if text.hasPrefix("sqlite:") {
                let path = String(text.dropFirst("sqlite:".count))
                guard !path.isEmpty else { throw .configuration("--database sqlite: needs a file path, e.g. sqlite:cancelflow.sqlite") }
                return .sqlite(path: path)
            }
            if text.contains("://") {
                throw .configuration("--database must be sqlite:PATH or a postgres:// URL")
            }
            return .sqlite(path: text)
        }

        /// The value with any password removed, for logs and messages.
        public var redacted: String {
            switch self {
            case .sqlite(let path): return "sqlite:\(path)"
            case .postgres(let url):
                guard var components = URLComponents(string: url) else { return "postgres://…" }
                if components.password != nil { components.password = "redacted" }
                return components.string ?? "postgres://…"
            }
        }
    }

    /// Interface to listen on. Default `127.0.0.1`.
    public var host: String
    /// Port to listen on. Default `8080`.
    public var port: Int
    /// Database. Default `sqlite:cancelflow.sqlite`.
    public var database: Database
    /// Base URL of links and hosted pages. Default `http://HOST:PORT`.
    public var publicURL: URL
    /// Parent domain for org subdomains; unset disables subdomains.
    public var subdomainBase: String?
    /// The server secret; unset on SQLite means "generate once and keep beside the database".
    public var secret: String?
    /// A file holding the server secret (mode 0600): the recommended way, since a `--secret`
    /// flag shows in `ps` to every user of the machine.
    public var secretFile: String?
    /// Sustained requests per second allowed per API key. Default 100.
    public var rateLimitPerSecond: Double
    /// Burst allowed per API key. Default 200.
    public var rateLimitBurst: Double
    /// Log level. Default `info`.
    public var logLevel: Logger.Level
    /// Log format: `text` (default) or `json`, one object per line.
    public var logFormat: LogFormat
    /// The proxies whose `X-Forwarded-For` and `X-Forwarded-Host` are believed
    /// (`--trusted-proxies CIDR,…`; `--trust-proxy` is shorthand for this machine's loopback
    /// addresses). Default: nobody, so the peer is the client and `Host` the host.
    public var proxyTrust: ProxyTrust
    /// Whether webhook endpoints may point at loopback, private, link-local or metadata
    /// addresses. Default false; tests and single-machine set-ups turn it on.
    public var allowPrivateWebhooks: Bool
    /// How long a worker's claim on a delivery lasts before another worker may take it over
    /// (seconds). Default 60: longer than the 10 s request timeout.
    public var webhookLease: Double

    /// The mail server for verification codes, `smtp://user:pass@host:587` or `smtps://…`;
    /// unset (the default) writes messages to the log instead, and shows test-mode ones on
    /// `/dev/mailbox`.
    public var smtp: SMTPConfiguration?
    /// The sender address of verification emails. Default `no-reply@` the public URL's host.
    public var mailFrom: String
    /// Verification codes one address may be sent per hour. Default 5.
    public var verifyAddressLimit: Int
    /// Code requests plus code tries one client IP may make per hour. Default 30.
    public var verifyClientLimit: Int
    /// Verification emails one organization's mode may send per hour. Default 1000.
    public var verifyOrganizationLimit: Int
    /// Whether test-mode emails are shown on `/dev/mailbox` when no mail server is configured.
    /// Default: only when the public URL is a loopback address (a developer's machine).
    public var devMailbox: Bool

    /// SQLite's `synchronous` setting: `full` (default) or `normal`.
    public var sqliteSynchronous: SQLiteDatabasePool.Synchronous

    /// The public URL without a trailing slash, for building absolute links.
    public var publicBase: String {
        let text = self.publicURL.absoluteString
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    /// bcrypt's work factor for dashboard passwords. Default 12. (Tests may set as little as 4.)
    public var passwordHashCost: Int

    /// How long one call to a billing provider may take, retries included (seconds). Default 20.
    public var billingTimeoutSeconds: Double
    public var billingTimeouts: ProviderTimeouts {
        ProviderTimeouts(attempt: min(10, self.billingTimeoutSeconds), total: self.billingTimeoutSeconds)
    }

    /// How long an API-key check is remembered (seconds); revocation and rotation take effect
    /// on every instance within it. Default 5; 0 checks the database on every request.
    public var apiKeyCacheSeconds: Double

    /// Seconds a client has to send a request's headers (from connecting, or from the end of
    /// the previous response on a kept-alive connection) and, separately, its body; a client
    /// that trickles them is cut off; also how long a kept-alive connection may sit idle. Default 30.
    public var readTimeoutSeconds: Double
    public var readTimeout: Duration { .milliseconds(Int64(self.readTimeoutSeconds * 1000)) }
    /// Failed API authentications one client address may make per minute before its requests
    /// are refused without a database lookup. Default 20.
    public var authFailureLimit: Int
    /// Form submissions (POSTs) to hosted pages one client address may make per minute.
    /// Default 60.
    public var pagePostLimit: Int

    /// Whether `GET /metrics` is served on the main listener. Default false.
    public var metrics: Bool
    /// A separate listener for `GET /metrics` (`host:port`, `[v6]:port` or a port); nil: none.
    public var metricsAddress: (host: String, port: Int)?

    /// The prefix every key is read under: `cancelflow.port` is the `CANCELFLOW_PORT` variable.
    public static let scope = "cancelflow"

    /// Reads the configuration; throws a readable error for a bad value.
    public init(reader: ConfigReader) throws(CancelflowError) {
        let config = reader.scoped(to: ConfigKey(Self.scope))
        self.host = config.string(.host)
        self.port = config.int(.port)
        guard (1...65535).contains(self.port) else { throw .configuration("--port must be between 1 and 65535") }
        self.database = try Database.parse(config.string(.database))
        let hostForURL = self.host.contains(":") ? "[\(self.host)]" : self.host
        let publicText = config.optionalString(.publicUrl) ?? "http://\(hostForURL):\(self.port)"
        guard let publicURL = URL(string: publicText), let scheme = publicURL.scheme, ["http", "https"].contains(scheme),
            publicURL.host != nil, publicURL.query == nil
        else {
            throw .configuration("--public-url must be an absolute http(s) URL without a query, e.g. https://cancel.example.com")
        }
        self.publicURL = publicURL
        let base = config.optionalString(.subdomainBase)?.trimmingCharacters(in: .whitespaces).lowercased()
        self.subdomainBase = (base?.isEmpty ?? true) ? nil : base
        self.secret = config.optionalString(.secret)
        self.secretFile = config.optionalString(.secretFile).flatMap { $0.isEmpty ? nil : $0 }
        guard self.secret == nil || self.secretFile == nil else {
            throw .configuration("set either --secret or --secret-file, not both")
        }
        self.rateLimitPerSecond = config.double(.rateLimit)
        self.rateLimitBurst = config.double(.rateLimitBurst)
        guard self.rateLimitPerSecond > 0, self.rateLimitBurst >= 1 else {
            throw .configuration("--rate-limit must be positive and --rate-limit-burst at least 1")
        }
        let level = config.string(.logLevel)
        guard let logLevel = Logger.Level(rawValue: level) else {
            throw .configuration("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        self.logLevel = logLevel
        guard let logFormat = LogFormat(rawValue: config.string(.logFormat).lowercased()) else {
            throw .configuration("--log-format must be text or json")
        }
        self.logFormat = logFormat
        var proxyTrust = ProxyTrust.none
        if let list = config.optionalString(.trustedProxies) {
            guard let parsed = ProxyTrust.parse(list) else {
                throw .configuration("--trusted-proxies must be a comma-separated list of addresses or CIDR networks, e.g. 10.0.0.0/8,::1")
            }
            proxyTrust = parsed
        }
        if config.flag(.trustProxy) {
            proxyTrust.networks += ProxyTrust.loopback.networks
        }
        self.proxyTrust = proxyTrust
        self.allowPrivateWebhooks = config.flag(.allowPrivateWebhooks)
        self.webhookLease = config.double(.webhookLease)
        guard self.webhookLease >= 1 else { throw .configuration("--webhook-lease must be at least 1 second") }
        if let url = config.optionalString(.smtpUrl), !url.isEmpty {
            do {
                self.smtp = try SMTPConfiguration(url: url, timeout: .seconds(10))
            } catch {
                throw .configuration("--smtp-url must look like smtp://user:pass@host:587 or smtps://user:pass@host:465")
            }
        } else {
            self.smtp = nil
        }
        let defaultFrom = "no-reply@\(publicURL.host ?? "localhost")"
        let from = config.optionalString(.mailFrom) ?? (Self.isPlainAddress(defaultFrom) ? defaultFrom : "no-reply@localhost")
        guard Self.isPlainAddress(from) else {
            throw .configuration("--mail-from must be a bare address like no-reply@example.com")
        }
        self.mailFrom = from
        guard let synchronous = SQLiteDatabasePool.Synchronous(rawValue: config.string(.sqliteSynchronous).lowercased())
        else { throw .configuration("--sqlite-synchronous must be full or normal") }
        self.sqliteSynchronous = synchronous
        self.apiKeyCacheSeconds = config.double(.apiKeyCache)
        guard (0...60).contains(self.apiKeyCacheSeconds) else { throw .configuration("--api-key-cache must be between 0 and 60 seconds") }
        self.verifyAddressLimit = config.int(.verifyAddressLimit)
        self.verifyClientLimit = config.int(.verifyClientLimit)
        self.verifyOrganizationLimit = config.int(.verifyOrganizationLimit)
        guard self.verifyAddressLimit >= 1, self.verifyClientLimit >= 1, self.verifyOrganizationLimit >= 1 else {
            throw .configuration("--verify-address-limit, --verify-client-limit and --verify-organization-limit must be at least 1")
        }
        self.passwordHashCost = config.int(.passwordHashCost)
        // 4 to 9 only for tests: the variable is not documented below 10, and bcrypt's C code
        // stops the process on a cost outside 4...31.
        guard (4...16).contains(self.passwordHashCost) else {
            throw .configuration("--password-hash-cost must be between 4 and 16 (10 or more in production)")
        }
        self.billingTimeoutSeconds = config.double(.billingTimeout)
        guard (1...120).contains(self.billingTimeoutSeconds) else { throw .configuration("--billing-timeout must be between 1 and 120 seconds") }
        self.readTimeoutSeconds = config.double(.readTimeout)
        guard (1...300).contains(self.readTimeoutSeconds) else { throw .configuration("--read-timeout must be between 1 and 300 seconds") }
        self.authFailureLimit = config.int(.authFailureLimit)
        self.pagePostLimit = config.int(.pagePostLimit)
        guard self.authFailureLimit >= 1, self.pagePostLimit >= 1 else {
            throw .configuration("--auth-failure-limit and --page-post-limit must be at least 1")
        }
        self.metrics = config.flag(.metrics)
        if let address = config.optionalString(.metricsAddress), !address.isEmpty {
            guard let parsed = Self.hostAndPort(address) else {
                throw .configuration("--metrics-address must be HOST:PORT, [IPv6]:PORT or a port, e.g. 127.0.0.1:9464")
            }
            self.metricsAddress = parsed
        } else {
            self.metricsAddress = nil
        }
        let host = (publicURL.host ?? "").lowercased()
        let loopback = host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
        self.devMailbox = config.bool(.devMailbox) ?? loopback
    }

    /// `host:port`, `[v6]:port`, or a bare port (on 127.0.0.1).
    static func hostAndPort(_ text: String) -> (host: String, port: Int)? {
        if let port = Int(text), (1...65535).contains(port) { return ("127.0.0.1", port) }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty || host.contains(" ") ? nil : (host, port)
    }

    /// `local@domain` with nothing that could break out of a mail header.
    static func isPlainAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && text.utf8.count <= 254
            && text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && !"<>()[],;:\\\"".unicodeScalars.contains($0) }
    }
}

/// Reads settings by their entry in the table, so that key names and defaults are written once.
extension ConfigReader {
    /// The value, or nil when nothing sets it (for settings without a literal default).
    func optionalString(_ setting: Setting) -> String? {
        self.string(forKey: ConfigKey(setting.key), isSecret: setting.isSecret)
    }

    func string(_ setting: Setting) -> String {
        self.string(forKey: ConfigKey(setting.key), isSecret: setting.isSecret, default: setting.literalDefault ?? "")
    }

    func int(_ setting: Setting) -> Int {
        self.int(forKey: ConfigKey(setting.key), default: setting.literalDefault.flatMap { Int($0) } ?? 0)
    }

    func double(_ setting: Setting) -> Double {
        self.double(forKey: ConfigKey(setting.key), default: setting.literalDefault.flatMap { Double($0) } ?? 0)
    }

    /// A flag: off unless set.
    func flag(_ setting: Setting) -> Bool {
        self.bool(forKey: ConfigKey(setting.key), default: false)
    }

    /// A `true`/`false` setting whose default depends on other settings.
    func bool(_ setting: Setting) -> Bool? {
        self.bool(forKey: ConfigKey(setting.key))
    }
}
