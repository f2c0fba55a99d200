import Foundation
import Logging
import SQLiteKit
import SQLKit

/// The embedded default: one SQLite connection in WAL mode, used by one session at a time.
///
/// SQLite allows one writer at a time anyway; queueing sessions here, in order, instead of letting
/// several connections race for the file lock means no `SQLITE_BUSY` inside the process and
/// transactions that never interleave. Other processes (the CLI next to a running server) wait
/// on the busy timeout.
public final class SQLiteDatabasePool: DatabasePool {
    /// The engine.
    public var engine: DatabaseEngine { .sqlite }
    /// Sessions handed out so far.
    public var sessionCount: Int { self.counter.value }

    private let connection: SQLiteConnection
    private let database: any SQLDatabase
    private let lock = AsyncLock()
    private let counter = SessionCounter()
    /// The file, or nil for an in-memory database.
    public let path: String?

    private init(connection: SQLiteConnection, path: String?, logger: Logger) {
        self.connection = connection
        // No query logging: sql-kit would log bound values, which include customer data.
        self.database = connection.sql(queryLogLevel: nil).logging(to: logger)
        self.path = path
    }

    /// How hard SQLite works to keep a commit.
    public enum Synchronous: String, Sendable, CaseIterable {
        /// Every commit is synced to disk before it is acknowledged: survives a crash of the
        /// process or of the machine. The default.
        case full
        /// In WAL mode, commits are synced at checkpoints: survives a crash of the process (the
        /// WAL is in the operating system's hands), but a power cut or kernel crash may lose the
        /// last commits.
        case normal
    }

    /// Opens (creating when missing) the database file and sets the durability the service
    /// promises: WAL with `synchronous=FULL` by default, so an acknowledged write survives a crash
    /// of the process or the machine.
    public static func open(path: String, synchronous: Synchronous = .full, logger: Logger) async throws -> SQLiteDatabasePool {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let pool = SQLiteDatabasePool(connection: connection, path: path, logger: logger)
        do {
            let pragmas = ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=\(synchronous.rawValue.uppercased())", "PRAGMA foreign_keys=ON",
                           "PRAGMA busy_timeout=5000"]
            for pragma in pragmas {
                try await pool.database.raw(SQLQueryString(pragma)).run()
            }
        } catch {
            try? await connection.close()
            throw error
        }
        return pool
    }

    /// Runs `body` with the connection once every earlier session has finished.
    public func withConnection<Result: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        self.counter.increment()
        await self.lock.lock()
        do {
            let result = try await body(self.database)
            await self.lock.unlock()
            return result
        } catch {
            await self.lock.unlock()
            throw error
        }
    }

    /// Closes the connection.
    public func shutdown() async throws {
        try await self.connection.close()
    }
}

/// A first-come, first-served lock for async code.
actor AsyncLock {
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var head = 0

    func lock() async {
        if !self.locked {
            self.locked = true
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    func unlock() {
        if self.head < self.waiters.count {
            let next = self.waiters[self.head]
            self.head += 1
            if self.head > 64, self.head * 2 > self.waiters.count {
                self.waiters.removeFirst(self.head)
                self.head = 0
            }
            // The lock passes straight to the next waiter; it never becomes free in between.
            next.resume()
        } else {
            self.locked = false
        }
    }
}
