import CancelflowCore
import CancelflowStore
import Foundation
import Logging

/// The two engines every store and API test runs on.
public enum TestEngine: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { self.rawValue }
}

/// A failure of the test set-up itself, with what to do about it.
public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Fresh, migrated databases for tests: a new SQLite file in a temporary folder, or a new
/// database in the PostgreSQL cluster that `scripts/test` starts (named by
/// `CANCELFLOW_TEST_POSTGRES_URL`). Each is dropped afterwards.
public enum TestDatabase {
    /// The admin URL of the test cluster.
    public static var postgresURL: String? { ProcessInfo.processInfo.environment["CANCELFLOW_TEST_POSTGRES_URL"] }

    /// Where a test database lives, for tests that inspect it from outside (file bytes, pg_dump).
    public enum Location: Sendable {
        case sqlite(path: String)
        case postgres(url: String)
    }

    /// Runs `body` with a migrated pool on a fresh database of the engine.
    public static func withPool<Result: Sendable>(
        _ engine: TestEngine,
        logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
        _ body: @Sendable (any DatabasePool, Location) async throws -> Result
    ) async throws -> Result {
        switch engine {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cancelflow-test-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = folder.appendingPathComponent("test.sqlite").path
            // A throwaway database, like the PostgreSQL cluster scripts/test runs with fsync off:
            // syncing only at checkpoints. With every commit synced, a fresh CI machine flushing
            // a just-finished build stalled commits for seconds, and multi-step tests timed out.
            // (Durability at `full` is tested with real servers: WriterTests, CrashDurabilityTests.)
            let pool = try await SQLiteDatabasePool.open(path: path, synchronous: .normal, logger: logger)
            do {
                try await Migrator(pool: pool).migrate(logger: logger)
                let result = try await body(pool, .sqlite(path: path))
                try await pool.shutdown()
                return result
            } catch {
                try? await pool.shutdown()
                throw error
            }
        case .postgres:
            guard let adminURL = self.postgresURL else {
                throw TestSetupError(
                    "PostgreSQL tests need CANCELFLOW_TEST_POSTGRES_URL: run them through scripts/test, which starts a throwaway cluster."
                )
            }
            let name = "cf_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
            try await self.admin(adminURL, logger: logger, "CREATE DATABASE \(name)")
            let url = Self.replacingDatabase(in: adminURL, with: String(name))
            do {
                let pool = try PostgresDatabasePool(url: url, maxConnections: 60, logger: logger)
                let result = try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await pool.run() }
                    defer { group.cancelAll() }
                    try await Migrator(pool: pool).migrate(logger: logger)
                    return try await body(pool, .postgres(url: url))
                }
                try await self.admin(adminURL, logger: logger, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                return result
            } catch {
                try? await self.admin(adminURL, logger: logger, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
                throw error
            }
        }
    }

    /// Runs one statement on the cluster's admin database.
    static func admin(_ url: String, logger: Logger, _ statement: String) async throws {
        let pool = try PostgresDatabasePool(url: url, maxConnections: 1, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await pool.run() }
            defer { group.cancelAll() }
            try await pool.withConnection { db in try await db.raw(.init(statement)).run() }
        }
    }

    /// The URL with another database name.
    public static func replacingDatabase(in url: String, with name: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.path = "/" + name
        return components.string ?? url
    }
}
