import CancelflowSQLite
import Foundation
import SQLiteNIO

extension SQLiteDatabasePool {
    /// Copies a live SQLite database to `target` with `VACUUM INTO`: one read transaction, so the
    /// copy is a consistent snapshot of the last commit while the server goes on writing (WAL
    /// readers do not block the writer), compacted, and without the WAL beside it. The target is
    /// created 0600 first (it holds what the database holds) and must not exist yet, so a backup
    /// never overwrites anything. Returns the copy's size in bytes.
    ///
    /// `VACUUM INTO` rather than the online-backup API: one statement on its own connection, no
    /// step loop to restart when the server writes meanwhile (the backup API restarts a copy on
    /// every write made through another connection).
    public static func backup(databasePath: String, to target: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw PrivateFileError("there is no database at \(databasePath)")
        }
        guard !FileManager.default.fileExists(atPath: target) else {
            throw PrivateFileError("\(target) already exists; a backup never overwrites a file")
        }
        try PrivateFile.create(target)
        do {
            let connection = try DirectSQLiteConnection(path: databasePath)
            defer { connection.close() }
            try connection.run("VACUUM INTO ?", [.text(target)]) { _, _ in }
        } catch {
            try? FileManager.default.removeItem(atPath: target)
            throw error
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: target)
        return (attributes[.size] as? NSNumber)?.intValue ?? 0
    }
}
