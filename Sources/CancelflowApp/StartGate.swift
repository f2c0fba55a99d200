import ServiceLifecycle
import Synchronization

/// Holds background services back until the database is migrated. The server migrates in
/// `beforeServerStarts`, but services added beside it start at the same moment; without the
/// gate a first start logged "no such table" from the sweeper and the webhook worker.
final class StartGate: Sendable {
    private struct State {
        var open = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Lets every waiter, present and future, through.
    func open() {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the gate is open.
    func wait() async {
        await withCheckedContinuation { continuation in
            let passed = self.state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if passed { continuation.resume() }
        }
    }
}

/// Runs a service once the gate opens; a shutdown before then ends it quietly.
struct GatedService<Inner: Service>: Service {
    let gate: StartGate
    let inner: Inner

    func run() async throws {
        // The wait itself ignores cancellation, so race it against graceful shutdown.
        let opened: Bool = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.gate.wait()
                return true
            }
            group.addTask {
                try? await gracefulShutdown()
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            if !first { self.gate.open() }
            return first
        }
        guard opened, !Task.isShuttingDownGracefully else { return }
        try await self.inner.run()
    }
}
