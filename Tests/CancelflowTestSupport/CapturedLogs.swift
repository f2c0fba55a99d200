import Foundation
import Logging
import Synchronization

/// Collects every log line (message and metadata, rendered) so a test can search them, e.g.
/// for a secret that must never appear.
public final class CapturedLogs: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    /// A trace-level logger that writes here.
    public func logger(label: String = "test") -> Logger {
        var logger = Logger(label: label) { label in CapturingHandler(label: label, sink: self) }
        logger.logLevel = .trace
        return logger
    }

    /// Everything captured so far.
    public var text: String { self.lines.withLock { $0.joined(separator: "\n") } }

    /// How many lines were captured.
    public var count: Int { self.lines.withLock { $0.count } }

    func append(_ line: String) {
        self.lines.withLock { $0.append(line) }
    }
}

struct CapturingHandler: LogHandler {
    let label: String
    let sink: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = self.metadata
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let rendered = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        self.sink.append("\(event.level) \(self.label): \(event.message) \(rendered) [\(event.source)]")
    }
}
