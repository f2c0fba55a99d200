import Configuration

/// One configuration key: its name, the kind of value it takes, its default and what it means.
///
/// Everything else about a key is derived from this one entry: the command-line flag
/// (`publicUrl` → `--public-url`), the environment variable and `.env` line
/// (`CANCELFLOW_PUBLIC_URL`), the help text, the default `AppConfiguration` falls back to, and
/// the row the README's configuration table must have (a test holds the README to it).
public struct Setting: Sendable, Hashable {
    /// What a value looks like on the command line.
    public enum Kind: Sendable, Hashable {
        /// Free text.
        case text
        /// A whole number.
        case integer
        /// A number, fractions allowed.
        case number
        /// A flag without a value: present means on.
        case flag
        /// `true` or `false`.
        case boolean
    }

    /// What applies when the key is not set.
    public enum Default: Sendable, Hashable {
        /// This value, as it would be written on the command line.
        case value(String)
        /// Off (flags).
        case off
        /// Nothing: the feature is unused.
        case none
        /// Worked out from other settings, as described (Markdown, as the README shows it).
        case derived(String)
    }

    /// The configuration key, in `lowerCamelCase`, read under the `cancelflow` scope.
    public let key: String
    public let kind: Kind
    public let defaultValue: Default
    /// One line for `--help`, without the default (which is appended from `defaultValue`).
    public let help: String
    /// Never shown in logs or messages; its environment variable is read as a secret.
    public let isSecret: Bool

    init(_ key: String, _ kind: Kind, _ defaultValue: Default, secret: Bool = false, _ help: String) {
        self.key = key
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
        self.isSecret = secret
    }

    /// `--public-url`.
    public var flag: String { "--" + Self.words(of: self.key).joined(separator: "-") }

    /// `CANCELFLOW_PUBLIC_URL`: swift-configuration's mapping of `cancelflow.publicUrl`.
    public var environmentVariable: String {
        ([AppConfiguration.scope] + Self.words(of: self.key)).joined(separator: "_").uppercased()
    }

    /// The default as the README's table shows it: `` `8080` ``, `off`, `none`, or the description.
    public var documentedDefault: String {
        switch self.defaultValue {
        case .value(let value): "`\(value)`"
        case .off: "off"
        case .none: "none"
        case .derived(let text): text
        }
    }

    /// The literal default, when there is one.
    var literalDefault: String? {
        if case .value(let value) = self.defaultValue { return value }
        return nil
    }

