import CancelflowCore
import Hummingbird
import NIOCore

/// A form body, `application/x-www-form-urlencoded`.
///
/// Every field goes through `InputText`: a malformed escape, bytes that are not UTF-8 or a
/// control character is a 400 naming the field (the friendly error page), never a value that
/// reaches the database. Only the fields in `freeTextFields` may hold line breaks.
struct FormBody: Sendable {
    static let maximumSize = 16 * 1024
    /// Fields a person types prose (or a list, one item per line, or a flow's JSON) into.
    static let freeTextFields: Set<String> = ["comment", "surveyReasons", "returnUrlAllowlist", "document"]

    let fields: [String: String]

    /// No fields (a GET).
    static let empty = FormBody(fields: [:])

    private init(fields: [String: String]) {
        self.fields = fields
    }

    subscript(_ name: String) -> String? { self.fields[name] }

    static func read(_ request: inout Request, within deadline: Duration) async throws -> FormBody {
        let buffer: ByteBuffer
        do {
            buffer = try await BodyReader.collect(&request, upTo: Self.maximumSize, within: deadline)
        } catch let error as CancelflowError where error.kind == .timeout {
            throw error
        } catch {
            throw CancelflowError.invalid("body_too_large", "The form is too large.")
        }
        guard let text = InputText.decodeUTF8(buffer.readableBytesView) else {
            throw CancelflowError.invalid("invalid_form", "The form could not be read.")
        }
        return try FormBody(text: text)
    }

    init(text: String) throws(CancelflowError) {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = InputText.percentDecode(parts[0], plusIsSpace: true), InputText.isAcceptable(name) else {
                throw CancelflowError.invalid("invalid_form", "The form could not be read.")
            }
            let kind: InputText.Kind = Self.freeTextFields.contains(name) ? .freeText : .line
            guard let value = parts.count > 1 ? InputText.percentDecode(parts[1], plusIsSpace: true) : "",
                InputText.isAcceptable(value, kind: kind)
            else {
                throw InputText.error(param: name, kind: kind)
            }
            // The first value wins: a repeated field cannot override what the page sent.
            if fields[name] == nil { fields[name] = value }
        }
        self.fields = fields
    }
}
