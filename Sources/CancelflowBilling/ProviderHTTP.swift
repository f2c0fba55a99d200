import AsyncHTTPClient
import CancelflowCore
import Foundation
import NIOCore
import NIOHTTP1

/// How long provider calls may take: each try, and all tries of one operation together.
public struct ProviderTimeouts: Sendable {
    /// The longest one HTTP exchange may take.
    public var attempt: TimeInterval
    /// The longest all tries of one call may take, backoff included.
    public var total: TimeInterval

    public init(attempt: TimeInterval = 10, total: TimeInterval = 20) {
        self.attempt = attempt
        self.total = total
    }
}

/// Told of every HTTP exchange with a provider: which provider, how it ended (`ok`,
/// `not_found`, `auth_error`, `rate_limited`, `client_error`, `server_error`, `timeout`,
/// `connection_error`) and how long it took. The app records these as metrics.
public typealias ProviderCallObserver = @Sendable (BillingProviderKind, String, Duration) -> Void

/// The HTTP exchange with a provider's REST API: one request, retried with backoff on 429, 5xx and
/// connection failures while the deadline allows. A write is retried after a failure that may have
/// reached the provider only when it carries an idempotency key the provider honours; otherwise
/// only when the request cannot have been acted on (a 429, or no connection at all), and the
/// flow's reconciliation settles the rest (`FlowService.settlePendingAction`).
struct ProviderHTTP: Sendable {
    let provider: BillingProviderKind
    let timeouts: ProviderTimeouts
    let observe: ProviderCallObserver
    let client: HTTPClient

    init(provider: BillingProviderKind, timeouts: ProviderTimeouts, observe: @escaping ProviderCallObserver, client: HTTPClient = .shared) {
        self.provider = provider
        self.timeouts = timeouts
        self.observe = observe
        self.client = client
    }

    /// A provider's answer.
    struct Reply: Sendable {
        var status: Int
        var body: Data

        /// The body as a JSON object, or an `unavailable` error: a provider answer we cannot read
        /// is treated like no answer.
        func object(_ provider: BillingProviderKind) throws -> JSONObject {
            guard case .object(let object) = try? JSONDecoder().decode(JSON.self, from: self.body) else {
                throw BillingErrors.unavailable(provider, "its answer (HTTP \(self.status)) was not the JSON expected.")
            }
            return object
        }
    }

    /// Sends one request; `safeToRetry` says whether a failure after the request may have
    /// reached the provider can be retried (a read, or a write under an honoured idempotency key).
    func send(_ method: HTTPMethod, _ url: String, headers: [(String, String)], body: Data?, safeToRetry: Bool) async throws -> Reply {
        let deadline = ContinuousClock.now + .milliseconds(Int64(self.timeouts.total * 1000))
        var attempt = 0
        while true {
            attempt += 1
            var request = HTTPClientRequest(url: url)
            request.method = method
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            request.headers.add(name: "User-Agent", value: "Cancelflow")
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
            let left = deadline - ContinuousClock.now
            let perTry = min(left, .milliseconds(Int64(self.timeouts.attempt * 1000)))
            guard perTry > .milliseconds(50) else {
                throw BillingErrors.unavailable(self.provider, "no answer in time.")
            }
            let failure: String
            var retryAfter: Duration?
            var retry: Bool
            let started = ContinuousClock.now
            do {
                // The whole exchange, body included, within the try's time: AsyncHTTPClient's
                // own deadline stops at the response head, and a provider that trickles its
                // body must not hold a session's claim past its end.
                let client = self.client
                let prepared = request
                let exchange: @Sendable () async throws -> (Int, HTTPHeaders, ByteBuffer) = {
                    let response = try await client.execute(prepared, timeout: .nanoseconds(Int64(perTry.inNanoseconds)))
                    // Answers are small JSON documents; anything larger is not one we want.
                    let body = try await response.body.collect(upTo: 4 << 20)
                    return (Int(response.status.code), response.headers, body)
                }
                let (status, headers, bytes) = try await Deadline.run(
                    within: perTry, onTimeout: { HTTPClientError.deadlineExceeded }, exchange)
                let reply = Reply(status: status, body: Data(bytes.readableBytesView))
                self.observe(self.provider, Self.result(status: status), ContinuousClock.now - started)
                // Stripe says whether a retry can help; a 500 it stored under the idempotency
                // key would only be replayed.
                let advice = headers.first(name: "stripe-should-retry")
                switch reply.status {
                case 429:
                    failure = "it asked us to slow down (HTTP 429)."
                    retry = advice != "false"
                    retryAfter = headers.first(name: "retry-after").flatMap(Double.init).map { .milliseconds(Int64(min($0, 5) * 1000)) }
                case 500...599:
                    failure = "it failed (HTTP \(reply.status))."
                    retry = advice.map { $0 == "true" } ?? safeToRetry
                case 409 where advice == "true":
                    // Stripe: the same idempotency key is still being processed.
                    failure = "it was still working on the same request."
                    retry = true
                default:
                    return reply
                }
            } catch let error as HTTPClientError where error == .connectTimeout {
                self.observe(self.provider, "connection_error", ContinuousClock.now - started)
                failure = "the connection timed out."
                retry = true
            } catch let error as HTTPClientError where error == .deadlineExceeded {
                self.observe(self.provider, "timeout", ContinuousClock.now - started)
                failure = "no answer in time."
                retry = safeToRetry
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // Refused, reset, TLS: whether the request got through is unknown unless the
                // connection was never made.
                self.observe(self.provider, "connection_error", ContinuousClock.now - started)
                failure = "the connection failed."
                retry = safeToRetry || Self.neverConnected(error)
            }
            // Backoff: 200 ms, 400 ms, 800 ms…, with jitter, within the deadline.
            let pause = retryAfter ?? .milliseconds(Int64(Double(200 << min(attempt - 1, 5)) * Double.random(in: 0.75...1.25)))
            guard retry, ContinuousClock.now + pause < deadline - .milliseconds(100) else {
                throw BillingErrors.unavailable(self.provider, failure)
            }
            try await Task.sleep(for: pause)
        }
    }

