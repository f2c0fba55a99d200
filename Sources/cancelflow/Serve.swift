import ArgumentParser
import CancelflowApp
import CancelflowCore
import CancelflowStore
import Foundation
import Hummingbird
import Logging

/// `cancelflow serve`: the API and hosted pages, until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the service (the default command).")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let reader = try await self.options.reader()
        let format = try await self.options.configuration().logFormat
        LogWriter.standardOutput.reportDrops(as: format.dropNotice)
        // Every line the server logged is written before the process ends.
        defer { LogWriter.standardOutput.flush() }
        var configured = Logger(label: "cancelflow", factory: format.handler)
        configured.logLevel = .info
        let logger = configured
        let app: any ApplicationProtocol
        do {
            app = try await buildApplication(reader: reader, logger: logger) { created, configuration, setupURL in
                switch format {
                case .text: Self.announce(created, publicURL: configuration.publicURL, setupURL: setupURL)
                case .json: Self.announce(created, setupURL: setupURL, to: logger)
                }
            }
        } catch {
            throw CommandFailure(error)
        }
        try await app.runService()
    }

    /// The same as one JSON log line, for a log collector: standard output holds only JSON then.
    static func announce(_ created: CredentialService.CreatedOrganization, setupURL: String, to logger: Logger) {
        logger.notice(
            "First start: created an organization; its test API key is shown only now",
            metadata: [
                "organization_id": .string(created.organization.id),
                "test_app_id": .string(created.test.appId),
                "test_api_key": .string(created.test.apiKey),
                "live_app_id": .string(created.live.appId),
                "live_api_key": .string("not shown; run: cancelflow keys rotate --org \(created.organization.id) --mode live --grace 0"),
                "dashboard_setup_url": .string(setupURL),
            ]
        )
    }

    /// Shows the first organization's test credentials, once; they are not stored anywhere
    /// readable. The live key is never printed: service managers keep standard output for ever,
    /// and a live key there is a live key in every log archive. The operator issues one from the
    /// command line, where it is shown once to the person who asked.
    static func announce(_ created: CredentialService.CreatedOrganization, publicURL: URL, setupURL: String) {
        let base = publicURL.absoluteString.hasSuffix("/") ? String(publicURL.absoluteString.dropLast()) : publicURL.absoluteString
        // Through the log writer, like every other line on standard output: two writers on one
        // pipe could split each other's lines.
        LogWriter.standardOutput.append(
            """

            ┌─ Cancelflow: first start ─────────────────────────────────────────────
            │ Created organization \(created.organization.id) ("\(created.organization.name)").
            │
            │ Test mode   App ID   \(created.test.appId)
            │             API key  \(created.test.apiKey)
            │ Live mode   App ID   \(created.live.appId)
            │             API key  not shown; to get one (shown once), run:
            │   cancelflow keys rotate --org \(created.organization.id) --mode live --grace 0
            │
            │ The test API key is shown only now and stored only as a hash: copy it
            │ into your backend's environment. Next, push a customer and mint a link:
            │
            │   curl -X PUT \(base)/v1/customers/cus_123 \\
            │     -H 'x-ck-app: \(created.test.appId)' -H 'x-ck-api-key: <test API key>' \\
            │     -H 'Content-Type: application/json' -d '{"email":"ada@example.com","name":"Ada"}'
            │
            │ then POST \(base)/v1/cancel-sessions (see README.md, "Quick start").
            │
            │ Dashboard: set up the first owner's account (one use, 24 hours):
            │   \(setupURL)
            └───────────────────────────────────────────────────────────────────────


            """
        )
    }
}

/// `cancelflow worker`: webhook deliveries without the HTTP server.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Deliver webhooks (and sweep abandoned flows) without serving HTTP.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let format = try await self.options.configuration().logFormat
        LogWriter.standardOutput.reportDrops(as: format.dropNotice)
        defer { LogWriter.standardOutput.flush() }
        var logger = Logger(label: "cancelflow-worker", factory: format.handler)
        logger.logLevel = .info
        do {
            try await runWorker(reader: try await self.options.reader(), logger: logger)
        } catch {
            throw CommandFailure(error)
        }
    }
}

/// `cancelflow migrate`: bring the database schema up to date and exit.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await withServices(self.options) { _ in }
        print("Database is up to date.")
    }
}

/// `cancelflow backup --to FILE`: a consistent copy of a live SQLite database, taken while the
/// server runs. On PostgreSQL, `pg_dump` is the tool (see the README).
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a live SQLite database to a new file (mode 0600) without stopping the server."
    )

    @Option(help: "The file to write; it must not exist yet.")
    var to: String

    @OptionGroup var options: CommonOptions

    func run() async throws {
        let configuration = try await self.options.configuration()
        guard case .sqlite(let path) = configuration.database else {
            throw CommandFailure(message: "cancelflow backup copies SQLite databases; on PostgreSQL use pg_dump (see README.md, \"Backups\").")
        }
        let size: Int
        do {
            size = try SQLiteDatabasePool.backup(databasePath: path, to: self.to)
        } catch {
            throw CommandFailure(error)
        }
        print("Copied \(path) to \(self.to) (\(size) bytes).")
        print(
            "Keep the server secret (\(configuration.secretFile ?? path + ".secret"), or your --secret) with it: links, webhook and billing secrets and TOTP need it."
        )
    }
}
