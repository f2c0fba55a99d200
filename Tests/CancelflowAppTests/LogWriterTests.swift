import CancelflowTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import CancelflowApp

#if canImport(Glibc)
import Glibc
#endif

/// Log lines leave the request path through `LogWriter`: whole, none lost on shutdown, and
/// dropped (and counted) rather than blocking when the output stalls.
@Suite struct LogWriterTests {
    /// A pipe whose read end is drained into memory by a thread of its own once `start` is called.
    final class Pipe: Sendable {
        let read: Int32
        let write: Int32
        let received = Mutex<[UInt8]>([])

        init() throws {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { throw TestSetupError("pipe() failed") }
            (self.read, self.write) = (ends[0], ends[1])
        }

        func start() {
            Thread.detachNewThread { [self] in
                var buffer = [UInt8](repeating: 0, count: 65536)
                while true {
                    let count = Glibc.read(self.read, &buffer, buffer.count)
                    if count <= 0 { return }
                    self.received.withLock { $0.append(contentsOf: buffer[0..<count]) }
                }
            }
        }

        /// The lines received so far, waiting up to ten seconds for `until` to hold.
        func lines(until: ([Substring]) -> Bool) async throws -> [Substring] {
            for _ in 0..<1000 {
                let text = String(decoding: self.received.withLock { $0 }, as: UTF8.self)
                let lines = text.split(separator: "\n")
                if until(lines) { return lines }
                try await Task.sleep(for: .milliseconds(10))
            }
            return String(decoding: self.received.withLock { $0 }, as: UTF8.self).split(separator: "\n")
        }
    }

