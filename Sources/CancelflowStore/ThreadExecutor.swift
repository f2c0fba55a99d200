import Foundation

/// A `TaskExecutor` on threads of its own, for work that blocks.
///
/// SQLite's calls block their thread: a commit at `synchronous=FULL` waits for fsync, a checkpoint
/// writes the database file, and a connection waits up to its busy timeout while another process
/// (the CLI beside the server) holds the lock. On Swift's cooperative pool, which has one thread
/// per core (two here), each such wait takes a thread away from every request in the process.
/// A task that prefers this executor (`Task(executorPreference:)`,
/// `withTaskExecutorPreference`) runs its nonisolated async code, and so every statement of a
/// session, on these threads instead; the request's own task hops here once per session and back
/// once, not once per statement.
///
/// Why hand-written: the standard library has the `TaskExecutor` protocol but no thread-backed
/// implementation, and NIO's event loops drop work sent to them once they have shut down — a
/// task that still prefers a closed pool's threads (a write refused at shutdown) would then never
/// resume. Here, once a pool has retired its threads, a late job runs on the global concurrent
/// executor instead: nothing is lost, and each pool's thread is its own (a busy wait in one
/// pool never holds up another's writes, which matters to tests that open many pools at once).
final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    /// Guards `jobs` and `retired`, and wakes the threads.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var retired = false

    /// Starts `threads` threads named `name-N`; each runs queued jobs in order, one at a time.
    init(name: String, threads: Int) {
        for index in 0..<threads {
            // The thread holds the executor until it exits (after `retire`).
            let thread = Thread { [self] in self.work() }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.condition.lock()
        guard !self.retired else {
            self.condition.unlock()
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
            return
        }
        self.jobs.append(job)
        self.condition.signal()
        self.condition.unlock()
    }

    /// Lets the threads finish what is queued and exit; jobs enqueued afterwards run on the
    /// global concurrent executor.
    func retire() {
        self.condition.lock()
        self.retired = true
        self.condition.broadcast()
        self.condition.unlock()
    }

    private func work() {
        let executor = self.asUnownedTaskExecutor()
        while true {
            self.condition.lock()
            while self.jobs.isEmpty && !self.retired {
                self.condition.wait()
            }
            guard !self.jobs.isEmpty else {
                self.condition.unlock()
                return
            }
            // The queue holds the tasks waiting for the threads: a handful, so removing from
            // the front is cheap.
            let job = self.jobs.removeFirst()
            self.condition.unlock()
            job.runSynchronously(on: executor)
        }
    }
}
