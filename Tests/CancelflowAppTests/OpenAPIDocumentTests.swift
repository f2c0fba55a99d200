import CancelflowTestSupport
import Configuration
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import CancelflowApp

/// openapi.yaml against the server: the document is valid and fresh, it lists exactly the routes
/// the server registers, and real responses of every operation match its schemas, held to exactly
/// the documented fields.
@Suite struct OpenAPIDocumentTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The checks' Python: scripts/test's virtual environment (openapi-spec-validator, PyYAML),
    /// else the system's.
    static func python(_ arguments: [String]) async throws -> ProcessResult {
        if let python = ProcessInfo.processInfo.environment["CANCELFLOW_TEST_PYTHON"] {
            return try await runProcess(python, arguments, directory: Self.root.path, timeout: .seconds(120))
        }
        return try await runProcess("/usr/bin/env", ["python3"] + arguments, directory: Self.root.path, timeout: .seconds(120))
    }

    /// The document's operations as `METHOD /path`.
    static func documentedOperations() throws -> Set<String> {
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var operations: Set<String> = []
        for (path, item) in paths {
            for method in item.keys where ["get", "put", "post", "delete", "patch"].contains(method) {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        return operations
    }

    @Test func theEmbeddedDocumentIsOpenAPIYAMLAndValid() async throws {
        let fresh = try await Self.python(["scripts/openapi", "--check"])
        #expect(fresh.status == 0, "\(fresh.stderr)")
        let checked = try await Self.python(["Tests/openapi/check_document.py", "openapi.yaml"])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains("openapi.yaml: OK"))
    }

    @Test func theDocumentListsExactlyTheRoutesTheServerRegisters() async throws {
        try await withTestApp(.sqlite) { _, ctx in
            let router = try buildRouter(services: ctx.services)
            let registered = Set(
                router.routes.map { "\($0.method.rawValue) \($0.path.description.hasPrefix("/") ? "" : "/")\($0.path)" }
                    .filter { $0.contains(" /v1/") })
            let documented = try Self.documentedOperations()
            #expect(registered.subtracting(documented).isEmpty, "registered but not documented: \(registered.subtracting(documented).sorted())")
            #expect(documented.subtracting(registered).isEmpty, "documented but not registered: \(documented.subtracting(registered).sorted())")
            #expect(documented.count == 28)
        }
    }

    @Test func theDocumentIsServedWithoutCredentialsNamingThisInstance() async throws {
        try await withTestApp(.sqlite) { client, _ in
            let response = try await client.execute(uri: "/v1/openapi.json", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            let servers = response.json["servers"] as? [[String: Any]]
            #expect(servers?.first?["url"] as? String == "https://cancel.test")
            #expect(response.json["openapi"] as? String == "3.1.0")
            #expect(!response.text.contains(OpenAPIDocument.placeholderServer))
        }
    }

    /// A known path asked with a method it does not take is 405 with `Allow`, in the one error
    /// body; an unknown path stays 404.
    @Test(arguments: TestEngine.allCases)
    func aWrongMethodIs405WithAllow(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            let cases: [(String, HTTPRequest.Method, String)] = [
                ("/v1/cancel-sessions", .delete, "GET, POST"),
                ("/v1/cancel-sessions/cs_x/revoke", .get, "POST"),
                ("/v1/customers/cus_1", .post, "GET, PUT"),
                ("/v1/webhook-endpoints/we_1", .put, "DELETE, GET"),
                ("/v1/openapi.json", .post, "GET"),
            ]
            for (path, method, allow) in cases {
                let response = try await client.execute(uri: path, method: method, headers: ctx.headers(json: false))
                #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                #expect(response.headers[.allow] == allow, "\(method) \(path)")
                #expect(response.error["code"] as? String == "method_not_allowed")
            }
            let unknown = try await client.execute(uri: "/v1/nothing-here", method: .get, headers: ctx.headers(json: false))
            #expect(unknown.status == .notFound)
            // Pages answer 405 too, as a page.
            let page = try await client.execute(uri: "/healthz", method: .delete)
            #expect(page.status == .methodNotAllowed)
            #expect(page.headers[.allow] == "GET")
        }
    }

    /// Drives every operation, successes and failures, and has check_document.py hold each real
    /// response to its documented schema with no undocumented field.
    @Test(arguments: TestEngine.allCases)
    func realResponsesOfEveryOperationMatchTheDocument(engine: TestEngine) async throws {
        let captured = try await Self.captureEveryOperation(engine)
        let file = Self.root.appendingPathComponent("test-output/openapi/responses-\(engine).jsonl")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try captured.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let checked = try await Self.python(["Tests/openapi/check_document.py", "openapi.yaml", "--responses", file.path])
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains("over 28 of 28 operations"), "\(checked.stdout)")

        // The check can fail: a response with a field the document does not list is caught.
        let drifted = Self.root.appendingPathComponent("test-output/openapi/drifted-\(engine).jsonl")
        let extra = captured.map { $0.replacingOccurrences(of: #""livemode":false"#, with: #""livemode":false,"undocumented":1"#) }
        try extra.joined(separator: "\n").write(to: drifted, atomically: true, encoding: .utf8)
        let caught = try await Self.python(["Tests/openapi/check_document.py", "openapi.yaml", "--responses", drifted.path])
        #expect(caught.status == 1)
        #expect(caught.stdout.contains("'undocumented' was unexpected"), "\(caught.stdout)")
    }

    static func captureEveryOperation(_ engine: TestEngine) async throws -> [String] {
        try await withTestApp(engine, configuration: ["allowPrivateWebhooks": .bool(true)]) { client, ctx in
            let records = Mutex<[String]>([])
            @Sendable func send(
                _ operation: String, _ uri: String, _ method: HTTPRequest.Method, body: [String: Any]? = nil, headers: HTTPFields? = nil,
                expect status: HTTPResponse.Status
            ) async throws -> [String: Any] {
                let response = try await client.execute(
                    uri: uri, method: method, headers: headers ?? ctx.headers(json: body != nil), body: body.map(jsonBody))
                #expect(response.status == status, "\(operation) \(method) \(uri): \(response.text)")
                let object = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
                let record = try JSONSerialization.data(
                    withJSONObject: ["operationId": operation, "status": Int(response.status.code), "body": object], options: [.sortedKeys])
                records.withLock { $0.append(String(decoding: record, as: UTF8.self)) }
                return object as? [String: Any] ?? [:]
            }
            _ = try await send("getOpenAPIDocument", "/v1/openapi.json", .get, headers: [:], expect: .ok)
            _ = try await send("upsertCustomer", "/v1/customers/cus_abc123", .put, body: ["email": "ada@example.com", "name": "Ada"], expect: .ok)
            _ = try await send(
                "upsertSubscription", "/v1/customers/cus_abc123/subscriptions/sub_xyz789", .put,
                body: [
                    "status": "active", "planName": "Pro", "amount": 1200, "currency": "usd", "interval": "month",
                    "currentPeriodEnd": "2027-01-01T00:00:00Z",
                ], expect: .ok)
            _ = try await send("getCustomer", "/v1/customers/cus_abc123", .get, expect: .ok)
            let endpoint = try await send(
                "createWebhookEndpoint", "/v1/webhook-endpoints", .post,
                body: ["url": "http://127.0.0.1:9/hooks", "events": ["cancel_link.created"], "description": "records"], expect: .created)
            let endpointID = try #require(endpoint["id"] as? String)
            var idempotent = ctx.headers()
            idempotent[HTTPField.Name("Idempotency-Key")!] = "capture-1"
            let minted = try await send(
                "createCancelSession", "/v1/cancel-sessions", .post,
                body: [
                    "customerId": "cus_abc123", "subscriptionId": "sub_xyz789", "expiresAt": isoAfter(ctx, 3600),
                    "metadata": ["plan": "pro"], "singleUse": true,
                ],
                headers: idempotent, expect: .created)
            let linkID = try #require(minted["id"] as? String)
            _ = try await send("listCancelSessions", "/v1/cancel-sessions?customerId=cus_abc123&limit=1", .get, expect: .ok)
            _ = try await send("getCancelSession", "/v1/cancel-sessions/\(linkID)", .get, expect: .ok)
            _ = try await send("revokeCancelSession", "/v1/cancel-sessions/\(linkID)/revoke", .post, expect: .ok)
            _ = try await send("listWebhookEndpoints", "/v1/webhook-endpoints", .get, expect: .ok)
            _ = try await send("getWebhookEndpoint", "/v1/webhook-endpoints/\(endpointID)", .get, expect: .ok)
            _ = try await send("rotateWebhookEndpointSecret", "/v1/webhook-endpoints/\(endpointID)/rotate-secret", .post, expect: .ok)
            let ping = try await send("testWebhookEndpoint", "/v1/webhook-endpoints/\(endpointID)/test", .post, expect: .accepted)
            let events = try await send("listEvents", "/v1/events?limit=10", .get, expect: .ok)
            #expect(((events["data"] as? [Any])?.count ?? 0) >= 2, "at least cancel_link.created and ping")
            let eventID = try #require(ping["eventId"] as? String)
            _ = try await send("getEvent", "/v1/events/\(eventID)", .get, expect: .ok)
            _ = try await send("listEventDeliveries", "/v1/events/\(eventID)/deliveries", .get, expect: .ok)
            _ = try await send("resendEvent", "/v1/events/\(eventID)/resend", .post, expect: .accepted)
            _ = try await send("deleteWebhookEndpoint", "/v1/webhook-endpoints/\(endpointID)", .delete, expect: .ok)
            let document: [String: Any] = [
                "name": "Yearly", "targeting": ["intervals": ["year"], "attributes": ["segment": ["smb"]]],
                "survey": ["question": ["en": "Why?", "fr": "Pourquoi ?"], "reasons": [["id": "price", "label": "Price", "offer": "talk"]]],
                "offers": [["id": "talk", "type": "contact", "email": "help@example.com"]], "cooldownDays": ["contact": 30],
                "variants": [["key": "a", "weight": 50], ["key": "b", "weight": 50, "survey": ["reasons": [["id": "price", "label": "Cost"]]]]],
            ]
            let flows = try await send("listFlows", "/v1/flows", .get, expect: .ok)
            #expect((flows["data"] as? [Any])?.count == 1, "the default flow")
            let flow = try await send("createFlow", "/v1/flows", .post, body: document, expect: .created)
            let flowID = try #require(flow["id"] as? String)
            _ = try await send("saveFlowDraft", "/v1/flows/\(flowID)/draft", .put, body: document, expect: .ok)
            let live = ctx.headers(.live, json: false)
            _ = try await send("publishFlow", "/v1/flows/\(flowID)/publish", .post, headers: live, expect: .ok)
            _ = try await send("publishFlow", "/v1/flows/\(flowID)/publish", .post, expect: .forbidden)
            _ = try await send("saveFlowDraft", "/v1/flows/\(flowID)/draft", .put, body: document, expect: .ok)
            _ = try await send("discardFlowDraft", "/v1/flows/\(flowID)/draft", .delete, expect: .ok)
            _ = try await send("getFlow", "/v1/flows/\(flowID)", .get, expect: .ok)
            _ = try await send(
                "restoreFlowVersion", "/v1/flows/\(flowID)/restore", .post, body: ["version": 1], headers: ctx.headers(.live), expect: .ok)
            _ = try await send("listFlowVersions", "/v1/flows/\(flowID)/versions", .get, expect: .ok)
            _ = try await send("moveFlow", "/v1/flows/\(flowID)/move", .post, body: ["position": 0], headers: ctx.headers(.live), expect: .ok)
            _ = try await send("listFlows", "/v1/flows", .get, expect: .ok)
            _ = try await send("archiveFlow", "/v1/flows/\(flowID)", .delete, headers: live, expect: .ok)
            _ = try await send("createFlow", "/v1/flows", .post, body: ["name": "x", "survey": ["reasons": []]], expect: .badRequest)
            // Failures, in the one error body.
            _ = try await send("getCancelSession", "/v1/cancel-sessions/cs_missing", .get, expect: .notFound)
            _ = try await send("createCancelSession", "/v1/cancel-sessions", .post, body: ["customerId": "cus_abc123"], expect: .badRequest)
            _ = try await send(
                "createCancelSession", "/v1/cancel-sessions", .post, body: ["customerId": "cus_abc123", "expiresAt": "2001-01-01T00:00:00Z"],
                expect: .unprocessableContent)
            _ = try await send("listEvents", "/v1/events", .get, headers: [:], expect: .unauthorized)
            _ = try await send("listEvents", "/v1/events?limit=0", .get, expect: .badRequest)
            _ = try await send("upsertCustomer", "/v1/customers/cus_abc123", .put, body: ["email": NSNull()], expect: .ok)
            return records.withLock { $0 }
        }
    }
}
