import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// swift-log's `StreamLogHandler` line, byte for byte (`LogWriterTests` compares the two), built
/// for a per-request access log: the timestamp, whose format has whole seconds, is formatted once
/// a second rather than with `localtime` and `strftime` on every line, and the line goes to
/// `LogWriter` rather than through a locked, flushed stdio stream. With the stock handler, an
/// info-level line per request held `/healthz` near half of what it reaches with no log line.
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    let label: String
    let writer: LogWriter

    public init(label: String, writer: LogWriter = .standardOutput, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider) {
        self.label = label
        self.writer = writer
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        self.writer.append(Self.line(event: event, label: self.label, base: self.metadata, provider: self.metadataProvider))
    }

    /// The access line (`RequestLogMiddleware`), written without building a `LogEvent` and its
    /// metadata dictionary, merging and sorting: at one line per request that was a tenth of
    /// `/healthz`'s time. The bytes are those `line(event:…)` makes for the same line
    /// (`LogWriterTests` compares the two); answers false, writing nothing, when the handler holds
    /// metadata other than the request's two ids, and the caller then logs the usual way.
    func writeAccessLine(method: String, path: String, status: Int, milliseconds: String) -> Bool {
        guard
            let text = Self.accessLine(
                method: method, path: path, status: status, milliseconds: milliseconds, label: self.label, base: self.metadata,
                provider: self.metadataProvider)
        else {
            return false
        }
        self.writer.append(text)
        return true
    }

    static func accessLine(
        method: String, path: String, status: Int, milliseconds: String, label: String, base: Logger.Metadata, provider: Logger.MetadataProvider?
    ) -> String? {
        guard provider == nil, base.count <= 2, !label.isEmpty else { return nil }
        var hummingbirdID: String?
        var requestID: String?
        for (key, value) in base {
            switch key {
            case "hb.request.id": hummingbirdID = value.description
            case "request_id": requestID = value.description
            default: return nil
            }
        }
        // The keys in sorted order: duration_ms, hb.request.id, method, path, request_id, status.
        var line = Self.timestamp()
        line.reserveCapacity(line.utf8.count + label.utf8.count + path.utf8.count + 160)
        line += " info "
        line += label
        line += ": duration_ms="
        line += milliseconds
        if let hummingbirdID {
            line += " hb.request.id="
            line += hummingbirdID
        }
        line += " method="
        line += method
        line += " path="
        line += path
        if let requestID {
            line += " request_id="
            line += requestID
        }
        line += " status="
        line += String(status)
        line += " [CancelflowApp] Request\n"
        return line
    }

    /// The line, newline included, as `StreamLogHandler` writes it.
    static func line(event: LogEvent, label: String, base: Logger.Metadata, provider: Logger.MetadataProvider?) -> String {
        // The merged metadata as a sorted array rather than a merged dictionary: the access line's
        // handful of keys are a few comparisons this way, and no dictionary is built per line.
        // Precedence as StreamLogHandler's: the event's own metadata over the provider's over the
        // handler's.
        var entries: [(key: String, value: Logger.MetadataValue)] = []
        let provided = provider?.get() ?? [:]
        let explicit = event.metadata ?? [:]
        var errorEntries: Logger.Metadata = [:]
        if let error = event.error {
            errorEntries["error.message"] = "\(error)"
            errorEntries["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        entries.reserveCapacity(base.count + provided.count + explicit.count + errorEntries.count)
        for (key, value) in base where provided[key] == nil && explicit[key] == nil && errorEntries[key] == nil {
            entries.append((key, value))
        }
        for (key, value) in provided where explicit[key] == nil && errorEntries[key] == nil { entries.append((key, value)) }
        for (key, value) in explicit where errorEntries[key] == nil { entries.append((key, value)) }
        for (key, value) in errorEntries { entries.append((key, value)) }
        entries.sort { $0.key < $1.key }
        var line = Self.timestamp()
        line += " "
        line += event.level.rawValue
        if !label.isEmpty { line += " " }
        line += label
        line += ":"
        for (key, value) in entries {
            line += " "
            line += key
            line += "="
            if case .string(let text) = value { line += text } else { line += value.description }
        }
        line += " ["
        line += event.source
        line += "] "
        line += event.message.description
        line += "\n"
        return line
    }

    /// The second's timestamp and its text, shared by every handler.
    static let clock = Mutex<(second: time_t, text: String)>((0, ""))

    /// `%Y-%m-%dT%H:%M:%S%z` in local time, as `StreamLogHandler` formats it.
    static func timestamp() -> String {
        let now = time(nil)
        if let cached = Self.clock.withLock({ $0.second == now ? $0.text : nil }) { return cached }
        var seconds = now
        var local = tm()
        localtime_r(&seconds, &local)
        var buffer = [Int8](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        let text = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        Self.clock.withLock { $0 = (now, text) }
        return text
    }
}
