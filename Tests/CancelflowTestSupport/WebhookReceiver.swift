import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A real HTTP server on loopback that plays a merchant's webhook endpoint: it records every
/// request and answers as told (a status, optionally `Retry-After`, or slowly).
public final class WebhookReceiver: Sendable {
    public struct Received: Sendable {
        public let headers: [String: String]
        public let body: String
        /// The sender's port: requests that share one came over one connection.
        public let remotePort: Int?
    }

    /// Knows which connection a request came over.
    struct Context: RequestContext {
        var coreContext: CoreRequestContextStorage
        let remotePort: Int?

        init(source: ApplicationRequestContextSource) {
            self.coreContext = .init(source: source)
            self.remotePort = source.channel.remoteAddress?.port
        }
    }

    public enum Behaviour: Sendable {
        case status(Int, retryAfter: Int? = nil)
        case slow(seconds: Double)
        /// A status with exactly these bytes as the body (NUL bytes, invalid UTF-8, anything).
        case bytes(Int, [UInt8])
        /// A redirect to another URL.
        case redirect(Int, to: String)
    }

    public let port: Int
    let received = Mutex<[Received]>([])
    let behaviour = Mutex<Behaviour>(.status(200))

    public init(port: Int) {
        self.port = port
    }

    public var url: String { "http://127.0.0.1:\(self.port)/hooks" }
    public var requests: [Received] { self.received.withLock { $0 } }

    public func answer(_ behaviour: Behaviour) {
        self.behaviour.withLock { $0 = behaviour }
    }

    /// Runs the receiver while `body` runs. A free port can be taken by another test between
    /// `freePort` and the bind (the suite starts many servers at once), so a receiver that does
    /// not come up is tried again on another port.
    public static func withReceiver<Result: Sendable>(_ body: @Sendable (WebhookReceiver) async throws -> Result) async throws -> Result {
        for attempt in 1...3 {
            do {
                return try await self.withReceiver(port: try freePort(), body)
            } catch let error as NotListening where attempt < 3 {
                _ = error
            }
        }
        throw TestSetupError("the webhook receiver did not start")
    }

    struct NotListening: Error {}

    static func withReceiver<Result: Sendable>(port: Int, _ body: @Sendable (WebhookReceiver) async throws -> Result) async throws -> Result {
        let receiver = WebhookReceiver(port: port)
        let router = Router(context: Context.self)
        router.post("hooks") { request, context -> Response in
            var request = request
            let buffer = try await request.collectBody(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            receiver.received.withLock { $0.append(Received(headers: headers, body: String(buffer: buffer), remotePort: context.remotePort)) }
            switch receiver.behaviour.withLock({ $0 }) {
            case .status(let code, let retryAfter):
                var response = Response(status: .init(code: code), body: .init(byteBuffer: ByteBuffer(string: "answered \(code)")))
                if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
                return response
            case .slow(let seconds):
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                return Response(status: .ok)
            case .bytes(let code, let bytes):
                return Response(status: .init(code: code), body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            case .redirect(let code, let location):
                return Response(status: .init(code: code), headers: [.location: location])
            }
        }
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: receiver.port)),
            logger: Logger(label: "receiver", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            defer { group.cancelAll() }
            // Any answer (a 404 for this path) means it listens; a loaded machine gets 10 seconds.
            var listening = false
            let deadline = ContinuousClock.now + .seconds(10)
            while !listening && ContinuousClock.now < deadline {
                listening = (try? await httpStatus("http://127.0.0.1:\(receiver.port)/ready")) != nil
                if !listening { try await Task.sleep(for: .milliseconds(20)) }
            }
            guard listening else { throw NotListening() }
            return try await body(receiver)
        }
    }
}
