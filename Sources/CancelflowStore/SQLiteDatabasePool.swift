import CancelflowSQLite
import Foundation
import Logging
import SQLKit
import SQLiteKit
import ServiceLifecycle
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
///
/// Every write runs on the pool's own writer thread (`ThreadExecutor`), so an fsync, a checkpoint
/// or a busy wait never holds up one of Swift's cooperative threads, which serve every request.
/// Within a batch statements run in place (no hop per statement); the hop is once per session.
/// Reads stay on the calling thread: in WAL mode a read neither syncs nor waits for the writer,
/// and measured side by side, sending them to threads of their own cost landing and exchange
/// 10-20 % in thread hops (docs/ARCHITECTURE.md has the figures).
///
/// Transactions that queue up behind a running one are committed together (group commit): the
/// writer runs each in a savepoint of one outer transaction and commits once, so several
/// requests share one fsync instead of waiting in line for one each. Nobody hears back before
/// that commit, so an acknowledged write is exactly as durable as before; a transaction that
/// throws is rolled back to its savepoint without touching the others. See `WriteQueue`.
public final class SQLiteDatabasePool: DatabasePool, Service {
    /// The engine.
    public var engine: DatabaseEngine { .sqlite }
    /// Sessions handed out so far.
    public var sessionCount: Int { self.counter.value }
    /// Sessions and their waits for the writer or a reader.
    public var sessionWaits: SessionWaits { self.counter.waits }
    /// Commits of transactions so far; fewer than the transactions when group commit shared them.
    public var commitCount: Int { self.commitCounter.value }
    /// Writes waiting for the writer (not counting the batch it is running).
    public var queuedWrites: Int { self.writes.queued }

    private let connection: DirectSQLiteConnection
    private let database: any SQLDatabase
    private let writes = WriteQueue()
    private let counter = SessionCounter()
    private let commitCounter = SessionCounter()
    private let readers: ReaderSet
    private let readerConnections: [DirectSQLiteConnection]
    /// The writer's thread: every batch (its statements, commit and fsync) runs there.
    private let writerThread = ThreadExecutor(name: "sqlite-writer", threads: 1)
    /// Set once `shutdown` starts: new sessions are refused instead of reaching a closed handle.
    private let closed = Atomic<Bool>(false)
    /// The file, or nil for an in-memory database.
    public let path: String?

    /// Read connections opened beside the writer.
    public static let readerCount = 4

    private init(connection: DirectSQLiteConnection, readers: [DirectSQLiteConnection], path: String?, logger: Logger) {
        self.connection = connection
        self.database = DirectSQLDatabase(connection: connection, logger: logger)
        self.readerConnections = readers
        self.readers = ReaderSet(readers.map { DirectSQLDatabase(connection: $0, logger: logger) })
        self.path = path
    }

    /// A pool dropped without `shutdown` still lets its threads go.
    deinit {
        self.writerThread.retire()
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
        try DirectSQLiteConnection.checkLibrary()
        // Private from the start: the file, and through it the WAL and SHM SQLite derives from it.
        if !path.hasPrefix(":memory:"), !path.hasPrefix("file:") {
            try PrivateFile.create(path)
            if PrivateFile.isOpenToOthers(path) {
                logger.warning(
                    "The database file can be read by other users: chmod 600 it (and its -wal and -shm files)",
                    metadata: ["path": .string(path)]
                )
            }
        }
        let connection = try DirectSQLiteConnection(path: path)
        var readers: [DirectSQLiteConnection] = []
        do {
            // WAL first, on the writer, so that the readers open a database already in WAL mode.
            let pragmas = ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=\(synchronous.rawValue.uppercased())", "PRAGMA foreign_keys=ON"]
            for pragma in pragmas {
                try connection.run(pragma, []) { _, _ in }
            }
            for _ in 0..<Self.readerCount {
                let reader = try DirectSQLiteConnection(path: path)
                readers.append(reader)
                try reader.run("PRAGMA query_only=ON", []) { _, _ in }
            }
        } catch {
            for reader in readers { reader.close() }
            connection.close()
            throw error
        }
        return SQLiteDatabasePool(connection: connection, readers: readers, path: path, logger: logger)
    }

