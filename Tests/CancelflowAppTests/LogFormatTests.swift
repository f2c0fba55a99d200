import CancelflowTestSupport
import Foundation
import Testing

/// `--log-format json`: every line the server writes is one JSON object, with the same
/// redactions as the text format.
@Suite struct LogFormatTests {
    @Test func jsonLogsAreOneObjectPerLineWithTheSameRedactions() async throws {
        let token = "cl_" + String(repeating: "a", count: 40)
        let (_, stopped) = try await ServeProcess.with(arguments: ["--log-format", "json"]) { server in
            let (appID, apiKey) = try await server.testCredentials()
            #expect(try await httpRequest("GET", "\(server.baseURL)/healthz").status == 200)
            #expect(try await httpRequest("GET", "\(server.baseURL)/cancel/\(token)").status == 404)
            let headers = ["x-ck-app": appID, "x-ck-api-key": apiKey]
            #expect(try await httpRequest("GET", "\(server.baseURL)/v1/cancel-sessions?customerId=cus_secret", headers: headers).status == 200)
            return apiKey
        }
        #expect(!stopped.killed && stopped.status == 0)
        let lines = stopped.output.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count >= 5)
        var objects: [[String: Any]] = []
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "not a JSON object: \(line)")
            if let object { objects.append(object) }
        }
        for object in objects {
            #expect(object["time"] is String && object["level"] is String && object["message"] is String && object["label"] is String)
        }
        let first = try #require(objects.first { ($0["message"] as? String)?.hasPrefix("First start") == true })
        #expect((first["test_api_key"] as? String)?.hasPrefix("ck_test_") == true)
        #expect((first["live_api_key"] as? String)?.hasPrefix("not shown") == true)
        let requests = objects.filter { $0["message"] as? String == "Request" }
        let paths = requests.compactMap { $0["path"] as? String }
        #expect(paths.contains("/healthz"))
        #expect(paths.contains("/cancel/[redacted]"))
        #expect(requests.allSatisfy { ($0["request_id"] as? String)?.hasPrefix("req_") == true })
        // Secrets appear only in the first-start line, never in a request line.
        let rest = lines.filter { !$0.contains("First start") }.joined(separator: "\n")
        #expect(!rest.contains(token) && !rest.contains("ck_test_") && !rest.contains("cus_secret"))
    }
}
