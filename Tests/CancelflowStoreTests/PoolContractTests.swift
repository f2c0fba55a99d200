import CancelflowStore
import CancelflowTestSupport
import Foundation
import SQLKit
import Testing

/// What `DatabasePool` promises, the same on both engines: `write` is one transaction, unique
/// violations are recognised by their codes, and the pool is a service that closes when its
/// run ends.
@Suite struct PoolContractTests {
    struct Refused: Error {}

    static func createTable(_ pool: any DatabasePool) async throws {
        try await pool.transaction { db in
            try await db.raw("CREATE TABLE pool_items (n INTEGER PRIMARY KEY, label TEXT UNIQUE)").run()
        }
    }

    static func count(_ pool: any DatabasePool) async throws -> Int {
        try await pool.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM pool_items").first()?.decode(column: "n", as: Int.self) ?? -1
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aWriteThatThrowsLeavesNothingBehind(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            try await Self.createTable(pool)
            await #expect(throws: Refused.self) {
                try await pool.write { db in
                    try await db.raw("INSERT INTO pool_items (n, label) VALUES (1, 'a')").run()
                    try await db.raw("INSERT INTO pool_items (n, label) VALUES (2, 'b')").run()
                    throw Refused()
                }
            }
            #expect(try await Self.count(pool) == 0, "both statements rolled back together")
            try await pool.write { db in
                try await db.raw("INSERT INTO pool_items (n, label) VALUES (3, 'c')").run()
            }
            #expect(try await Self.count(pool) == 1)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func uniqueViolationsAreRecognisedByCodeAndOtherErrorsAreNot(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            try await Self.createTable(pool)
            try await pool.write { db in try await db.raw("INSERT INTO pool_items (n, label) VALUES (1, 'a')").run() }
            for statement in ["INSERT INTO pool_items (n, label) VALUES (1, 'z')", "INSERT INTO pool_items (n, label) VALUES (2, 'a')"] {
                do {
                    try await pool.write { db in try await db.raw(SQLQueryString(statement)).run() }
                    Issue.record("\(statement) must be refused")
                } catch {
                    #expect(isUniqueViolation(error), "\(statement): \(error)")
                }
            }
            do {
                try await pool.write { db in try await db.raw("INSERT INTO no_such_table (n) VALUES (1)").run() }
                Issue.record("a missing table must be refused")
            } catch {
                #expect(!isUniqueViolation(error), "\(error)")
            }
            // A message that merely mentions the words is not a unique violation.
            struct Lookalike: Error, CustomStringConvertible { var description: String { "UNIQUE constraint failed 23505" } }
            #expect(!isUniqueViolation(Lookalike()))
            #expect(try await Self.count(pool) == 1)
        }
    }

    @Test func anSQLitePoolClosesWhenItsRunIsCancelled() async throws {
        try await withTemporaryFolder("pool-run") { folder in
            let pool = try await SQLiteDatabasePool.open(path: folder.appendingPathComponent("run.sqlite").path, logger: .init(label: "test"))
            let run = Task { try await pool.run() }
            try await pool.write { db in try await db.raw("CREATE TABLE t (n INTEGER)").run() }
            run.cancel()
            try await run.value
            await #expect(throws: StoreError.self) {
                try await pool.write { db in try await db.raw("INSERT INTO t VALUES (1)").run() }
            }
        }
    }
}