    /// `publicUrl` → `["public", "url"]`.
    static func words(of key: String) -> [String] {
        var words: [String] = []
        var current = ""
        for character in key {
            if character.isUppercase, !current.isEmpty {
                words.append(current)
                current = ""
            }
            current.append(character.lowercased())
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}

extension Setting {
    static let host = Setting("host", .text, .value("127.0.0.1"), "Interface to listen on.")
    static let port = Setting("port", .integer, .value("8080"), "Port to listen on.")
    static let database = Setting(
        "database", .text, .value("sqlite:cancelflow.sqlite"),
        "Database: sqlite:PATH or postgres://user:pass@host:port/db."
    )
    static let publicUrl = Setting(
        "publicUrl", .text, .derived("`http://HOST:PORT`"), "Public base URL of links and hosted pages."
    )
    static let subdomainBase = Setting(
        "subdomainBase", .text, .none, "Parent domain for organization subdomains, e.g. cancel.example.com."
    )
    static let secretFile = Setting(
        "secretFile", .text,
        .derived("SQLite: `DATABASE.secret`, generated on first start; PostgreSQL: **required** (or `--secret`)"),
        "File holding the server secret (mode 0600; refused when others can read it). The recommended way to pass it."
    )
    static let secret = Setting(
        "secret", .text, .none, secret: true,
        "Server secret for token MACs, 32+ characters. Visible to every user in ps: prefer --secret-file."
    )
    static let rateLimit = Setting("rateLimit", .number, .value("100"), "Requests per second allowed per API key.")
    static let rateLimitBurst = Setting("rateLimitBurst", .number, .value("200"), "Burst of requests allowed per API key.")
    static let logLevel = Setting(
        "logLevel", .text, .value("info"), "Log level: trace, debug, info, notice, warning, error, critical."
    )
    static let logFormat = Setting(
        "logFormat", .text, .value("text"), "Log format: text, or json for one JSON object per line."
    )
    static let metrics = Setting(
        "metrics", .flag, .off, "Serve GET /metrics (Prometheus text format) on the main listener."
    )
    static let metricsAddress = Setting(
        "metricsAddress", .text, .none, "Serve GET /metrics on a listener of its own, HOST:PORT or a port on 127.0.0.1."
    )
    static let allowPrivateWebhooks = Setting(
        "allowPrivateWebhooks", .flag, .off, "Allow webhook endpoints on loopback, private and link-local addresses."
    )
    static let webhookLease = Setting(
        "webhookLease", .number, .value("60"), "Seconds a worker's claim on a webhook delivery lasts before another may take it."
    )
    static let trustedProxies = Setting(
        "trustedProxies", .text, .none,
        "Comma-separated addresses or CIDR networks of reverse proxies whose X-Forwarded-For and X-Forwarded-Host are believed."
    )
    static let trustProxy = Setting(
        "trustProxy", .flag, .off, "Shorthand for --trusted-proxies 127.0.0.0/8,::1: a reverse proxy on this machine."
    )
    static let smtpUrl = Setting(
        "smtpUrl", .text, .none, secret: true,
        "Mail server for verification codes: smtp://user:pass@host:587 (STARTTLS when offered; ?starttls=required) or smtps://user:pass@host:465; without one, emails go to the log and test-mode ones to /dev/mailbox."
    )
    static let mailFrom = Setting(
        "mailFrom", .text, .derived("`no-reply@` the public URL's host"), "Sender address of verification emails."
    )
    static let verifyAddressLimit = Setting(
        "verifyAddressLimit", .integer, .value("5"), "Verification codes one email address may be sent per hour."
    )
    static let verifyClientLimit = Setting(
        "verifyClientLimit", .integer, .value("30"), "Verification requests plus code tries one client IP may make per hour."
    )
    static let verifyOrganizationLimit = Setting(
        "verifyOrganizationLimit", .integer, .value("1000"), "Verification emails one organization's mode may send per hour."
    )
    static let devMailbox = Setting(
        "devMailbox", .boolean, .derived("`true` when the public URL is a loopback address, else `false`"),
        "Show test-mode emails on /dev/mailbox when no mail server is configured: true or false."
    )
    static let sqliteSynchronous = Setting(
        "sqliteSynchronous", .text, .value("full"),
        "SQLite durability: full (every commit synced) or normal (synced at checkpoints; a power cut may lose the last commits)."
    )
    static let apiKeyCache = Setting(
        "apiKeyCache", .number, .value("5"),
        "Seconds an API-key check, a billing account and an organization's settings are remembered; changes take effect within it on every instance (0 = never)."
    )
    static let readTimeout = Setting(
        "readTimeout", .number, .value("30"),
        "Seconds a client has to send a request's headers, and then its body, before it is cut off; also how long an idle kept-alive connection stays open."
    )
    static let authFailureLimit = Setting(
        "authFailureLimit", .integer, .value("20"),
        "Failed API authentications one client address may make per minute before it is refused without a database lookup."
    )
    static let billingTimeout = Setting(
        "billingTimeout", .number, .value("20"),
        "Seconds one call to a billing provider (Stripe, Paddle) may take, retries included; each try gets at most 10 of them."
    )
    static let passwordHashCost = Setting(
        "passwordHashCost", .integer, .value("12"),
        "bcrypt work factor for dashboard passwords, 10 to 16 (each step doubles the time a sign-in takes, about 0.3 s at 12)."
    )
    static let pagePostLimit = Setting(
        "pagePostLimit", .integer, .value("60"), "Form submissions to hosted pages one client address may make per minute."
    )
}

/// The table of every setting, in the order `--help` and the README list them.
public enum Settings {
    public static let all: [Setting] = [
        .host, .port, .database, .publicUrl, .subdomainBase, .secretFile, .secret, .rateLimit, .rateLimitBurst, .logLevel,
        .logFormat, .metrics, .metricsAddress, .allowPrivateWebhooks, .webhookLease, .trustedProxies, .trustProxy, .smtpUrl,
        .mailFrom, .verifyAddressLimit, .verifyClientLimit, .verifyOrganizationLimit, .devMailbox, .sqliteSynchronous,
        .apiKeyCache, .readTimeout, .authFailureLimit, .pagePostLimit, .billingTimeout,
        .passwordHashCost,
    ]

    /// The settings part of `--help`: one entry per key, with its environment variable and default.
    public static var helpText: String {
        Self.all.map { setting in
            let value =
                switch setting.kind {
                case .flag: ""
                case .boolean: " true|false"
                case .integer, .number: " <number>"
                case .text: " <text>"
                }
            let shownDefault = setting.documentedDefault.replacingOccurrences(of: "`", with: "").replacingOccurrences(of: "**", with: "")
            return "  \(setting.flag)\(value)\n      \(setting.help) Default: \(shownDefault). Env: \(setting.environmentVariable)."
        }.joined(separator: "\n")
    }

    /// A command-line argument that is not a setting, or a setting without a usable value.
    public struct UsageError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The settings given on the command line (`--port 9000`, `--port=9000`, `--metrics`), as
    /// configuration values under the `cancelflow` scope.
    public static func parse(arguments: [String]) throws(UsageError) -> [AbsoluteConfigKey: ConfigValue] {
        let byFlag = Dictionary(uniqueKeysWithValues: Self.all.map { ($0.flag, $0) })
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            let name: String
            var inline: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            } else {
                name = argument
            }
            guard let setting = byFlag[name] else {
                throw UsageError(description: argument.hasPrefix("-") ? "Unknown option '\(name)'." : "Unexpected argument '\(argument)'.")
            }
            let content: ConfigContent
            if setting.kind == .flag {
                guard inline == nil else { throw UsageError(description: "\(setting.flag) takes no value.") }
                content = .bool(true)
            } else {
                let text: String
                if let inline {
                    text = inline
                } else if index < arguments.count {
                    text = arguments[index]
                    index += 1
                } else {
                    throw UsageError(description: "Missing value for '\(setting.flag)'.")
                }
                content = try Self.content(text, for: setting)
            }
            values[AbsoluteConfigKey([AppConfiguration.scope, setting.key])] = ConfigValue(content, isSecret: setting.isSecret)
        }
        return values
    }

