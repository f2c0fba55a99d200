import CancelflowTestSupport
import Foundation
import Testing

/// A real browser walks the hosted flow against a real `cancelflow serve`, on each database.
@Suite struct BrowserTests {
    @Test(arguments: TestEngine.allCases)
    func aCustomerCancelsInChromiumAndTheLinkRefusesASecondUse(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { _, location in
            var arguments: [String] = []
            if case .postgres(let url) = location {
                arguments = ["--database", url, "--secret", "browser-test-secret-0123456789-abcdef"]
            }
            let server = try await ServeProcess(arguments: arguments)
            // The first start prints the first organization's test keys.
            var printed = ""
            for _ in 0..<50 where !printed.contains("ck_test_") {
                printed += server.printedSoFar()
                if !printed.contains("ck_test_") { try await Task.sleep(for: .milliseconds(100)) }
            }
            let appID = try #require(Self.first("app_test_[a-z2-7]+", in: printed), "\(printed)")
            let apiKey = try #require(Self.first("ck_test_[a-z2-7]+", in: printed))
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let shots = root.appendingPathComponent("test-output/browser/\(engine)").path
            let result = try await runProcess(
                "/usr/bin/env",
                ["python3", root.appendingPathComponent("Tests/browser/walk.py").path],
                environment: [
                    "CANCELFLOW_BASE_URL": server.baseURL,
                    "CANCELFLOW_APP_ID": appID,
                    "CANCELFLOW_API_KEY": apiKey,
                    "SCREENSHOT_DIR": shots,
                ]
            )
            let log = server.stop()
            #expect(result.status == 0, "\(result.stderr)\n\(result.stdout)")
            #expect(result.stdout.contains(#""ok": true"#))
            for step in ["01-landing", "02-survey", "03-offer", "04-confirm", "05-done", "06-expired"] {
                #expect(FileManager.default.fileExists(atPath: "\(shots)/\(step).png"), "\(step)")
            }
            #expect(!log.contains(Self.first("cl_[a-z2-7]{48}", in: log) ?? "cl_no_token_logged"))
            #expect(server.exitStatus == 0)
        }
    }

    static func first(_ pattern: String, in text: String) -> String? {
        text.range(of: pattern, options: .regularExpression).map { String(text[$0]) }
    }
}