    /// Runs a read on a free read connection.
    public func read<Result: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        self.counter.increment()
        guard !self.closed.load(ordering: .acquiring) else { throw StoreError.closed }
        let asked = ContinuousClock.now
        let counter = self.counter
        return try await self.readers.with { db in
            counter.began(asked: asked)
            return try await body(db)
        }
    }

    /// Runs `body` with the connection once every earlier session has finished, alone: outside
    /// any transaction (each statement commits on its own) and never batched with others.
    public func withConnection<Result: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        self.counter.increment()
        let asked = ContinuousClock.now
        let counter = self.counter
        return try await self.submit(transactional: false) { db in
            counter.began(asked: asked)
            return try await body(db)
        }
    }

    /// Runs `body` in a transaction that may share its commit with the transactions queued beside
    /// it; returns once that commit is durable.
    public func transaction<Result: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        self.counter.increment()
        let asked = ContinuousClock.now
        let counter = self.counter
        return try await self.submit(transactional: true) { db in
            counter.began(asked: asked)
            return try await body(db)
        }
    }

    /// One transaction, as on every engine; here it may share its commit (and fsync) with the
    /// transactions queued beside it.
    public func write<Result: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        try await self.transaction(body)
    }

    /// A statement in the shared transaction: one fsync for the group, not one of its own.
    public func run(_ statement: SQLQueryString) async throws {
        try await self.transaction { db in try await db.raw(statement).run() }
    }

    /// Queues `body` for the writer and waits for its result, which arrives after its commit.
    private func submit<Result: Sendable>(
        transactional: Bool, _ body: @escaping @Sendable (any SQLDatabase) async throws -> Result
    )
        async throws -> Result
    {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            if self.writes.enqueue(WriteJob.make(transactional: transactional, body, resuming: continuation)) {
                Task(executorPreference: self.writerThread) { await self.drain() }
            }
        }
    }

    /// Runs queued writes until there are none. Started by the submission that finds the writer
    /// idle; at most one runs at a time.
    private func drain() async {
        while let batch = self.writes.next() {
            if self.closed.load(ordering: .acquiring) {
                for job in batch { job.fail(StoreError.closed) }
                continue
            }
            // A ROLLBACK that failed, or a plain session that left a BEGIN open, would make
            // every later BEGIN fail: start each batch outside any transaction.
            if self.connection.inTransaction {
                try? await self.database.raw("ROLLBACK").run()
            }
            if batch.count == 1 {
                await Self.runAlone(batch[0], on: self.database, commits: self.commitCounter)
            } else {
                await Self.runGroup(batch, on: self.database, commits: self.commitCounter)
            }
        }
    }

    /// One job: a plain session, or a transaction of its own.
    private static func runAlone(_ job: WriteJob, on db: any SQLDatabase, commits: SessionCounter) async {
        guard job.transactional else {
            await job.run(db).finish(nil)
            return
        }
        do {
            try await db.raw("BEGIN IMMEDIATE").run()
        } catch {
            job.fail(error)
            return
        }
        let outcome = await job.run(db)
        if outcome.failed {
            try? await db.raw("ROLLBACK").run()
            outcome.finish(nil)
            return
        }
        do {
            try await db.raw("COMMIT").run()
            commits.increment()
            outcome.finish(nil)
        } catch {
            try? await db.raw("ROLLBACK").run()
            outcome.finish(error)
        }
    }

    /// Several transactions, each in a savepoint of one outer transaction, and one commit.
    private static func runGroup(_ batch: [WriteJob], on db: any SQLDatabase, commits: SessionCounter) async {
        do {
            try await db.raw("BEGIN IMMEDIATE").run()
        } catch {
            for job in batch { job.fail(error) }
            return
        }
        var outcomes: [WriteJob.Outcome] = []
        outcomes.reserveCapacity(batch.count)
        // Set when the connection could not even manage a savepoint: the outer transaction is
        // then in an unknown state and nothing in it may be committed.
        var broken: (any Error)?
        for job in batch {
            if let broken {
                job.fail(broken)
                continue
            }
            do {
                try await db.raw("SAVEPOINT grouped").run()
            } catch {
                broken = error
                job.fail(error)
                continue
            }
            let outcome = await job.run(db)
            outcomes.append(outcome)
            // No RELEASE: COMMIT releases every savepoint, and `ROLLBACK TO` goes back to the
            // newest one of the name, this job's. One statement (and thread hop) less per job.
            if outcome.failed {
                do {
                    try await db.raw("ROLLBACK TO grouped").run()
                } catch {
                    // SQLite already rolled back the whole transaction (a full disk, an I/O
                    // error): the job's own error is the one worth telling the others.
                    broken = outcome.error ?? error
                }
            }
        }
        if let broken {
            try? await db.raw("ROLLBACK").run()
            for outcome in outcomes { outcome.finish(broken) }
            return
        }
        do {
            try await db.raw("COMMIT").run()
            commits.increment()
            for outcome in outcomes { outcome.finish(nil) }
        } catch {
            try? await db.raw("ROLLBACK").run()
            for outcome in outcomes { outcome.finish(error) }
        }
    }

    /// Closes the connections, after the write and the reads in progress; writes still queued
    /// fail with `StoreError.closed`.
    public func shutdown() async throws {
        guard !self.closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        // Never close the writer under a running batch; once `closed` is set the drain only
        // fails what is queued, so this ends as soon as the batch in progress does.
        while self.writes.isDraining {
            try? await Task.sleep(for: .milliseconds(1))
        }
        // Every reader back in the set means no read is running on one.
        await self.readers.takeAll()
        for reader in self.readerConnections { reader.close() }
        self.connection.close()
        self.writerThread.retire()
    }

    /// Keeps the database open until graceful shutdown (or cancellation), then closes it.
    public func run() async throws {
        try? await gracefulShutdown()
        try await self.shutdown()
    }
}
