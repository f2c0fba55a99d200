import CancelflowSQLite
import CancelflowStore
import CancelflowTestSupport
import Foundation
import Logging
import SQLKit
import Testing

/// Group commit on SQLite: transactions that queue up behind a running one share its successor's
/// commit, each in a savepoint of its own. These tests are about the SQLite writer only;
/// PostgreSQL commits each transaction itself.
@Suite struct WriterTests {
    struct Refused: Error, Equatable { let n: Int }

    static func open() async throws -> (SQLiteDatabasePool, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("writer-\(UUID().uuidString).sqlite").path
        let pool = try await SQLiteDatabasePool.open(path: path, logger: Logger(label: "test"))
        try await pool.transaction { db in
            try await db.raw("CREATE TABLE items (n INTEGER PRIMARY KEY)").run()
            try await db.raw("CREATE TABLE parents (id INTEGER PRIMARY KEY)").run()
            // A constraint checked only at COMMIT: the one way a transaction can make its
            // group's commit fail.
            try await db.raw("CREATE TABLE children (parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)").run()
        }
        return (pool, path)
    }

    static func rows(_ pool: SQLiteDatabasePool, _ table: String = "items") async throws -> [Int] {
        try await pool.read { db in
            try await db.raw("SELECT * FROM \(unsafeRaw: table) ORDER BY 1").all().map { try $0.decode(column: $0.allColumns[0], as: Int.self) }
        }
    }

    /// Holds the writer in a transaction until `count` more writes are queued behind it, so that
    /// what follows forms groups deterministically, whatever the machine's speed.
    static func holdWriter(_ pool: SQLiteDatabasePool, until count: Int) async throws {
        try await pool.transaction { _ in
            try await waitUntil("\(count) writes are queued behind the writer", interval: .milliseconds(5)) { pool.queuedWrites >= count }
        }
    }

    /// Opens a fresh database and shuts it down afterwards, whether `body` succeeded or not.
    static func withPool(_ body: (SQLiteDatabasePool, String) async throws -> Void) async throws {
        let (pool, path) = try await Self.open()
        do {
            try await body(pool, path)
        } catch {
            try? await pool.shutdown()
            throw error
        }
        try await pool.shutdown()
    }

