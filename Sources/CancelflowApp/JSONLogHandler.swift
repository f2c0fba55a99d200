import CancelflowAPI
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the service writes its log.
public enum LogFormat: String, Sendable, CaseIterable {
    /// swift-log's `StreamLogHandler` lines, for a person at a terminal.
    case text
    /// One JSON object per line, for a log collector.
    case json

    /// A handler factory writing to standard output in this format, through `LogWriter`.
    public func handler(label: String) -> any LogHandler {
        switch self {
        case .text: TextLogHandler(label: label)
        case .json: JSONLogHandler(label: label)
        }
    }

    /// The line `LogWriter` writes when it had to drop lines, in this format.
    public func dropNotice(_ count: Int) -> String {
        let message = "The log output could not keep up: \(count) lines were dropped"
        switch self {
        case .text:
            return "\(Timestamp.format(Date())) warning cancelflow: dropped=\(count) [CancelflowApp] \(message)\n"
        case .json:
            return JSONLogHandler.line(
                time: Date(), level: .warning, label: "cancelflow", message: message, metadata: ["dropped": .stringConvertible(count)]) + "\n"
        }
    }
}

/// One JSON object per line on standard output: `time`, `level`, `label`, `message`, then the
/// metadata's keys (nested metadata as objects and arrays), the same metadata the text format
/// shows — so every redaction made where a line is logged holds in both formats.
///
/// Written by hand: none of the packages available here has a JSON log handler for swift-log,
/// and the format is a handful of lines over the project's ordered JSON writer.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    let label: String

    /// Keys of the line itself; metadata with these names is written under `metadata.<name>`.
    static let reserved: Set<String> = ["time", "level", "label", "message"]

    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let line = Self.line(
            time: Date(), level: event.level, label: self.label, message: event.message.description, metadata: merged
        )
        Self.write(line)
    }

    /// The JSON text of one line (without the newline).
    static func line(time: Date, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var members: [(String, OrderedJSON)] = [
            ("time", .string(Self.timestamp(time))), ("level", .string(level.rawValue)), ("label", .string(label)),
            ("message", .string(message)),
        ]
        for key in metadata.keys.sorted() {
            let name = Self.reserved.contains(key) ? "metadata.\(key)" : key
            members.append((name, Self.json(metadata[key]!)))
        }
        return String(decoding: OrderedJSON.object(members).bytes, as: UTF8.self)
    }

    static func json(_ value: Logger.Metadata.Value) -> OrderedJSON {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let value): .string(value.description)
        case .array(let values): .array(values.map(Self.json))
        case .dictionary(let values): .object(values.keys.sorted().map { ($0, Self.json(values[$0]!)) })
        }
    }

    static func timestamp(_ date: Date) -> String {
        Timestamp.format(date)
    }

    /// Hands the line to the writer, which writes whole lines only, so lines from concurrent
    /// tasks never interleave.
    static func write(_ line: String) {
        LogWriter.standardOutput.append(line + "\n")
    }
}
