import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes log lines off the request path. A handler hands a finished line over under a short
/// lock; one thread of the writer's own writes whatever has gathered to the file descriptor in
/// one `write(2)`, so a request never waits for the terminal, the pipe or the journal behind
/// standard output (swift-log's `StreamLogHandler` writes and flushes each line under a process-wide
/// lock, which held a bare `/healthz` to half the framework's throughput).
///
/// Nothing is lost on a graceful shutdown: `serve` calls `flush()` after the server has stopped.
/// When the reader falls so far behind that `capacity` bytes are waiting, new lines are dropped
/// rather than letting memory grow or requests block, and the writer says how many it dropped as
/// soon as it can write again.
///
/// Written by hand: swift-log has no asynchronous handler, and none of the packages available
/// here provides one; this is a buffer, a lock and a thread.
public final class LogWriter: Sendable {
    /// Standard output, for `serve` and `worker`.
    public static let standardOutput = LogWriter(descriptor: STDOUT_FILENO)

    struct State {
        var pending: [UInt8] = []
        var dropped = 0
        /// The writer thread has been woken and has not yet found the buffer empty.
        var busy = false
    }

    let descriptor: Int32
    let capacity: Int
    let state = Mutex(State())
    let wake = DispatchSemaphore(value: 0)
    /// The line that reports dropped lines, in the log's own format.
    let notice = Mutex<@Sendable (Int) -> String>({ "log writer: dropped \($0) lines (the output could not keep up)\n" })

    /// `capacity`: how many bytes may wait before lines are dropped (8 MiB, some 40,000 lines).
    public init(descriptor: Int32, capacity: Int = 8 << 20) {
        self.descriptor = descriptor
        self.capacity = capacity
        let thread = Thread { [self] in
            while true {
                self.wake.wait()
                self.drain()
            }
        }
        thread.name = "cancelflow-log-writer"
        thread.start()
    }

    /// Sets how a dropped-lines notice reads (a text or a JSON line, with its newline).
    public func reportDrops(as line: @escaping @Sendable (Int) -> String) {
        self.notice.withLock { $0 = line }
    }

    /// Queues text that ends with a newline; never blocks on the output.
    public func append(_ text: String) {
        let wakeWriter = self.state.withLock { state -> Bool in
            if state.pending.count + text.utf8.count > self.capacity {
                state.dropped += 1
            } else {
                state.pending.append(contentsOf: text.utf8)
            }
            if state.busy { return false }
            state.busy = true
            return true
        }
        if wakeWriter { self.wake.signal() }
    }

    /// Waits until every queued line has been written (called at shutdown), or `timeout` has
    /// passed: an output nobody reads any more (a stopped pipe reader) must not keep the process
    /// from exiting. Answers whether everything was written.
    @discardableResult
    public func flush(timeout: Duration = .seconds(10)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while self.state.withLock({ $0.busy || !$0.pending.isEmpty }) {
            if ContinuousClock.now >= deadline { return false }
            usleep(1000)
        }
        return true
    }

    /// How many lines have been dropped and not yet reported (for tests).
    var unreportedDrops: Int { self.state.withLock { $0.dropped } }

    func drain() {
        var chunk: [UInt8] = []
        while true {
            let dropped = self.state.withLock { state -> Int? in
                if state.pending.isEmpty && state.dropped == 0 {
                    state.busy = false
                    return nil
                }
                swap(&state.pending, &chunk)
                state.pending.removeAll(keepingCapacity: true)
                defer { state.dropped = 0 }
                return state.dropped
            }
            guard let dropped else { return }
            self.writeAll(chunk)
            chunk.removeAll(keepingCapacity: true)
            if dropped > 0 {
                self.writeAll(Array(self.notice.withLock { $0 }(dropped).utf8))
            }
        }
    }

    func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(self.descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return  // The output is gone (a closed pipe): nothing more can be written.
                }
            }
        }
    }
}

/// A `TextOutputStream` into a `LogWriter`, for swift-log's `StreamLogHandler`, which writes each
/// line, newline included, in one call: the text format's lines stay exactly swift-log's.
public struct LogWriterStream: TextOutputStream, Sendable {
    let writer: LogWriter

    public init(_ writer: LogWriter) {
        self.writer = writer
    }

    public mutating func write(_ string: String) {
        self.writer.append(string)
    }
}
