import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A long-running child process (a `cancelflow serve`, a worker, an SMTP sink) that a test
/// starts, talks to and stops, without ever blocking Swift's cooperative pool.
///
/// Why this exists: on a two-core machine the cooperative pool has two threads. A blocking
/// `waitUntilExit()` or `availableData` on one of them, for a child that does not exit or
/// print, stalls every test in the process, and the suite hangs instead of failing. So:
/// - a dedicated thread drains the child's output all the time, so a chatty child can never
///   block on a full pipe and its output can be read at any moment without waiting;
/// - waiting for the exit is an async poll with a deadline, and a child that outlives its
///   grace gets SIGKILL, which the caller sees in `StopResult.killed`.
public final class ChildProcess: Sendable {
    let process: Spawned
    private let output = CapturedOutput()

    /// What `stop` saw.
    public struct StopResult: Sendable {
        /// The exit status, or the signal number when `signalled`; nil if the child never went.
        public let status: Int32?
        public let signalled: Bool
        /// True when the child ignored the polite signal and had to be killed.
        public let killed: Bool
        public let output: String
    }

    /// Starts `executable`; with `captureOutput` its stdout (and, with `captureErrors`, its
    /// stderr) is kept (see `printed`), otherwise it goes to /dev/null. The environment is the
    /// test process's, or `environment` when given.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        directory: URL? = nil, captureOutput: Bool = true, captureErrors: Bool = true
    ) throws {
        let environment = environment ?? ProcessInfo.processInfo.environment
        guard captureOutput else {
            self.process = try Spawned.start(
                executable, arguments, environment: environment, directory: directory?.path, stdout: nil, stderr: nil)
            self.output.finished.store(true, ordering: .releasing)
            return
        }
        let pipe = try Spawned.pipe()
        do {
            self.process = try Spawned.start(
                executable, arguments, environment: environment, directory: directory?.path, stdout: pipe.write,
                stderr: captureErrors ? pipe.write : nil)
        } catch {
            close(pipe.read)
            close(pipe.write)
            throw error
        }
        // Our copy of the write end must go, or the reader never sees end-of-file.
        close(pipe.write)
        let handle = FileHandle(fileDescriptor: pipe.read, closeOnDealloc: true)
        let output = self.output
        let thread = Thread {
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                output.data.withLock { $0.append(chunk) }
            }
            output.finished.store(true, ordering: .releasing)
        }
        thread.name = "child-output-\(self.process.pid)"
        thread.start()
    }

    public var pid: Int32 { self.process.pid }

    /// Everything the child has printed so far; never waits.
    public var printed: String {
        String(decoding: self.output.data.withLock { $0 }, as: UTF8.self)
    }

    /// How the child ended, or nil while it runs.
    public var exit: (status: Int32, signalled: Bool)? { self.process.exit }

    public var hasExited: Bool { self.exit != nil }

    public func send(_ signal: Int32) {
        if !self.hasExited { Glibc.kill(self.pid, signal) }
    }

    /// Waits up to `timeout` for the child to exit; true if it did.
    @discardableResult
    public func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !self.hasExited {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Sends `signal` (SIGINT: a graceful shutdown), waits up to `grace`, then SIGKILLs a
    /// child that is still there, and collects everything it printed.
    @discardableResult
    public func stop(signal: Int32 = SIGINT, grace: Duration = .seconds(30)) async -> StopResult {
        var killed = false
        self.send(signal)
        if !(await self.waitForExit(timeout: grace)) {
            killed = true
            Glibc.kill(self.pid, SIGKILL)
            await self.waitForExit(timeout: .seconds(10))
        }
        // Output the child wrote just before it went may still be in the pipe.
        let drained = ContinuousClock.now + .seconds(5)
        while !self.output.finished.load(ordering: .acquiring) && ContinuousClock.now < drained {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let exit = self.exit
        return StopResult(
            status: exit?.status,
            signalled: exit?.signalled ?? false,
            killed: killed,
            output: self.printed
        )
    }

    /// For a `defer`: kills the child without waiting (a test that threw should not leave it).
    public func killNow() {
        self.send(SIGKILL)
    }
}

/// What the reader thread has collected of a child's output.
private final class CapturedOutput: Sendable {
    let data = Mutex<Data>(Data())
    let finished = Atomic<Bool>(false)
}