    /// The metric label of an answer: a few fixed words, never anything from the request.
    static func result(status: Int) -> String {
        switch status {
        case 200...299: "ok"
        case 404: "not_found"
        case 401, 403: "auth_error"
        case 429: "rate_limited"
        case 400...499: "client_error"
        default: "server_error"
        }
    }

    static func neverConnected(_ error: any Error) -> Bool {
        let text = String(describing: error)
        return text.contains("connectionRefused") || text.contains("Connection refused") || text.contains("ECONNREFUSED")
    }
}

extension Duration {
    var inNanoseconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
    }
}

/// A provider's JSON answer, decoded into plain Sendable values (the answers are read a few
/// fields at a time, so a full Codable model of each provider's objects would be mostly unused).
enum JSON: Sendable, Decodable {
    case object([String: JSON])
    case array([JSON])
    case string(String)
    case number(Double)
    case bool(Bool)
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }
}

typealias JSONObject = [String: JSON]

extension Dictionary where Key == String, Value == JSON {
    func string(_ key: String) -> String? {
        if case .string(let value) = self[key] { return value }
        return nil
    }
    func object(_ key: String) -> JSONObject? {
        if case .object(let value) = self[key] { return value }
        return nil
    }
    func objects(_ key: String) -> [JSONObject] {
        guard case .array(let values) = self[key] else { return [] }
        return values.compactMap {
            if case .object(let value) = $0 { return value }
            return nil
        }
    }
    func strings(_ key: String) -> [String] {
        guard case .array(let values) = self[key] else { return [] }
        return values.compactMap {
            if case .string(let value) = $0 { return value }
            return nil
        }
    }
    func bool(_ key: String) -> Bool? {
        if case .bool(let value) = self[key] { return value }
        return nil
    }
    func int(_ key: String) -> Int? {
        switch self[key] {
        case .number(let value) where value.isFinite && abs(value) < 1e15: Int(value)
        case .string(let text): Int(text)
        default: nil
        }
    }
    func double(_ key: String) -> Double? {
        switch self[key] {
        case .number(let value): value
        case .string(let text): Double(text)
        default: nil
        }
    }
    /// A Unix timestamp in seconds (Stripe).
    func unixDate(_ key: String) -> Date? { self.int(key).map { Date(timeIntervalSince1970: TimeInterval($0)) } }
    /// An RFC 3339 timestamp, with or without fractional seconds (Paddle).
    func isoDate(_ key: String) -> Date? { self.string(key).flatMap(RFC3339.parse) }
}

enum RFC3339 {
    static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle())
    }

    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle())
    }
}

/// `application/x-www-form-urlencoded`, as Stripe reads it (`a[b]=c` for nested fields).
enum FormEncoding {
    static let allowed: CharacterSet = {
        var set = CharacterSet.alphanumerics
        set.insert(charactersIn: "-._~")
        return set
    }()

    static func encode(_ pairs: [(String, String)]) -> Data {
        Data(pairs.map { Self.escape($0) + "=" + Self.escape($1) }.joined(separator: "&").utf8)
    }

    static func escape(_ text: String) -> String {
        // Alphanumerics in CharacterSet include non-ASCII letters; only ASCII may pass unescaped.
        var out = ""
        for byte in text.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80, Self.allowed.contains(scalar) {
                out.unicodeScalars.append(scalar)
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}

/// Provider object ids go into URL paths: only the characters their ids are made of may.
enum ProviderID {
    static func isPlausible(_ id: String, prefixes: [String]) -> Bool {
        prefixes.contains(where: id.hasPrefix) && id.count <= 255
            && id.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
    }
}
