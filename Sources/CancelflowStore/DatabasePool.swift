import CancelflowSQLite
import Logging
import PostgresNIO
import SQLKit
import ServiceLifecycle
import Synchronization

/// Which SQL engine a pool talks to; the few statements that differ switch on it.
public enum DatabaseEngine: String, Sendable {
    case sqlite
    case postgres
}

/// Hands out database sessions. Each call to `withConnection` holds one connection for the
/// closure's duration, which is what a transaction needs.
///
/// A pool is a `Service`: run it in the service group (or `AppServices.withRunningPool`) while
/// sessions are used, and it closes its connections when that run ends. Nothing outside this
/// target needs to know which engine is behind it.
public protocol DatabasePool: Service, Sendable {
    /// The engine.
    var engine: DatabaseEngine { get }
    /// How many sessions have been handed out since start; a request that must not touch the
    /// database can be checked against it.
    var sessionCount: Int { get }
    /// Sessions started so far and the time they spent waiting for a connection (SQLite: for the
    /// writer or a free reader; PostgreSQL: for the pool), for the metrics.
    var sessionWaits: SessionWaits { get }
    /// Runs `body` with one connection, outside any transaction unless `body` starts one.
    func withConnection<Result: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result
    /// Runs `body`, which only reads, with a connection that may be one of several readers: on
    /// SQLite in WAL mode reads then neither wait for nor hold up the writer. A read sees every
    /// write that committed before it started.
    func read<Result: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws; the
    /// result arrives once the commit is durable.
    func transaction<Result: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result
    /// Runs writes in a transaction, as `transaction` does, on every engine; the name marks the
    /// writes that need no isolation from their neighbours beyond that, which SQLite may then
    /// commit together with others (group commit).
    func write<Result: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result
    /// Runs one statement that needs nothing around it (a single statement is atomic on its
    /// own), committed the cheapest way the engine has: a place in the shared commit on SQLite,
    /// autocommit on PostgreSQL (a transaction there would cost two more round trips).
    func run(_ statement: SQLQueryString) async throws
    /// Closes every connection.
    func shutdown() async throws
}

extension DatabasePool {
    /// Reads on the pool's ordinary connections.
    public func read<Result: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await self.withConnection(body)
    }

    /// An autocommitted statement.
    public func run(_ statement: SQLQueryString) async throws {
        try await self.withConnection { db in try await db.raw(statement).run() }
    }

    /// A transaction of its own.
    public func write<Result: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await self.transaction(body)
    }

    /// `BEGIN` … `COMMIT` on one connection, `ROLLBACK` when `body` throws.
    public func transaction<Result: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await self.withConnection { db in
            try await db.raw("BEGIN").run()
            do {
                let result = try await body(db)
                try await db.raw("COMMIT").run()
                return result
            } catch {
                try? await db.raw("ROLLBACK").run()
                throw error
            }
        }
    }
}

/// Sessions and their waits so far.
public struct SessionWaits: Sendable, Equatable {
    public var sessions: Int
    public var waitedNanoseconds: Int

    public init(sessions: Int, waitedNanoseconds: Int) {
        self.sessions = sessions
        self.waitedNanoseconds = waitedNanoseconds
    }
}

/// Counts sessions for `DatabasePool.sessionCount`, and how long they waited to start.
final class SessionCounter: Sendable {
    private let count = Atomic<Int>(0)
    private let started = Atomic<Int>(0)
    private let waited = Atomic<Int>(0)

    func increment() { self.count.add(1, ordering: .relaxed) }

    var value: Int { self.count.load(ordering: .relaxed) }

    /// A session asked for at `asked` has its connection now.
    func began(asked: ContinuousClock.Instant) {
        let wait = ContinuousClock.now - asked
        self.started.add(1, ordering: .relaxed)
        self.waited.add(Int(wait.components.seconds) * 1_000_000_000 + Int(wait.components.attoseconds / 1_000_000_000), ordering: .relaxed)
    }

    var waits: SessionWaits {
        SessionWaits(sessions: self.started.load(ordering: .relaxed), waitedNanoseconds: self.waited.load(ordering: .relaxed))
    }
}

/// Whether an error is a unique-constraint violation, on either engine: by PostgreSQL's SQLSTATE
/// `23505` or SQLite's extended result codes, never by the wording of a message.
public func isUniqueViolation(_ error: any Error) -> Bool {
    if let error = error as? DirectSQLiteError { return error.isUniqueViolation }
    if let error = error as? PSQLError { return error.serverInfo?[.sqlState] == "23505" }
    return false
}