    @Test func queuedTransactionsShareCommitsAndAllLand() async throws {
        try await Self.withPool { pool, _ in
            let before = pool.commitCount
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await Self.holdWriter(pool, until: 100) }
                // The holder is the second session (after `open`'s): once it is in, it has the writer.
                try await waitUntil("the holder has the writer", interval: .milliseconds(1)) { pool.sessionCount >= 2 }
                for n in 1...100 {
                    group.addTask { try await pool.transaction { db in try await db.raw("INSERT INTO items (n) VALUES (\(bind: n))").run() } }
                }
                try await group.waitForAll()
            }
            #expect(try await Self.rows(pool) == Array(1...100))
            // The holder's commit, then 100 transactions in groups of at most 64: two commits.
            #expect(pool.commitCount - before == 3)
        }
    }

    @Test func aTransactionThatThrowsIsRolledBackAloneWithinItsGroup() async throws {
        try await Self.withPool { pool, _ in
            let before = pool.commitCount
            let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                group.addTask {
                    try await Self.holdWriter(pool, until: 20)
                    return (0, true)
                }
                try await waitUntil("the holder has the writer", interval: .milliseconds(1)) { pool.sessionCount >= 2 }
                for n in 1...20 {
                    group.addTask {
                        do {
                            try await pool.transaction { db in
                                try await db.raw("INSERT INTO items (n) VALUES (\(bind: n))").run()
                                // Odd ones write a second row and then throw: both rows must go.
                                if n % 2 == 1 {
                                    try await db.raw("INSERT INTO items (n) VALUES (\(bind: n + 1000))").run()
                                    throw Refused(n: n)
                                }
                            }
                            return (n, true)
                        } catch let error as Refused {
                            #expect(error == Refused(n: n), "each caller hears its own error")
                            return (n, false)
                        }
                    }
                }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            #expect(outcomes.count == 21)
            #expect(outcomes.filter { $0.key > 0 && $0.value }.keys.sorted() == Array(stride(from: 2, through: 20, by: 2)))
            #expect(try await Self.rows(pool) == Array(stride(from: 2, through: 20, by: 2)))
            // Group commit was at work: the holder's commit, then one for all twenty (with it
            // switched off, each would have committed alone).
            #expect(pool.commitCount - before == 2)
        }
    }

    @Test func aFailedCommitFailsEveryTransactionInTheGroupAndKeepsNothing() async throws {
        try await Self.withPool { pool, _ in
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await Self.holdWriter(pool, until: 3)
                    return true
                }
                try await waitUntil("the holder has the writer", interval: .milliseconds(1)) { pool.sessionCount >= 2 }
                for n in 1...3 {
                    group.addTask {
                        do {
                            try await pool.transaction { db in
                                try await db.raw("INSERT INTO items (n) VALUES (\(bind: n))").run()
                                if n == 2 {
                                    // No such parent: fine until COMMIT checks it.
                                    try await db.raw("INSERT INTO children (parent) VALUES (42)").run()
                                }
                            }
                            return true
                        } catch {
                            #expect(String(reflecting: error).contains("FOREIGN KEY"), "\(error)")
                            return false
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 1, "only the holder succeeded")
            #expect(try await Self.rows(pool).isEmpty)
            #expect(try await Self.rows(pool, "children").isEmpty)
            // The writer works on afterwards.
            try await pool.transaction { db in try await db.raw("INSERT INTO items (n) VALUES (7)").run() }
            #expect(try await Self.rows(pool) == [7])
        }
    }

    @Test func anAcknowledgedTransactionIsInTheFileForAnotherConnection() async throws {
        try await Self.withPool { pool, path in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 1...30 {
                    group.addTask {
                        try await pool.transaction { db in try await db.raw("INSERT INTO items (n) VALUES (\(bind: n))").run() }
                        // Acknowledged: a connection of its own (as another process would have) sees it.
                        let other = try await SQLiteDatabasePool.open(path: path, logger: Logger(label: "test"))
                        let seen = try await other.read { db in
                            try await db.raw("SELECT n FROM items WHERE n = \(bind: n)").first()
                        }
                        try await other.shutdown()
                        #expect(seen != nil, "row \(n)")
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func aClosedPoolRefusesWritesAndQueuedOnesFail() async throws {
        let (pool, _) = try await Self.open()
        try await pool.shutdown()
        await #expect(throws: StoreError.self) {
            try await pool.withConnection { db in try await db.raw("SELECT 1").run() }
        }
        let any: any DatabasePool = pool
        await #expect(throws: StoreError.self) {
            try await any.transaction { db in try await db.raw("SELECT 1").run() }
        }
    }

    /// The store's own SQLite driver (statements run in place, prepared once): every value kind
    /// round-trips, and more distinct statements than it keeps prepared still run.
    @Test func anSQLiteLibraryTooOldForTheStoreIsRefusedByName() throws {
        let error = #expect(throws: DirectSQLiteError.self) { try DirectSQLiteConnection.checkLibrary(number: 3_031_001, text: "3.31.1") }
        #expect(error?.message.contains("SQLite 3.31.1 is too old") == true)
        #expect(error?.message.contains("3.37 or newer") == true)
        // The library this suite runs on passes. (That `SQLiteDatabasePool.open` calls the check
        // first is read from the code, not tested: no older library can be loaded here.)
        try DirectSQLiteConnection.checkLibrary()
        #expect(DirectSQLiteConnection.libraryVersion.number >= DirectSQLiteConnection.minimumVersion)
    }

    @Test func valuesRoundTripAndUncachedStatementsStillRun() async throws {
        try await Self.withPool { pool, _ in
            let blob = Data([0, 1, 2, 255])
            let row = try await pool.transaction { db in
                try await db.raw("CREATE TABLE kinds (i INTEGER, f REAL, t TEXT, b BLOB, n TEXT)").run()
                try await db.raw(
                    "INSERT INTO kinds VALUES (\(bind: Int64.max), \(bind: 2.5), \(bind: "héllo ✓"), \(bind: blob), \(bind: String?.none))"
                ).run()
                return try await db.raw("SELECT * FROM kinds").first()
            }
            let found = try #require(row)
            #expect(found.allColumns == ["i", "f", "t", "b", "n"])
            #expect(try found.decode(column: "i", as: Int64.self) == Int64.max)
            #expect(try found.decode(column: "f", as: Double.self) == 2.5)
            #expect(try found.decode(column: "t", as: String.self) == "héllo ✓")
            #expect(try found.decode(column: "b", as: Data.self) == blob)
            #expect(try found.decodeNil(column: "n"))
            #expect(try found.decode(column: "n", as: String?.self) == nil)
            #expect(throws: (any Error).self) { try found.decode(column: "missing", as: Int.self) }

            let total = try await pool.read { db in
                var total = 0
                for n in 0..<300 {
                    // 300 different texts: more than the 256 kept prepared.
                    let one = try await db.raw("SELECT \(unsafeRaw: String(n)) AS v").first()
                    total += try one?.decode(column: "v", as: Int.self) ?? 0
                }
                return total
            }
            #expect(total == (0..<300).reduce(0, +))
            // A statement error carries SQLite's message and leaves the connection usable.
            await #expect(throws: DirectSQLiteError.self) {
                try await pool.read { db in try await db.raw("SELECT * FROM no_such_table").run() }
            }
            #expect(try await pool.read { db in try await db.raw("SELECT 1 AS one").first()?.decode(column: "one", as: Int.self) } == 1)
        }
    }

    /// A plain session that leaves a transaction open does not wedge the writer, and a column
    /// added while a statement is kept prepared shows up in its rows.
    @Test func theWriterRecoversAndKeptStatementsFollowTheSchema() async throws {
        try await Self.withPool { pool, _ in
            try await pool.withConnection { db in try await db.raw("BEGIN").run() }
            try await pool.transaction { db in try await db.raw("INSERT INTO items (n) VALUES (1)").run() }
            #expect(try await Self.rows(pool) == [1])

            let before = try await pool.transaction { db in try await db.raw("SELECT * FROM items").first()?.allColumns }
            #expect(before == ["n"])
            try await pool.transaction { db in try await db.raw("ALTER TABLE items ADD COLUMN note TEXT DEFAULT 'x'").run() }
            let after = try await pool.transaction { db in try await db.raw("SELECT * FROM items").first() }
            #expect(after?.allColumns == ["n", "note"])
            #expect(try after?.decode(column: "note", as: String.self) == "x")
        }
    }

    @Test func readsAfterShutdownFailInsteadOfWaiting() async throws {
        let (pool, _) = try await Self.open()
        try await pool.shutdown()
        await #expect(throws: StoreError.self) {
            try await pool.read { db in try await db.raw("SELECT 1").run() }
        }
    }
}

/// The durability the README promises is what the connection runs with.
@Suite struct SQLitePragmaTests {
    @Test(arguments: [(SQLiteDatabasePool.Synchronous.full, 2), (.normal, 1)])
    func durabilitySettingsAreApplied(synchronous: SQLiteDatabasePool.Synchronous, expected: Int) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pragma-\(UUID().uuidString).sqlite").path
        let pool = try await SQLiteDatabasePool.open(path: path, synchronous: synchronous, logger: Logger(label: "test"))
        let (level, journal, keys) = try await pool.withConnection { db in
            (
                try await db.raw("PRAGMA synchronous").first()?.decode(column: "synchronous", as: Int.self),
                try await db.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self),
                try await db.raw("PRAGMA foreign_keys").first()?.decode(column: "foreign_keys", as: Int.self)
            )
        }
        let readerOnly = try await pool.read { db in try await db.raw("PRAGMA query_only").first()?.decode(column: "query_only", as: Int.self) }
        try await pool.shutdown()
        #expect(level == expected)
        #expect(journal == "wal")
        #expect(keys == 1)
        #expect(readerOnly == 1, "reads run on read-only connections")
        #expect(PrivateFile.mode(path) == 0o600)
    }
}
