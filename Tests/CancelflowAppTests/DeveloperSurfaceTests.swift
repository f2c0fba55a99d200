import CancelflowClient
import CancelflowTestSupport
import Foundation
import Testing

/// The API from outside, as integrators meet it: schemathesis fuzzes a live server against
/// openapi.yaml, and every example in examples/ mints a working link against one.
///
/// One test at a time; each live server also takes one of the browser walks' two slots
/// (`LiveServer`).
@Suite(.serialized) struct DeveloperSurfaceTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let environment = ProcessInfo.processInfo.environment

    /// schemathesis 4 against `cancelflow serve` with valid test credentials: every phase
    /// (examples, coverage, fuzzing, stateful) and every check but `positive_data_acceptance`
    /// (schema-valid requests the server rightly refuses: an `expiresAt` in the past, an unknown
    /// customer). It fails on any 5xx, any response off its schema, status or headers, and the
    /// server must log no unexpected error and shut down gracefully.
    @Test(arguments: TestEngine.allCases)
    func schemathesisFindsNothing(engine: TestEngine) async throws {
        let schemathesis = try #require(
            Self.environment["CANCELFLOW_TEST_SCHEMATHESIS"],
            "set by scripts/test, which installs schemathesis in a virtual environment of its own")
        let reports = Self.root.appendingPathComponent("test-output/schemathesis/\(engine)")
        try? FileManager.default.removeItem(at: reports)
        try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
        // Limits far above what the fuzzer sends: it tests authentication on purpose (ignored_auth),
        // and the per-client failure limit would otherwise answer everything after with 429.
        let arguments = [
            "--auth-failure-limit", "1000000", "--rate-limit", "1000000", "--rate-limit-burst", "1000000", "--allow-private-webhooks",
        ]
        let (result, log) = try await Self.fuzz(engine, arguments: arguments, reports: reports, schemathesis: schemathesis)
        try result.stdout.write(to: reports.appendingPathComponent("output.txt"), atomically: true, encoding: .utf8)
        #expect(result.status == 0, "schemathesis found something:\n\(result.stdout.suffix(6000))\n\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("Tested: 28"), "\(result.stdout.suffix(2000))")
        let generated = Self.first(#"(\d+) generated, (\d+) passed"#, in: result.stdout)
        #expect(generated != nil, "the summary line is missing")
        // No request made the server log an error (an unexpected throw, a failed request).
        // (The text format's timestamp ends in the local zone's offset, `+0000` or `-0500`.)
        #expect(Self.first(#"[+-]\d{4} (error|critical) .*"#, in: log) == nil, "the server logged an error")
    }

    /// Every example whose toolchain is installed mints a link against `cancelflow serve`,
    /// answers 302 to it (and JSON for the client-side variant), and the link opens. The test
    /// command installs Node, Go, Ruby and PHP from Debian; a toolchain that could not be
    /// installed is reported as skipped, and curl, Python and Swift are always there.
    @Test func everyExampleMintsALinkThatWorks() async throws {
        let report = Self.root.appendingPathComponent("test-output/examples/report.json")
        try FileManager.default.createDirectory(at: report.deletingLastPathComponent(), withIntermediateDirectories: true)
        let bin = URL(fileURLWithPath: cancelflowBinary()).deletingLastPathComponent().appendingPathComponent("cancel-link-example")
        let result = try await LiveServer.with(.sqlite) { server, appID, apiKey in
            try await runProcess(
                "/usr/bin/env",
                [
                    "python3", Self.root.appendingPathComponent("examples/run").path, "--base-url", server.baseURL, "--app-id", appID,
                    "--api-key", apiKey, "--report", report.path,
                ],
                environment: ["CANCELFLOW_EXAMPLE_SWIFT_BIN": bin.path], timeout: .seconds(600))
        }
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any]
        let examples = try #require(json?["examples"] as? [String: [String: Any]])
        for name in ["curl", "python", "swift", "error-path"] {
            #expect(examples[name]?["status"] as? String == "passed", "\(name): \(examples[name] ?? [:])")
        }
        for name in ["node", "go", "ruby", "php"] {
            let status = examples[name]?["status"] as? String
            #expect(status == "passed" || status == "skipped", "\(name): \(examples[name] ?? [:])")
            if status == "skipped" { print("examples: \(name) skipped: \(examples[name]?["detail"] ?? "")") }
        }
    }

    /// The webhook verifiers in examples/webhooks (Node.js, Python, Go, Ruby, PHP) accept a real
    /// signed delivery and refuse it altered, under another secret, or signed ten minutes ago.
    @Test func webhookVerifiersInEveryLanguageCheckARealDelivery() async throws {
        let folder = Self.root.appendingPathComponent("test-output/webhook-verifiers")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let delivery = folder.appendingPathComponent("delivery.json")
        let report = folder.appendingPathComponent("report.json")
        do {
            try await WebhookReceiver.withReceiver { receiver in
                try await LiveServer.with(.sqlite, arguments: ["--allow-private-webhooks"]) { server, appID, apiKey in
                    let cancelflow = Cancelflow(baseURL: URL(string: server.baseURL)!, appID: appID, apiKey: apiKey)
                    let endpoint = try await cancelflow.createWebhookEndpoint(url: receiver.url)
                    try await cancelflow.testWebhookEndpoint(id: endpoint.id)
                    for _ in 0..<200 where receiver.requests.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
                    let received = try #require(receiver.requests.first, "no delivery arrived")
                    let json: [String: Any] = ["secret": endpoint.secret ?? "", "headers": received.headers, "body": received.body]
                    try JSONSerialization.data(withJSONObject: json).write(to: delivery)
                }
            }
        }
        let result = try await runProcess(
            "/usr/bin/env",
            ["python3", Self.root.appendingPathComponent("examples/webhooks/check").path, "--delivery", delivery.path, "--report", report.path],
            timeout: .seconds(300))
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let verifiers = try #require(
            (try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any])?["verifiers"] as? [String: [String: Any]])
        #expect(verifiers["python"]?["status"] as? String == "passed", "\(verifiers["python"] ?? [:])")
        for name in ["node", "go", "ruby", "php"] {
            let status = verifiers[name]?["status"] as? String
            #expect(status == "passed" || status == "skipped", "\(name): \(verifiers[name] ?? [:])")
        }
    }

    static func fuzz(
        _ engine: TestEngine, arguments: [String], reports: URL, schemathesis: String
    ) async throws -> (ProcessResult, String) {
        try await LiveServer.with(engine, arguments: arguments) { server, appID, apiKey in
            let result = try await runProcess(
                schemathesis,
                [
                    "run", Self.root.appendingPathComponent("openapi.yaml").path, "--url", server.baseURL,
                    "-H", "x-ck-app: \(appID)", "-H", "x-ck-api-key: \(apiKey)",
                    "--max-examples", "20", "--seed", "20261130", "--workers", "1",
                    "--exclude-checks", "positive_data_acceptance", "--generation-database", "none",
                    "--report", "junit", "--report-dir", reports.path, "--no-color",
                ],
                directory: reports.path, timeout: .seconds(600))
            return (result, server.printed)
        }
    }

    static func first(_ pattern: String, in text: String) -> String? {
        guard let range = text.range(of: pattern, options: .regularExpression) else { return nil }
        return String(text[range])
    }
}
