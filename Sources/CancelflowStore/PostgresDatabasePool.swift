import Foundation
import Logging
import PostgresKit
import SQLKit
import ServiceLifecycle

/// PostgreSQL through PostgresNIO's `PostgresClient` connection pool. The client is a `Service`:
/// it must be running (in the service group, or `withRunning`) while sessions are used.
public final class PostgresDatabasePool: DatabasePool, Service {
    /// The engine.
    public var engine: DatabaseEngine { .postgres }
    /// Sessions handed out so far.
    public var sessionCount: Int { self.counter.value }
    /// Sessions and their waits for a pooled connection.
    public var sessionWaits: SessionWaits { self.counter.waits }

    private let client: PostgresClient
    private let logger: Logger
    private let counter = SessionCounter()
    private let names = StatementNames()

    /// Creates a pool from a `postgres://user:pass@host:port/db[?sslmode=…]` URL.
    public init(url: String, maxConnections: Int = 20, logger: Logger) throws {
        let parsed: SQLPostgresConfiguration
        do {
            parsed = try SQLPostgresConfiguration(url: url)
        } catch {
            throw DatabaseURLError.invalid("not a valid postgres:// URL")
        }
        let core = parsed.coreConfiguration
        guard let host = core.host, let port = core.port else {
            throw DatabaseURLError.invalid("the URL must name a host")
        }
        let tls: PostgresClient.Configuration.TLS =
            switch (core.tls.isEnforced, core.tls.isAllowed, core.tls.sslContext) {
            case (true, _, .some(let context)): .require(context.configuration)
            case (false, true, .some(let context)): .prefer(context.configuration)
            default: .disable
            }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: core.username,
            password: core.password,
            database: core.database,
            tls: tls
        )
        configuration.options.maximumConnections = maxConnections
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
    }

    /// Runs the connection pool until cancelled or shut down gracefully.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.client.run()
        }
    }

    /// Runs `body` with a leased connection.
    public func withConnection<Result: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        self.counter.increment()
        let logger = self.logger
        let asked = ContinuousClock.now
        let counter = self.counter
        let names = self.names
        return try await self.client.withConnection { connection in
            counter.began(asked: asked)
            // No query logging: sql-kit would log bound values, which include customer data.
            let plain = connection.sql(queryLogLevel: nil, logger: logger)
            return try await body(PreparingPostgresDatabase(connection: connection, plain: plain, names: names))
        }
    }

    /// Nothing to do: the pool closes when `run` ends.
    public func shutdown() async throws {}
}

/// A malformed `--database` value.
public enum DatabaseURLError: Error, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let reason): "Invalid database URL: \(reason)."
        }
    }
}
