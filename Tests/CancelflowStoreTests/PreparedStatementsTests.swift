import CancelflowStore
import CancelflowTestSupport
import Foundation
import SQLKit
import Testing

/// PostgreSQL's statements are prepared by name once per connection (`PreparingPostgresDatabase`).
@Suite struct PreparedStatementsTests {
    struct Row: Decodable, Equatable {
        let id: String
        let note: String?
        let amount: Int64?
    }

    @Test func statementsArePreparedOnceAndNullsAndValuesShareNoName() async throws {
        try await TestDatabase.withPool(.postgres) { pool, _ in
            try await pool.run("CREATE TABLE prepared_probe (id TEXT PRIMARY KEY, note TEXT, amount BIGINT)")
            let (rows, prepared) = try await pool.withConnection { db in
                // One statement text, executed with a value and with NULL in each position: a name
                // prepared with one parameter type must never be reused with another.
                for (id, note, amount) in [("a", "x", 1), ("b", nil, 2), ("c", "z", nil), ("d", nil, nil)] as [(String, String?, Int64?)] {
                    try await db.raw("INSERT INTO prepared_probe (id, note, amount) VALUES (\(bind: id), \(bind: note), \(bind: amount))").run()
                }
                var rows: [Row] = []
                for id in ["a", "b", "c", "d"] {
                    rows += try await db.raw("SELECT * FROM prepared_probe WHERE id = \(bind: id)").all(decoding: Row.self)
                }
                let prepared = try await db.raw(
                    "SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%prepared_probe%' AND NOT from_sql"
                ).all().map { try $0.decode(column: "statement", as: String.self) }
                return (rows, prepared)
            }
            #expect(
                rows == [
                    Row(id: "a", note: "x", amount: 1), Row(id: "b", note: nil, amount: 2), Row(id: "c", note: "z", amount: nil),
                    Row(id: "d", note: nil, amount: nil),
                ])
            // Four INSERT signatures and one SELECT, each prepared once on this connection.
            #expect(prepared.filter { $0.hasPrefix("INSERT") }.count == 4)
            #expect(prepared.filter { $0.hasPrefix("SELECT * FROM prepared_probe") }.count == 1)
        }
    }

    @Test func aTableChangedUnderAPreparedSelectFailsOnceThenIsPreparedAfresh() async throws {
        try await TestDatabase.withPool(.postgres) { pool, _ in
            try await pool.run("CREATE TABLE prepared_change (id TEXT PRIMARY KEY)")
            try await pool.run("INSERT INTO prepared_change (id) VALUES ('a')")
            let (failures, answered) = try await pool.withConnection { db in
                #expect(try await db.raw("SELECT * FROM prepared_change").all().count == 1)
                // Another instance's migration: the prepared `SELECT *` now returns another row
                // type, which PostgreSQL refuses for a prepared statement.
                try await db.raw("ALTER TABLE prepared_change ADD COLUMN extra TEXT").run()
                var failures: [String] = []
                var answered = false
                for _ in 0..<3 where !answered {
                    do {
                        answered = try await db.raw("SELECT * FROM prepared_change").all().count == 1
                    } catch {
                        failures.append(String(reflecting: error))
                    }
                }
                return (failures, answered)
            }
            // One refusal on the connection that had it prepared, then a fresh name and an answer.
            #expect(failures.count == 1, "\(failures)")
            #expect(failures.first?.contains("0A000") == true, "\(failures)")
            #expect(answered)
        }
    }
}
