import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child started with `posix_spawn`, which the tests use instead of Foundation's `Process`.
///
/// Why: on Linux, `Process.run()` of the Foundation shipped with Swift 6.3.1 lists
/// `/proc/self/fd` with a struct copy of each `dirent` that reads past glibc's buffer, and now
/// and then crashes the whole test process with SIGSEGV in `memmove` (fixed upstream in
/// swift-corelibs-foundation pull request 5472, not in this toolchain; it crashed a full run
/// here). Spawning directly also does two things `Process` needed help with: the child starts
/// with no signal blocked (`POSIX_SPAWN_SETSIGMASK`), whatever thread of Swift's cooperative pool
/// started it, and every descriptor above stderr is closed in the child (`closefrom`), so a
/// child never holds another child's pipe open. The child gets a process group of its own,
/// as with `Process`.
final class Spawned: Sendable {
    let pid: pid_t
    private let ended = Mutex<(status: Int32, signalled: Bool)?>(nil)

    private init(pid: pid_t) {
        self.pid = pid
    }

    /// Starts `executable` with `arguments`. `stdout` and `stderr` are descriptors for the child's
    /// output (nil: /dev/null); stdin is /dev/null. `directory` is the child's working directory.
    static func start(
        _ executable: String, _ arguments: [String], environment: [String: String], directory: String?, stdout: Int32?, stderr: Int32?
    ) throws -> Spawned {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (target, source) in [(Int32(1), stdout), (Int32(2), stderr)] {
            if let source {
                posix_spawn_file_actions_adddup2(&actions, source, target)
            } else {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            }
        }
        if let directory {
            guard let chdir = Self.addChdir else { throw TestSetupError("posix_spawn_file_actions_addchdir_np is missing") }
            try Self.check(chdir(&actions, directory), "addchdir")
        }
        if let closeFrom = Self.addCloseFrom {
            try Self.check(closeFrom(&actions, 3), "addclosefrom")
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = ([executable] + arguments).map { strdup($0) }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") }
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid = pid_t()
        let result = (argv + [nil]).withUnsafeBufferPointer { argvBuffer in
            (envp + [nil]).withUnsafeBufferPointer { envpBuffer in
                posix_spawn(
                    &pid, executable, &actions, &attributes, UnsafeMutablePointer(mutating: argvBuffer.baseAddress!),
                    UnsafeMutablePointer(mutating: envpBuffer.baseAddress!))
            }
        }
        try Self.check(result, "posix_spawn \(executable)")
        return Spawned(pid: pid)
    }

    /// How the child ended (reaped here, once), or nil while it runs.
    var exit: (status: Int32, signalled: Bool)? {
        self.ended.withLock { ended in
            if let ended { return ended }
            var status: Int32 = 0
            guard waitpid(self.pid, &status, WNOHANG) == self.pid else { return nil }
            // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import (they are macros).
            let signal = status & 0x7f
            ended = signal == 0 ? ((status >> 8) & 0xff, false) : (signal, true)
            return ended
        }
    }

    func send(_ signal: Int32) {
        if self.exit == nil { Glibc.kill(self.pid, signal) }
    }

    static func check(_ result: Int32, _ what: String) throws {
        guard result == 0 else { throw TestSetupError("\(what) failed: \(String(cString: strerror(result)))") }
    }

    /// A pipe whose two ends are closed on exec, so only the descriptor handed to the child
    /// (by dup2, which clears the flag on the copy) reaches it. (A child spawned by another
    /// thread between `pipe` and `fcntl` gets nothing either: closefrom.)
    static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw TestSetupError("pipe failed: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    // glibc has both since 2.34 (the tests run on Debian 12's 2.36), but its header declares them
    // only for _GNU_SOURCE, which Swift's Glibc module does not define: looked up at run time.
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    typealias Chdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?) -> Int32
    static let addCloseFrom: CloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map {
        unsafeBitCast($0, to: CloseFrom.self)
    }
    static let addChdir: Chdir? = dlsym(nil, "posix_spawn_file_actions_addchdir_np").map { unsafeBitCast($0, to: Chdir.self) }
}
