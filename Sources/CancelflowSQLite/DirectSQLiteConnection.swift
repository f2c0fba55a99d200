// Only CSQLite is imported here, never sqlite-nio: that package's bundled C header defines the
// same C structs as the system's (in other versions), and Clang refuses two definitions of one
// struct in one module. This target keeps the system header on its own side of that line.
internal import CSQLite

/// A value SQLite stores: its five storage classes.
public enum SQLiteValue: Sendable, Equatable {
    case integer(Int64)
    case float(Double)
    case text(String)
    case blob([UInt8])
    case null
}

/// One sqlite3 connection driven directly through SQLite's C API, on the calling thread, with its
/// prepared statements kept for reuse.
///
/// Why not SQLiteNIO's connection: it sends every statement to a thread pool and back, two
/// thread switches per statement, and prepares every statement anew. Profiled under the mint
/// load that was most of the server's CPU: 41 % of the samples in the kernel switching threads,
/// 7.8 % in `sqlite3_prepare`. A statement here takes microseconds on the thread that asks
/// (SQLite in WAL mode does not wait for other connections, and the busy timeout bounds the wait
/// for another process), so running it in place is cheaper than any hop.
///
/// A connection is used by one task at a time (the pool's writer queue or reader set ensures
/// it); it is opened in SQLite's serialized mode anyway, so a mistake there cannot corrupt it.
public final class DirectSQLiteConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    /// Prepared statements by SQL text. Only touched by the one task using the connection.
    private var statements: [String: CachedStatement] = [:]
    private var closed = false

    /// Prepared statements kept per connection; past this, new texts are prepared and dropped
    /// (the store's statement texts are fixed, so this is only a guard).
    static let cacheLimit = 256

    final class CachedStatement {
        let pointer: OpaquePointer
        /// Changes only when SQLite re-prepared the statement after a schema change.
        var columns: ColumnNames
        /// Kept in the cache (finalized on close) or used once (finalized after its run).
        let kept: Bool

        init(pointer: OpaquePointer, columns: ColumnNames, kept: Bool) {
            self.pointer = pointer
            self.columns = columns
            self.kept = kept
        }
    }

    /// A statement's result columns, shared by every row it returns.
    public final class ColumnNames: Sendable {
        public let names: [String]
        public let index: [String: Int]

        init(_ names: [String]) {
            self.names = names
            self.index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// The SQLite library this process linked: its version number (3.37.0 is 3037000) and text.
    public static var libraryVersion: (number: Int32, text: String) {
        (sqlite3_libversion_number(), String(cString: sqlite3_libversion()))
    }

    /// The oldest SQLite the store's statements run on: `RETURNING` (3.35) and
    /// `SQLITE_OPEN_EXRESCODE`, which unique-violation checks rely on (3.37).
    public static let minimumVersion: Int32 = 3_037_000

    /// Refuses a library older than `minimumVersion` with a message that says what to install,
    /// rather than letting the first `RETURNING` fail with a syntax error.
    public static func checkLibrary(
        number: Int32 = DirectSQLiteConnection.libraryVersion.number, text: String = DirectSQLiteConnection.libraryVersion.text
    ) throws {
        guard number >= Self.minimumVersion else {
            throw DirectSQLiteError(
                code: SQLITE_ERROR,
                message: "SQLite \(text) is too old: Cancelflow needs 3.37 or newer (on Debian and Ubuntu, libsqlite3-0 from a current release)"
            )
        }
    }

    /// Opens (creating when missing) the file read-write; readers make themselves read-only
    /// with `PRAGMA query_only`, which unlike a read-only open still lets them use the WAL index.
    public init(path: String) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE
        let result = sqlite3_open_v2(path, &handle, flags, nil)
        guard result == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let handle { sqlite3_close_v2(handle) }
            throw DirectSQLiteError(code: result, message: message)
        }
        self.handle = handle
        sqlite3_busy_timeout(handle, 5000)
    }

    deinit {
        self.close()
    }

    public func close() {
        guard !self.closed else { return }
        self.closed = true
        for statement in self.statements.values {
            sqlite3_finalize(statement.pointer)
        }
        self.statements.removeAll()
        sqlite3_close_v2(self.handle)
    }

    /// Runs one statement with its binds, handing each result row (its columns and values) to
    /// `onRow`.
    public func run(_ sql: String, _ binds: [SQLiteValue], _ onRow: (ColumnNames, [SQLiteValue]) -> Void) throws {
        guard !self.closed else { throw DirectSQLiteError(code: SQLITE_MISUSE, message: "the connection is closed") }
        let statement = try self.prepare(sql)
        let pointer = statement.pointer
        defer {
            sqlite3_reset(pointer)
            sqlite3_clear_bindings(pointer)
            if !statement.kept { sqlite3_finalize(pointer) }
        }
        for (offset, value) in binds.enumerated() {
            try self.bind(value, at: Int32(offset + 1), in: pointer)
        }
        var columns = statement.columns
        var first = true
        while true {
            let result = sqlite3_step(pointer)
            if result == SQLITE_DONE { return }
            guard result == SQLITE_ROW else { throw self.error(result) }
            if first {
                first = false
                // SQLite re-prepares a statement by itself after a schema change (a migration
                // run by the CLI beside the server): `SELECT *` may then return more columns.
                // Migrations only add columns, so the count tells, without building the names.
                if Int(sqlite3_column_count(pointer)) != columns.names.count {
                    columns = ColumnNames(Self.columnNames(of: pointer))
                    statement.columns = columns
                }
            }
            let count = Int32(columns.names.count)
            var values: [SQLiteValue] = []
            values.reserveCapacity(Int(count))
            for column in 0..<count {
                values.append(Self.value(of: pointer, at: column))
            }
            onRow(columns, values)
        }
    }

    /// Whether a transaction is open on this connection (SQLite's autocommit is off).
    public var inTransaction: Bool { !self.closed && sqlite3_get_autocommit(self.handle) == 0 }

    private static func columnNames(of pointer: OpaquePointer) -> [String] {
        (0..<sqlite3_column_count(pointer)).map { column in
            sqlite3_column_name(pointer, column).map { String(cString: $0) } ?? ""
        }
    }

    private func prepare(_ sql: String) throws -> CachedStatement {
        if let cached = self.statements[sql] { return cached }
        var pointer: OpaquePointer?
        let persistent = self.statements.count < Self.cacheLimit
        let result = sqlite3_prepare_v3(self.handle, sql, -1, persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0, &pointer, nil)
        guard result == SQLITE_OK, let pointer else { throw self.error(result) }
        let statement = CachedStatement(pointer: pointer, columns: ColumnNames(Self.columnNames(of: pointer)), kept: persistent)
        if persistent { self.statements[sql] = statement }
        return statement
    }

    private func bind(_ value: SQLiteValue, at index: Int32, in statement: OpaquePointer) throws {
        let result: Int32
        switch value {
        case .integer(let number):
            result = sqlite3_bind_int64(statement, index, number)
        case .float(let number):
            result = sqlite3_bind_double(statement, index, number)
        case .text(let text):
            result = sqlite3_bind_text64(statement, index, text, UInt64(text.utf8.count), transient, UInt8(SQLITE_UTF8))
        case .blob(let bytes):
            result = bytes.withUnsafeBytes {
                sqlite3_bind_blob64(statement, index, $0.baseAddress, UInt64($0.count), transient)
            }
        case .null:
            result = sqlite3_bind_null(statement, index)
        }
        guard result == SQLITE_OK else { throw self.error(result) }
    }

    private static func value(of statement: OpaquePointer, at column: Int32) -> SQLiteValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT:
            return .float(sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            guard let text = sqlite3_column_text(statement, column) else { return .text("") }
            let length = Int(sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self))
        case SQLITE_BLOB:
            let length = Int(sqlite3_column_bytes(statement, column))
            guard let bytes = sqlite3_column_blob(statement, column), length > 0 else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: length)))
        default:
            return .null
        }
    }

    private func error(_ code: Int32) -> DirectSQLiteError {
        DirectSQLiteError(code: code, message: String(cString: sqlite3_errmsg(self.handle)))
    }
}

/// SQLite's `SQLITE_TRANSIENT`: SQLite copies the bound bytes before the call returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// An error SQLite reported; the message is SQLite's own (`UNIQUE constraint failed: …`), which
/// names tables and columns but never a bound value.
public struct DirectSQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String

    public var description: String { "SQLite error \(self.code): \(self.message)" }

    /// `SQLITE_CONSTRAINT_UNIQUE` or `SQLITE_CONSTRAINT_PRIMARYKEY`: connections are opened with
    /// `SQLITE_OPEN_EXRESCODE`, so errors carry the extended code. (The C macros are expressions
    /// Swift does not import: `SQLITE_CONSTRAINT | (8 << 8)` and `| (6 << 8)`.)
    public var isUniqueViolation: Bool {
        self.code == SQLITE_CONSTRAINT | (8 << 8) || self.code == SQLITE_CONSTRAINT | (6 << 8)
    }
}
