import Foundation
import OpenAPIRuntime

/// Cancelflow writes RFC 3339 timestamps in UTC with milliseconds only when they are not zero
/// (`2026-12-01T15:43:46Z`, `2026-11-30T15:43:46.825Z`). The runtime's transcoders each read
/// only one of those forms, so the SDK reads both and writes whole seconds.
struct CancelflowDates: DateTranscoder {
    static let whole = Date.ISO8601FormatStyle()
    static let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    func encode(_ date: Date) throws -> String {
        Self.whole.format(date)
    }

    func decode(_ text: String) throws -> Date {
        if let date = try? Self.fractional.parse(text) { return date }
        if let date = try? Self.whole.parse(text) { return date }
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "Expected an RFC 3339 timestamp, got \(text)."))
    }

    /// A JSON decoder for Cancelflow's bodies outside the generated client (webhook payloads).
    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            return try CancelflowDates().decode(text)
        }
        return decoder
    }
}
