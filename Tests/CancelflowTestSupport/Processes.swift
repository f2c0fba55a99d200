import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What a child process did.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs a program to completion, with extra environment variables, and collects its output.
///
/// The blocking reads and the wait happen on a Dispatch thread, never on Swift's cooperative
/// pool: on a two-core machine that pool has two threads, and blocking them would starve a
/// server running in the same test process that the child is talking to.
///
/// The program runs under coreutils' `timeout`, which gives it a process group of its own and
/// kills the whole group when `timeout` runs out: a browser walk whose Chromium hangs, or a
/// grandchild that keeps the output pipe open, ends as a failed test instead of a suite that
/// never finishes. A run that timed out has status 124 and says so in `stderr`.
public func runProcess(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:],
    directory: String? = nil, timeout: Duration = .seconds(300)
) async throws -> ProcessResult {
    let out = try Spawned.pipe()
    let err = try Spawned.pipe()
    let child: Spawned
    do {
        child = try Spawned.start(
            "/usr/bin/timeout", ["--kill-after=10", String(timeout.components.seconds), executable] + arguments,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, directory: directory, stdout: out.write,
            stderr: err.write)
    } catch {
        for fd in [out.read, out.write, err.read, err.write] { close(fd) }
        throw error
    }
    // Our copies of the write ends must go, or the reads below never see end-of-file.
    close(out.write)
    close(err.write)
    let outHandle = FileHandle(fileDescriptor: out.read, closeOnDealloc: true)
    let errHandle = FileHandle(fileDescriptor: err.read, closeOnDealloc: true)
    let (stdout, stderr) = await withCheckedContinuation { (continuation: CheckedContinuation<(Data, Data), Never>) in
        DispatchQueue.global().async {
            let group = DispatchGroup()
            nonisolated(unsafe) var stderr = Data()
            group.enter()
            DispatchQueue.global().async {
                stderr = errHandle.readDataToEndOfFile()
                group.leave()
            }
            let stdout = outHandle.readDataToEndOfFile()
            group.wait()
            continuation.resume(returning: (stdout, stderr))
        }
    }
    // Both pipes closed: the group is gone or going. Its exit is waited for without blocking.
    let deadline = ContinuousClock.now + .seconds(30)
    while child.exit == nil && ContinuousClock.now < deadline {
        try? await Task.sleep(for: .milliseconds(10))
    }
    guard let exit = child.exit else {
        throw TestSetupError("\(executable) closed its output but did not exit")
    }
    let status = exit.signalled ? 128 + exit.status : exit.status
    var errors = String(decoding: stderr, as: UTF8.self)
    if status == 124 {
        errors += "\n[runProcess: \(executable) was stopped after \(timeout.components.seconds) s]"
    }
    return ProcessResult(
        status: status,
        stdout: String(decoding: stdout, as: UTF8.self),
        stderr: errors
    )
}

/// The `cancelflow` executable under test: `CANCELFLOW_BIN` (set by scripts/test), else the
/// debug build beside the package.
public func cancelflowBinary(filePath: String = #filePath) -> String {
    if let path = ProcessInfo.processInfo.environment["CANCELFLOW_BIN"] { return path }
    let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/cancelflow").path
}
