import Foundation
import Logging
import SQLiteKit
import SQLKit
import Synchronization

/// The embedded default: one SQLite connection in WAL mode for everything that writes, used by one
/// session at a time, and a few read-only connections for reads.
///
/// SQLite allows one writer at a time anyway; queueing writing sessions here, in order, instead of
/// letting several connections race for the file lock means no `SQLITE_BUSY` inside the process
/// and transactions that never interleave. Reads go to their own connections: in WAL mode they see
/// the last commit without waiting for a writer's fsync, and several run at once (measured: a
/// page that only reads was bound by waiting in line behind the one connection, not by CPU).
/// Other processes (the CLI next to a running server) wait on the busy timeout.
public final class SQLiteDatabasePool: DatabasePool {
    /// The engine.
    public var engine: DatabaseEngine { .sqlite }
    /// Sessions handed out so far.
    public var sessionCount: Int { self.counter.value }

    private let connection: SQLiteConnection
    private let database: any SQLDatabase
    private let lock = AsyncLock()
    private let counter = SessionCounter()
    private let readers: ReaderSet
    private let readerConnections: [SQLiteConnection]
    /// Set once `shutdown` starts: a closed SQLiteNIO connection must not be queried (SQLite's
    /// misuse path then calls a log hook that no longer exists and the process crashes).
    private let closed = Atomic<Bool>(false)
    /// The file, or nil for an in-memory database.
    public let path: String?

    /// Read connections opened beside the writer.
    public static let readerCount = 4

    private init(connection: SQLiteConnection, readers: [SQLiteConnection], path: String?, logger: Logger) {
        self.connection = connection
        // No query logging: sql-kit would log bound values, which include customer data.
        self.database = connection.sql(queryLogLevel: nil).logging(to: logger)
        self.readerConnections = readers
        self.readers = ReaderSet(readers.map { $0.sql(queryLogLevel: nil).logging(to: logger) })
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
        var readers: [SQLiteConnection] = []
        do {
            // WAL first, on the writer, so that the readers open a database already in WAL mode.
            let pragmas = ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=\(synchronous.rawValue.uppercased())", "PRAGMA foreign_keys=ON",
                           "PRAGMA busy_timeout=5000"]
            let writer = connection.sql(queryLogLevel: nil)
            for pragma in pragmas {
                try await writer.raw(SQLQueryString(pragma)).run()
            }
            for _ in 0..<Self.readerCount {
                let reader = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
                readers.append(reader)
                for pragma in ["PRAGMA query_only=ON", "PRAGMA busy_timeout=5000"] {
                    try await reader.sql(queryLogLevel: nil).raw(SQLQueryString(pragma)).run()
                }
            }
        } catch {
            for reader in readers { try? await reader.close() }
            try? await connection.close()
            throw error
        }
        return SQLiteDatabasePool(connection: connection, readers: readers, path: path, logger: logger)
    }

    /// Runs a read on a free read connection.
    public func read<Result: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        self.counter.increment()
        guard !self.closed.load(ordering: .acquiring) else { throw StoreError.closed }
        return try await self.readers.with(body)
    }

    /// Runs `body` with the connection once every earlier session has finished.
    public func withConnection<Result: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        self.counter.increment()
        await self.lock.lock()
        guard !self.closed.load(ordering: .acquiring) else {
            await self.lock.unlock()
            throw StoreError.closed
        }
        do {
            let result = try await body(self.database)
            await self.lock.unlock()
            return result
        } catch {
            await self.lock.unlock()
            throw error
        }
    }

    /// Closes the connections.
    public func shutdown() async throws {
        guard !self.closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for reader in self.readerConnections { try? await reader.close() }
        try await self.connection.close()
    }
}

/// Hands out idle read connections, first come first served.
final class ReaderSet: Sendable {
    private struct State {
        var idle: [Int]
        var waiters: [CheckedContinuation<Int, Never>] = []
    }

    private let readers: [any SQLDatabase]
    private let state: Mutex<State>

    init(_ readers: [any SQLDatabase]) {
        self.readers = readers
        self.state = Mutex(State(idle: Array(readers.indices)))
    }

    func with<Result: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        let index = await self.take()
        defer { self.give(index) }
        return try await body(self.readers[index])
    }

    private func take() async -> Int {
        await withCheckedContinuation { continuation in
            let index = self.state.withLock { state -> Int? in
                if let index = state.idle.popLast() { return index }
                state.waiters.append(continuation)
                return nil
            }
            if let index { continuation.resume(returning: index) }
        }
    }

    private func give(_ index: Int) {
        let waiter = self.state.withLock { state -> CheckedContinuation<Int, Never>? in
            if state.waiters.isEmpty {
                state.idle.append(index)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: index)
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
