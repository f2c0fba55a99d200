import Foundation
import Logging
import SQLKit

/// One named, append-only schema step. Steps are never edited once released: a change to the
/// schema is a new step.
public struct Migration: Sendable {
    /// A unique, ordered name, e.g. `0001_initial`.
    public let name: String
    /// The statements to run, per engine.
    public let statements: @Sendable (DatabaseEngine) -> [String]
}

/// Applies the migrations a database has not seen yet, each in its own transaction together with
/// its record in `schema_migrations`, so a step is either wholly applied or not at all.
public struct Migrator: Sendable {
    /// Every step, in order.
    public static let all: [Migration] = [
        .initial,
        .cancelFlow,
        .webhooks,
        .emailVerification,
        .billing,
        .dashboard,
        .flows,
        .confirmations,
        .languages,
    ]

    let pool: any DatabasePool

    /// Creates a migrator for a pool.
    public init(pool: any DatabasePool) {
        self.pool = pool
    }

    /// Applies pending steps; returns the names applied.
    @discardableResult
    public func migrate(logger: Logger) async throws -> [String] {
        let lockEngine = self.pool.engine
        try await self.pool.transaction { db in
            // Concurrent CREATE TABLE IF NOT EXISTS can still collide on PostgreSQL's catalog:
            // serialise it behind the same lock the steps take.
            if lockEngine == .postgres {
                try await db.raw("SELECT pg_advisory_xact_lock(7452019)").run()
            }
            try await db.raw("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)").run()
        }
        var applied: [String] = []
        for migration in Self.all {
            let engine = self.pool.engine
            let ran = try await self.pool.transaction { db in
                if engine == .postgres {
                    // Several instances may start at once; one migrates, the others wait here and
                    // then find the step recorded.
                    try await db.raw("SELECT pg_advisory_xact_lock(7452019)").run()
                }
                let done = try await db.raw("SELECT name FROM schema_migrations WHERE name = \(bind: migration.name)").first()
                if done != nil { return false }
                for statement in migration.statements(engine) {
                    try await db.raw(SQLQueryString(statement)).run()
                }
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                try await db.raw("INSERT INTO schema_migrations (name, applied_at) VALUES (\(bind: migration.name), \(bind: now))").run()
                return true
            }
            if ran {
                logger.info("Applied migration", metadata: ["migration": .string(migration.name)])
                applied.append(migration.name)
            }
        }
        return applied
    }
}
