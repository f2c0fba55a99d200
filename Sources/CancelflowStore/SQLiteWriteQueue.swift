import SQLKit
import Synchronization

/// A write waiting for the writer, with its types erased so that the queue holds plain values.
struct WriteJob: Sendable {
    /// What running a job came to, and how to tell its caller once the commit's fate is known.
    struct Outcome: Sendable {
        /// The body threw: its savepoint is rolled back, and its caller hears its own error
        /// whatever happens to the commit.
        let failed: Bool
        /// What the body threw, when it did.
        var error: (any Error)? = nil
        /// Resumes the caller: with the body's result, or with the commit's error if the
        /// commit failed (`nil`: it succeeded).
        let finish: @Sendable ((any Error)?) -> Void
    }

    /// A job for `body` that resumes `continuation` with its result once the commit is known.
    static func make<Result: Sendable>(
        transactional: Bool, _ body: @escaping @Sendable (any SQLDatabase) async throws -> Result,
        resuming continuation: CheckedContinuation<Result, any Error>
    ) -> WriteJob {
        WriteJob(
            transactional: transactional,
            run: { db in
                do {
                    let value = try await body(db)
                    return Outcome(failed: false) { commitError in
                        if let commitError {
                            continuation.resume(throwing: commitError)
                        } else {
                            continuation.resume(returning: value)
                        }
                    }
                } catch {
                    return Outcome(failed: true, error: error) { _ in continuation.resume(throwing: error) }
                }
            },
            fail: { continuation.resume(throwing: $0) }
        )
    }

    /// A transaction (may be grouped) or a plain session (always alone).
    let transactional: Bool
    /// Runs the body on the writer connection.
    let run: @Sendable (any SQLDatabase) async -> Outcome
    /// Resumes the caller with an error without running the body.
    let fail: @Sendable (any Error) -> Void
}

/// The writer's queue: submissions in order, and whether a drain is running.
final class WriteQueue: Sendable {
    /// The most transactions one commit carries: enough to share an fsync among every
    /// connection a busy server has in flight, few enough that the first in line is not kept
    /// waiting long for the last.
    static let maximumGroup = 64

    private struct State {
        var jobs: [WriteJob] = []
        var head = 0
        var draining = false
    }

    private let state = Mutex(State())

    var isDraining: Bool { self.state.withLock { $0.draining } }

    var queued: Int { self.state.withLock { $0.jobs.count - $0.head } }

    /// Queues a job; true when the writer was idle and the caller must start a drain.
    func enqueue(_ job: WriteJob) -> Bool {
        self.state.withLock { state -> Bool in
            state.jobs.append(job)
            if state.draining { return false }
            state.draining = true
            return true
        }
    }

    /// The next batch: one plain session, or a run of consecutive transactions. Nil when the
    /// queue is empty, which also ends the drain (in the same critical section, so a
    /// submission either sees the drain running or starts a new one).
    func next() -> [WriteJob]? {
        self.state.withLock { state -> [WriteJob]? in
            guard state.head < state.jobs.count else {
                state.jobs.removeAll(keepingCapacity: true)
                state.head = 0
                state.draining = false
                return nil
            }
            var batch: [WriteJob] = [state.jobs[state.head]]
            state.head += 1
            if batch[0].transactional {
                while batch.count < Self.maximumGroup, state.head < state.jobs.count, state.jobs[state.head].transactional {
                    batch.append(state.jobs[state.head])
                    state.head += 1
                }
            }
            if state.head > 256, state.head * 2 > state.jobs.count {
                state.jobs.removeFirst(state.head)
                state.head = 0
            }
            return batch
        }
    }
}

/// Hands out idle read connections, first come first served.
final class ReaderSet: Sendable {
    private struct State {
        var idle: [Int]
        var waiters: [CheckedContinuation<Int?, Never>] = []
        /// Set by `takeAll`: from then on nobody gets a reader.
        var closed = false
    }

    private let readers: [any SQLDatabase]
    private let state: Mutex<State>

    init(_ readers: [any SQLDatabase]) {
        self.readers = readers
        self.state = Mutex(State(idle: Array(readers.indices)))
    }

    func with<Result: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> Result) async throws -> Result {
        guard let index = await self.take() else { throw StoreError.closed }
        defer { self.give(index) }
        return try await body(self.readers[index])
    }

    /// Closes the set and waits until every reader is back; later `with` calls fail with
    /// `StoreError.closed`, and so do those still waiting.
    func takeAll() async {
        let waiters = self.state.withLock { state -> [CheckedContinuation<Int?, Never>] in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        while self.state.withLock({ $0.idle.count }) < self.readers.count {
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    private func take() async -> Int? {
        await withCheckedContinuation { continuation in
            let index = self.state.withLock { state -> Int?? in
                if state.closed { return .some(nil) }
                if let index = state.idle.popLast() { return .some(index) }
                state.waiters.append(continuation)
                return nil
            }
            if let index { continuation.resume(returning: index) }
        }
    }

    private func give(_ index: Int) {
        let waiter = self.state.withLock { state -> CheckedContinuation<Int?, Never>? in
            if state.waiters.isEmpty || state.closed {
                state.idle.append(index)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: index)
    }
}
