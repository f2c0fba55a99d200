import CancelflowAPI
import CancelflowCore
import Foundation
import Hummingbird

/// Reads and writes API JSON. Reading is strict — an object, only known keys, the right types —
/// and every failure is a 400 that names the parameter at fault.
enum JSONBody {
    /// The largest request body the API reads (64 KiB).
    static let maximumSize = 64 * 1024

    /// Collects the body, refusing more than 64 KiB or one that takes longer than `deadline`.
    static func collect(_ request: inout Request, within deadline: Duration) async throws -> ByteBuffer {
        do {
            return try await BodyReader.collect(&request, upTo: Self.maximumSize, within: deadline)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            // NIO's NIOTooManyBytesError (and HTTPError) both report 413.
            throw CancelflowError.invalid("body_too_large", "The request body must be at most 64 KiB.")
        }
    }

    /// Decodes an object of known keys.
    static func decode<Value: Decodable>(_ type: Value.Type, from buffer: ByteBuffer, allowedKeys: Set<String>) throws -> Value {
        let data = Data(buffer.readableBytesView)
        guard !data.isEmpty else {
            throw CancelflowError.invalid("body_missing", "Send a JSON object in the request body.")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            throw CancelflowError.invalid("invalid_json", "The request body is not valid JSON.")
        }
        guard let dictionary = object as? [String: Any] else {
            throw CancelflowError.invalid("invalid_json", "The request body must be a JSON object.")
        }
        if let unknown = dictionary.keys.sorted().first(where: { !allowedKeys.contains($0) }) {
            throw CancelflowError.invalid("unknown_parameter", "Unknown parameter \(unknown).", param: unknown)
        }
        try Self.checkText(dictionary, path: nil, kind: .line)
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            // Foundation reports a fractional number for an integer field as corrupt data with no
            // coding path; name the field ourselves.
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
                let key = dictionary.keys.sorted().first(where: { Self.isFractionalNumber(dictionary[$0]) })
            {
                throw CancelflowError.invalid("parameter_invalid_type", "\(key) must be an integer.", param: key)
            }
            throw Self.describe(error)
        }
    }

    /// Top-level fields whose string values are prose or the merchant's own opaque data, which
    /// may hold line breaks; every other string is a single line.
    static let freeTextFields: Set<String> = ["metadata", "description"]

    /// Refuses control characters in every key and string value, nested ones included, naming
    /// the parameter (`metadata.plan`, `events[1]`). Invalid UTF-8 and lone surrogates never
    /// get here: Foundation's parser refuses them as invalid JSON.
    static func checkText(_ value: Any, path: String?, kind: InputText.Kind) throws {
        switch value {
        case let text as String:
            try InputText.check(text, param: path ?? "body", kind: kind)
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                let param = path.map { "\($0).\(key)" } ?? key
                try InputText.check(key, param: param)
                let kind: InputText.Kind = path == nil && Self.freeTextFields.contains(key) ? .freeText : kind
                try Self.checkText(object[key]!, path: param, kind: kind)
            }
        case let array as [Any]:
            for (index, element) in array.enumerated() {
                try Self.checkText(element, path: "\(path ?? "body")[\(index)]", kind: kind)
            }
        default:
            return
        }
    }

    static func isFractionalNumber(_ value: Any?) -> Bool {
        guard let number = value as? NSNumber, !(value is Bool) else { return false }
        return number.doubleValue.rounded() != number.doubleValue || "\(number)".contains("e")
    }

    static func describe(_ error: DecodingError) -> CancelflowError {
        /// `survey.reasons[2].label`: array positions in brackets, as the validation messages
        /// name them (Foundation's keys for them read "Index 2").
        func name(_ path: [any CodingKey]) -> String? {
            guard !path.isEmpty else { return nil }
            var text = ""
            for key in path {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += (text.isEmpty ? "" : ".") + key.stringValue
                }
            }
            return text
        }
        switch error {
        case .keyNotFound(let key, let context):
            let param = name(context.codingPath + [key]) ?? key.stringValue
            return .invalid("parameter_missing", "\(param) is required.", param: param)
        case .valueNotFound(_, let context):
            let param = name(context.codingPath)
            return .invalid("parameter_missing", "\(param ?? "A parameter") must not be null.", param: param)
        case .typeMismatch(let type, let context):
            let param = name(context.codingPath)
            return .invalid("parameter_invalid_type", "\(param ?? "A parameter") must be \(Self.describe(type)).", param: param)
        case .dataCorrupted(let context) where context.debugDescription == StrictKeys.unknownKey:
            let param = name(context.codingPath)
            return .invalid("unknown_parameter", "Unknown parameter \(param ?? "in the body").", param: param)
        case .dataCorrupted(let context):
            let param = name(context.codingPath)
            return .invalid("parameter_invalid", "\(param ?? "The body") is not of the expected form.", param: param)
        @unknown default:
            return .invalid("invalid_json", "The request body is not of the expected form.")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type: "an integer"
        case is [String: String].Type, is [String: Any].Type: "an object of strings"
        default: "of another type"
        }
    }

    /// A JSON response.
    static func response(_ value: some OrderedJSONRepresentable, status: HTTPResponse.Status = .ok) -> Response {
        Self.response(bytes: value.orderedJSON.bytes, status: status)
    }

    /// A JSON response from encoded bytes.
    static func response(bytes: some Sequence<UInt8>, status: HTTPResponse.Status) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
