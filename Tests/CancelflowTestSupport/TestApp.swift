import CancelflowApp
import CancelflowCore
import CancelflowStore
import Configuration
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// The instant test clocks start at.
public let testEpoch = Date(timeIntervalSince1970: 1_790_000_000)

/// A configuration for tests: the given keys over the defaults.
public func testConfiguration(_ values: [String: ConfigContent] = [:]) throws -> AppConfiguration {
    var all: [String: ConfigContent] = [
        "publicUrl": .string("https://cancel.test"),
        "secret": .string("test-secret-test-secret-test-secret-0123456789"),
        // HummingbirdTesting's live client reuses a connection without noticing that the server
        // closed it after the idle timeout, which a test on a loaded machine can outlast; the
        // tests of the timeout itself set their own.
        "readTimeout": .double(300),
    ]
    all.merge(values) { $1 }
    var entries: [AbsoluteConfigKey: ConfigValue] = [:]
    for (key, value) in all {
        entries[AbsoluteConfigKey([AppConfiguration.scope, key])] = ConfigValue(value, isSecret: key == "secret")
    }
    return try AppConfiguration(reader: ConfigReader(provider: InMemoryProvider(values: entries)))
}

/// What a test gets: the services behind the app (to look at the database directly), its clock,
/// and a first organization's keys.
public struct TestContext: Sendable {
    public let services: AppServices
    public let time: ManualTimeSource
    public let organization: Organization
    public let test: IssuedCredentials
    public let live: IssuedCredentials
    public let location: TestDatabase.Location

    /// Headers that authenticate as the organization in a mode.
    public func headers(_ mode: Mode = .test, json: Bool = true) -> HTTPFields {
        let pair = mode == .test ? self.test : self.live
        var fields: HTTPFields = [HTTPField.Name("x-ck-app")!: pair.appId, HTTPField.Name("x-ck-api-key")!: pair.apiKey]
        if json { fields[.contentType] = "application/json" }
        return fields
    }

    /// Pushes a customer with one active subscription straight into the store.
    public func seedCustomer(_ id: String = "cus_abc123", subscription: String? = "sub_xyz789", mode: Mode = .test) async throws {
        let now = self.time.now()
        _ = try await self.services.store.upsertCustomer(
            organizationID: self.organization.id, mode: mode, id: id, email: "\(id)@example.com", name: "Ada", now: now
        )
        if let subscription {
            _ = try await self.services.store.upsertSubscription(
                organizationID: self.organization.id,
                mode: mode,
                Subscription(
                    id: subscription, customerID: id, status: .active, planName: "Pro", amount: 1200, currency: "usd",
                    interval: .month, createdAt: now, updatedAt: now),
                now: now
            )
        }
    }

    /// The number of links stored for the organization, any mode.
    public func linkCount() async throws -> Int {
        try await self.services.pool.withConnection { db in
            try await db.raw("SELECT COUNT(*) AS n FROM cancel_links").first()?.decode(column: "n", as: Int.self) ?? -1
        }
    }
}

/// Runs `body` against an app on a fresh database of `engine`, through HummingbirdTesting's
/// router client, or a live socket with `.live`. A configuration that trusts a proxy runs live
/// by default: forwarded headers are believed only from a trusted peer, and the router client
/// has no peer at all, while a live socket's peer is 127.0.0.1 (the `--trust-proxy` loopback).
public func withTestApp<Result: Sendable>(
    _ engine: TestEngine,
    configuration: [String: ConfigContent] = [:],
    billing: BillingProviderKind = .builtin,
    returnHosts: [String] = [],
    testing: TestingSetup? = nil,
    logger: Logger = ProcessInfo.processInfo.environment["CANCELFLOW_TEST_LOGS"] != nil
        ? Logger(label: "test") : Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
    _ body: @Sendable @escaping (any TestClientProtocol, TestContext) async throws -> Result
) async throws -> Result {
    let config = try testConfiguration(configuration)
    return try await TestDatabase.withPool(engine, logger: logger) { pool, location in
        let time = ManualTimeSource(testEpoch)
        let services = AppServices(configuration: config, pool: pool, time: time, secret: try ServerSecret(config.secret!))
        let created = try await services.credentials.createOrganization(
            name: "Acme",
            billingProvider: billing,
            returnURLAllowlist: returnHosts
        )
        let context = TestContext(
            services: services,
            time: time,
            organization: created.organization,
            test: created.test,
            live: created.live,
            location: location
        )
        let app = try buildApplication(services: services, logger: logger)
        let proxied = configuration["trustProxy"] != nil || configuration["trustedProxies"] != nil
        return try await app.test(testing ?? (proxied ? .live : .router)) { client in
            try await body(client, context)
        }
    }
}

extension TestResponse {
    /// The body as text.
    public var text: String { String(buffer: self.body) }

    /// The body as a JSON object. A body that is not one is a test failure (recorded here, and
    /// an empty object returned), so that a check such as `json["secret"] == nil` cannot pass
    /// on a 404 page or a 500.
    public func json(sourceLocation: SourceLocation = #_sourceLocation) -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(self.body.readableBytesView))) as? [String: Any] else {
            Issue.record("expected a JSON object, got \(self.status.code): \(String(buffer: self.body).prefix(200))", sourceLocation: sourceLocation)
            return [:]
        }
        return object
    }

    /// The body as a JSON object (see `json()`).
    public var json: [String: Any] { self.json() }

    /// The error body's `error` object.
    public var error: [String: Any] { self.json["error"] as? [String: Any] ?? [:] }
}

/// A JSON body.
public func jsonBody(_ object: [String: Any]) -> ByteBuffer {
    ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
}

/// A JSON body from text.
public func jsonBody(_ text: String) -> ByteBuffer {
    ByteBuffer(string: text)
}

/// An ISO 8601 timestamp `seconds` after the test clock's now.
public func isoAfter(_ context: TestContext, _ seconds: TimeInterval) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: context.time.now().addingTimeInterval(seconds))
}

extension TestClientProtocol {
    /// `POST /v1/cancel-sessions` for a customer, expiring `expiresIn` seconds after the test
    /// clock's now, with any extra body fields.
    public func mint(
        _ context: TestContext,
        customer: String = "cus_abc123",
        expiresIn: TimeInterval = 3600,
        extra: [String: Any] = [:],
        headers: HTTPFields? = nil
    ) async throws -> TestResponse {
        var body: [String: Any] = ["customerId": customer, "expiresAt": isoAfter(context, expiresIn)]
        body.merge(extra) { $1 }
        return try await self.execute(uri: "/v1/cancel-sessions", method: .post, headers: headers ?? context.headers(), body: jsonBody(body))
    }
}
