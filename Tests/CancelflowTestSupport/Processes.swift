import Foundation

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
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                       directory: String? = nil) async throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outHandle = out.fileHandleForReading
    let errHandle = err.fileHandleForReading
    return await withCheckedContinuation { continuation in
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
            process.waitUntilExit()
            continuation.resume(returning: ProcessResult(
                status: process.terminationStatus,
                stdout: String(decoding: stdout, as: UTF8.self),
                stderr: String(decoding: stderr, as: UTF8.self)
            ))
        }
    }
}

/// The `cancelflow` executable under test: `CANCELFLOW_BIN` (set by scripts/test), else the
/// debug build beside the package.
public func cancelflowBinary(filePath: String = #filePath) -> String {
    if let path = ProcessInfo.processInfo.environment["CANCELFLOW_BIN"] { return path }
    let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/cancelflow").path
}