    @Test func linesFromConcurrentTasksArriveWholeAndInOrder() async throws {
        let pipe = try Pipe()
        pipe.start()
        let writer = LogWriter(descriptor: pipe.write)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for line in 0..<2000 { writer.append("task=\(task) line=\(line) \(String(repeating: "x", count: line % 50))\n") }
                }
            }
        }
        writer.flush()
        let lines = try await pipe.lines { $0.count >= 16000 }
        #expect(lines.count == 16000)
        for task in 0..<8 {
            let mine = lines.filter { $0.hasPrefix("task=\(task) ") }
            #expect(mine.count == 2000)
            // Whole and in order: each line is exactly what that task wrote, in its order.
            let expected = (0..<2000).map { "task=\(task) line=\($0) \(String(repeating: "x", count: $0 % 50))" }
            #expect(mine.map(String.init) == expected)
        }
    }

    /// An output nobody reads (the pipe fills, the writer blocks on it) makes new lines be
    /// dropped instead of waiting or growing memory; once the output drains, the writer says
    /// how many it dropped, and every line is either written or counted.
    @Test func aStalledOutputDropsLinesAndSaysHowMany() async throws {
        let pipe = try Pipe()
        // A pipe of one page (F_SETPIPE_SZ), far smaller than what is kept: the writer blocks on it.
        #expect(fcntl(pipe.write, 1031, 4096) >= 4096)
        let writer = LogWriter(descriptor: pipe.write, capacity: 16 * 1024)
        writer.reportDrops(as: { "dropped=\($0)\n" })
        let line = String(repeating: "y", count: 99) + "\n"
        for _ in 0..<5000 { writer.append(line) }  // 500 KB: far more than the pipe and the buffer hold
        #expect(writer.unreportedDrops > 0)
        // While nobody reads, a flush gives up at its deadline instead of holding shutdown.
        #expect(!writer.flush(timeout: .milliseconds(200)))
        pipe.start()
        #expect(writer.flush())
        let lines = try await pipe.lines { lines in
            let written = lines.filter { $0.hasPrefix("yyy") }.count
            let dropped = lines.filter { $0.hasPrefix("dropped=") }.compactMap { Int($0.dropFirst(8)) }.reduce(0, +)
            return written + dropped == 5000
        }
        let written = lines.filter { $0.hasPrefix("yyy") }.count
        let notices = lines.filter { $0.hasPrefix("dropped=") }
        let dropped = notices.compactMap { Int($0.dropFirst(8)) }.reduce(0, +)
        #expect(!notices.isEmpty)
        #expect(dropped > 0)
        #expect(written + dropped == 5000, "every line written or counted: \(written) + \(dropped)")
        #expect(lines.allSatisfy { $0.count == 99 || $0.hasPrefix("dropped=") }, "no line was cut")
    }

    /// The text format's lines are swift-log's `StreamLogHandler` lines, byte for byte.
    @Test func textLinesAreStreamLogHandlersLines() throws {
        final class Capture: TextOutputStream, @unchecked Sendable {
            var text = ""
            func write(_ string: String) { self.text += string }
        }
        struct Failure: Error, CustomStringConvertible { var description: String { "it broke" } }
        let capture = Capture()
        let events = [
            LogEvent(
                level: .info, message: "Request", metadata: ["path": "/healthz", "status": .stringConvertible(200)], source: nil,
                file: #fileID, function: #function, line: #line),
            LogEvent(
                level: .warning, message: "No metadata of its own", metadata: nil, source: "CancelflowApp", file: #fileID,
                function: #function, line: #line),
            LogEvent(
                level: .error, message: "Failed", error: Failure(), metadata: ["list": ["a", "b"], "map": ["k": "v"]],
                source: nil, file: #fileID, function: #function, line: #line),
            // The event's own keys win over the provider's, which win over the handler's.
            LogEvent(
                level: .info, message: "Overrides", metadata: ["b": "event", "p": "event", "error.type": "event"], source: nil,
                file: #fileID, function: #function, line: #line),
            LogEvent(
                level: .error, message: "Error keys", error: Failure(), metadata: ["error.message": "event", "a": "1"],
                source: nil, file: #fileID, function: #function, line: #line),
        ]
        let providers: [Logger.MetadataProvider?] = [nil, Logger.MetadataProvider { ["p": "provided", "b": "provided", "q": "provided"] }]
        for provider in providers {
            var stock = StreamLogHandler(label: "cancelflow", stream: capture, metadataProvider: provider)
            stock.metadata = ["request_id": "req_1", "b": "2", "q": "handler"]
            for event in events {
                capture.text = ""
                stock.log(event: event)
                #expect(TextLogHandler.line(event: event, label: "cancelflow", base: stock.metadata, provider: provider) == capture.text)
            }
        }
        // The access line's own path writes the same bytes as the general one, and declines
        // (nil) whenever the handler holds anything else.
        let access = LogEvent(
            level: .info, message: "Request",
            metadata: ["method": "POST", "path": "/cancel/[redacted]", "status": .stringConvertible(303), "duration_ms": "1.25"],
            source: "CancelflowApp", file: #fileID, function: #function, line: #line)
        let bases: [Logger.Metadata] = [
            ["hb.request.id": "9f2c", "request_id": "req_abc"], ["request_id": "req_abc"], ["hb.request.id": .stringConvertible(42)], [:],
        ]
        for base in bases {
            let fast = TextLogHandler.accessLine(
                method: "POST", path: "/cancel/[redacted]", status: 303, milliseconds: "1.25", label: "cancelflow", base: base, provider: nil)
            #expect(fast == TextLogHandler.line(event: access, label: "cancelflow", base: base, provider: nil), "\(base)")
        }
        #expect(
            TextLogHandler.accessLine(
                method: "GET", path: "/", status: 200, milliseconds: "0", label: "cancelflow", base: ["request_id": "r", "other": "x"], provider: nil)
                == nil)
        #expect(
            TextLogHandler.accessLine(
                method: "GET", path: "/", status: 200, milliseconds: "0", label: "cancelflow", base: [:], provider: .init { ["p": "1"] }) == nil)
        #expect(RequestLogMiddleware<AppRequestContext>.milliseconds(.milliseconds(12) + .microseconds(345)) == "12.34")
        #expect(RequestLogMiddleware<AppRequestContext>.milliseconds(.microseconds(50)) == "0.05")
        #expect(RequestLogMiddleware<AppRequestContext>.milliseconds(.seconds(3)) == "3000.00")
    }

    /// A real `serve` writes every request's line before it exits on SIGINT.
    @Test func serveWritesEveryRequestLineBeforeItExits() async throws {
        let server = try await ServeProcess()
        for _ in 0..<300 { _ = try await httpStatus("\(server.baseURL)/healthz") }
        let stopped = await server.stop()
        #expect(!stopped.killed)
        let requestLines = stopped.output.split(separator: "\n").filter { $0.contains("path=/healthz") && $0.contains("Request") }
        #expect(requestLines.count == 300, "\(requestLines.count) request lines")
    }
}
