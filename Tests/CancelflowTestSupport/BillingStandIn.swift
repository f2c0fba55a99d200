import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A billing provider stand-in on loopback, started for a test and stopped after it: localstripe
/// (PyPI's stateful fake Stripe) with our extensions, or our stateful Paddle Billing stand-in
/// (`Tests/billing/`). Both record every API call and accept queued faults on `/_test/`.
public final class BillingStandIn: Sendable {
    public enum Kind: Sendable {
        /// `Tests/billing/localstripe_plus.py`.
        case stripe
        /// `Tests/billing/paddle_standin.py`.
        case paddle
    }

    public let kind: Kind
    public let port: Int
    /// The API key it accepts.
    public let key: String
    let child: ChildProcess

    /// The address to configure as `--api-base`.
    public var base: String { "http://127.0.0.1:\(self.port)" }

    public init(_ kind: Kind, key: String? = nil) async throws {
        // A stand-in's start costs about a second of CPU (Python importing aiohttp and
        // localstripe); a suite starting a dozen at once on two cores starved everything else.
        await Self.starts.acquire()
        defer { Task { await Self.starts.release() } }
        self.kind = kind
        let key =
            key ?? (kind == .stripe ? "sk_test_standin_\(UUID().uuidString.prefix(8))" : "pdl_sdbx_apikey_standin\(UUID().uuidString.prefix(8))")
        self.key = key
        let script = kind == .stripe ? "localstripe_plus.py" : "paddle_standin.py"
        for _ in 1...3 {
            let port = try freePort()
            let child = try ChildProcess("/usr/bin/env", ["python3", Self.folder + script, String(port), "--key", key], captureErrors: false)
            let deadline = ContinuousClock.now + .seconds(20)
            while !child.printed.contains("ready\n") && !child.hasExited && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            if child.printed.contains("ready\n") && !child.hasExited {
                self.port = port
                self.child = child
                return
            }
            child.killNow()
        }
        throw TestSetupError("the \(script) stand-in did not start; scripts/test installs localstripe and paddle-python-sdk")
    }

    static let starts = StartLimiter(limit: 2)

    public static var folder: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("billing").path + "/"
    }

    public func stop() {
        self.child.killNow()
    }

    /// One call to the stand-in: `form` bodies for Stripe's API, `json` for Paddle's and for the
    /// control endpoints. Answers the status and the body parsed as JSON (an empty object when it
    /// is not JSON).
    @discardableResult
    public func call(
        _ method: HTTPMethod, _ path: String, form: [(String, String)]? = nil, json: [String: Any]? = nil, authorized: Bool = true
    ) async throws -> (status: Int, body: [String: Any]) {
        var request = HTTPClientRequest(url: self.base + path)
        request.method = method
        if authorized { request.headers.add(name: "Authorization", value: "Bearer \(self.key)") }
        if let form {
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
            let text = form.map {
                ($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0) + "="
                    + ($1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $1)
            }.joined(separator: "&")
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: text))
        } else if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 8 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any] ?? [:]
        return (Int(response.status.code), object)
    }

    /// The API calls received so far (method, path, query, …), oldest first.
    public func calls() async throws -> [[String: Any]] {
        var request = HTTPClientRequest(url: self.base + "/_test/calls")
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 8 << 20)
        return (try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [[String: Any]] ?? []
    }

    /// The calls that change something (not GET).
    public func writes(pathContaining fragment: String = "") async throws -> [[String: Any]] {
        // (`contains("")` is false, so an empty fragment is handled apart.)
        try await self.calls().filter {
            ($0["method"] as? String) != "GET" && (fragment.isEmpty || (($0["path"] as? String) ?? "").contains(fragment))
        }
    }

    /// Queues faults for the next matching requests: each `{"status": N}`, `{"delay": S}` or
    /// `{"malformed": true}`.
    public func fault(method: String, pathPrefix: String, _ responses: [[String: Any]]) async throws {
        let (status, _) = try await self.call(
            .POST, "/_test/faults", json: ["method": method, "path_prefix": pathPrefix, "responses": responses], authorized: false)
        guard status == 200 else { throw TestSetupError("the stand-in refused the fault (\(status))") }
    }
}

/// At most `limit` holders at a time; the others wait in order.
public actor StartLimiter {
    let limit: Int
    var holders = 0
    var waiting: [CheckedContinuation<Void, Never>] = []

    public init(limit: Int) {
        self.limit = limit
    }

    public func acquire() async {
        if self.holders < self.limit {
            self.holders += 1
            return
        }
        await withCheckedContinuation { self.waiting.append($0) }
    }

    public func release() {
        if self.waiting.isEmpty {
            self.holders -= 1
        } else {
            // The slot passes straight to the next waiter.
            self.waiting.removeFirst().resume()
        }
    }
}