    private static func content(_ text: String, for setting: Setting) throws(UsageError) -> ConfigContent {
        switch setting.kind {
        case .text:
            return .string(text)
        case .integer:
            guard let value = Int(text) else {
                throw UsageError(description: "The value '\(text)' is invalid for '\(setting.flag)': a whole number.")
            }
            return .int(value)
        case .number:
            guard let value = Double(text), value.isFinite else {
                throw UsageError(description: "The value '\(text)' is invalid for '\(setting.flag)': a number.")
            }
            return .double(value)
        case .boolean:
            guard let value = Bool(text) else {
                throw UsageError(description: "The value '\(text)' is invalid for '\(setting.flag)': true or false.")
            }
            return .bool(value)
        case .flag:
            return .bool(true)
        }
    }

    /// The configuration reader: the command line's settings, then `CANCELFLOW_*` environment
    /// variables, then `.env` in the working directory; `AppConfiguration` supplies the defaults.
    public static func reader(
        commandLine values: [AbsoluteConfigKey: ConfigValue]
    ) async throws
        -> ConfigReader
    {
        let secrets = SecretsSpecifier<String, String>.specific(Set(Self.all.filter(\.isSecret).map(\.environmentVariable)))
        return ConfigReader(providers: [
            InMemoryProvider(name: "command line", values: values),
            EnvironmentVariablesProvider(secretsSpecifier: secrets),
            try await EnvironmentVariablesProvider(environmentFilePath: ".env", allowMissing: true, secretsSpecifier: secrets),
        ])
    }
}
