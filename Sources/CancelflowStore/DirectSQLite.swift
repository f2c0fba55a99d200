import CancelflowSQLite
import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO

/// A result row.
struct DirectSQLiteRow: SQLRow {
    let columns: DirectSQLiteConnection.ColumnNames
    let values: [SQLiteData]

    struct MissingColumn: Error, CustomStringConvertible {
        let column: String
        var description: String { "No column \(self.column) in the result." }
    }

    var allColumns: [String] { self.columns.names }

    func contains(column: String) -> Bool { self.columns.index[column] != nil }

    func decodeNil(column: String) throws -> Bool {
        guard let index = self.columns.index[column] else { return true }
        return self.values[index] == .null
    }

    func decode<D: Decodable>(column: String, as: D.Type) throws -> D {
        guard let index = self.columns.index[column] else { throw MissingColumn(column: column) }
        return try DirectSQLDatabase.decoder.decode(D.self, from: self.values[index])
    }
}

/// SQLKit on a `DirectSQLiteConnection`: statements run in place, on the caller's thread.
struct DirectSQLDatabase: SQLDatabase {
    let connection: DirectSQLiteConnection
    let logger: Logger

    /// One of each for every statement and row: their initializers allocate a JSON coder, which
    /// is only used (read-only, so safely shared) for values SQLite has no type for.
    static let encoder = SQLiteDataEncoder()
    static let decoder = SQLiteDataDecoder()

    var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    var dialect: any SQLDialect { SQLiteDialect() }
    /// No query logging: sql-kit would log bound values, which include customer data.
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        let loop = self.eventLoop
        do {
            try self.run(query, onRow)
            return loop.makeSucceededVoidFuture()
        } catch {
            return loop.makeFailedFuture(error)
        }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try self.run(query, onRow)
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await closure(self)
    }

    private func run(_ query: any SQLExpression, _ onRow: (any SQLRow) -> Void) throws {
        var serializer = SQLSerializer(database: self)
        query.serialize(to: &serializer)
        let binds = try serializer.binds.map { try Self.encoder.encode($0) }
        try self.connection.run(serializer.sql, binds.map(Self.value)) { columns, values in
            onRow(DirectSQLiteRow(columns: columns, values: values.map(Self.data)))
        }
    }

    /// sqlite-nio's value (what its encoder makes of a bind) as the connection binds it.
    static func value(_ data: SQLiteData) -> SQLiteValue {
        switch data {
        case .integer(let number): .integer(Int64(number))
        case .float(let number): .float(number)
        case .text(let text): .text(text)
        case .blob(let buffer): .blob(Array(buffer.readableBytesView))
        case .null: .null
        }
    }

    /// A column's value as sqlite-nio's decoder reads it.
    static func data(_ value: SQLiteValue) -> SQLiteData {
        switch value {
        case .integer(let number): .integer(SQLiteInt64(number))
        case .float(let number): .float(number)
        case .text(let text): .text(text)
        case .blob(let bytes): .blob(ByteBuffer(bytes: bytes))
        case .null: .null
        }
    }
}
