import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files only the service's own user may read: the SQLite database (customer names, emails,
/// survey comments), its WAL and shared-memory files, backups, and the server secret.
public enum PrivateFile {
    /// Creates `path` empty with mode 0600 when it does not exist yet; leaves an existing file
    /// alone. SQLite gives the `-wal` and `-shm` files it creates the mode of the database file,
    /// so creating the database this way before SQLite opens it makes all three private. The
    /// mode is set at `open` (the umask can only take bits away) rather than by a process-wide
    /// `umask` call, which other threads would race with.
    public static func create(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { return }
            throw PrivateFileError("could not create \(path): \(String(cString: strerror(errno)))")
        }
        close(fd)
    }

    /// Creates `path` with mode 0600 holding `contents`, synced to disk, unless it exists:
    /// true when this call created it. `O_EXCL` makes this safe for two processes starting at
    /// once: one creates the file, the other gets false and reads what the first wrote.
    public static func createExclusively(_ path: String, contents: String) throws -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { return false }
            throw PrivateFileError("could not create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else { throw PrivateFileError("could not write \(path)") }
        return true
    }

    /// The permission bits of a file, or nil when it does not exist.
    public static func mode(_ path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o777
    }

    /// Whether anyone but the owner may read or write the file.
    public static func isOpenToOthers(_ path: String) -> Bool {
        guard let mode = Self.mode(path) else { return false }
        return mode & 0o077 != 0
    }
}

/// A file could not be made private.
public struct PrivateFileError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
