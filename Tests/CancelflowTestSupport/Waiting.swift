import Foundation

/// Waits until `condition` holds, checking every `interval`; throws (failing the test that
/// awaits it) when `timeout` passes first. Every test that waits for something to happen waits
/// through this, so none can give up silently and go on as if it had happened.
public func waitUntil(
    _ what: @autoclosure () -> String,
    timeout: Duration = .seconds(30),
    interval: Duration = .milliseconds(10),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        guard ContinuousClock.now < deadline else {
            throw TestSetupError("timed out after \(timeout) waiting until \(what())")
        }
        try await Task.sleep(for: interval)
    }
}
