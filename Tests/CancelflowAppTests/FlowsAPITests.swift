import CancelflowTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// `/v1/flows`: documents in, validated, kept as drafts until published, versions restorable.
@Suite struct FlowsAPITests {
    static var monthly: [String: Any] {
        [
            "name": "Monthly",
            "targeting": ["intervals": ["month"]],
            "survey": [
                "reasons": [
                    ["id": "too_expensive", "label": ["en": "Too expensive", "fr": "Trop cher"], "offer": "discount"],
                    ["id": "not_using", "label": "Not using it enough", "offer": "pause"],
                ]
            ],
            "offers": [
                ["id": "discount", "type": "discount", "percent": 25, "months": 3],
                ["id": "pause", "type": "pause", "months": 2],
            ],
        ]
    }

    static func error(_ response: TestResponse) -> (code: String?, param: String?) {
        let error = response.json["error"] as? [String: Any]
        return (error?["code"] as? String, error?["param"] as? String)
    }

    @Test(arguments: TestEngine.allCases)
    func flowsAreCreatedAsDraftsPublishedAndRestored(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            // Every organization starts with its default flow, published.
            let list = try await client.execute(uri: "/v1/flows", method: .get, headers: ctx.headers(json: false))
            #expect(list.status == .ok)
            let initial = try #require(list.json["data"] as? [[String: Any]])
            #expect(initial.count == 1 && initial[0]["default"] as? Bool == true && initial[0]["status"] as? String == "published")
            let defaultID = try #require(initial[0]["id"] as? String)

            let created = try await client.execute(uri: "/v1/flows", method: .post, headers: ctx.headers(), body: jsonBody(Self.monthly))
            #expect(created.status == .created, "\(created.text)")
            #expect(created.json["status"] as? String == "draft" && created.json["published"] is NSNull)
            let draft = try #require(created.json["draft"] as? [String: Any])
            #expect(
                ((draft["survey"] as? [String: Any])?["reasons"] as? [[String: Any]])?.first?["label"] as? [String: String] == [
                    "en": "Too expensive", "fr": "Trop cher",
                ])
            let id = try #require(created.json["id"] as? String)

            // A test key edits drafts but cannot change what customers get.
            let refusedTest = try await client.execute(uri: "/v1/flows/\(id)/publish", method: .post, headers: ctx.headers(json: false))
            #expect(refusedTest.status == .forbidden && Self.error(refusedTest).code == "live_key_required")
            for (uri, method) in [
                ("/v1/flows/\(id)", HTTPRequest.Method.delete), ("/v1/flows/\(id)/move", .post), ("/v1/flows/\(id)/restore", .post),
            ] {
                let response = try await client.execute(
                    uri: uri, method: method, headers: ctx.headers(), body: jsonBody(["position": 0, "version": 1]))
                #expect(response.status == .forbidden, "\(uri)")
            }
            let published = try await client.execute(uri: "/v1/flows/\(id)/publish", method: .post, headers: ctx.headers(.live, json: false))
            #expect(published.status == .ok, "\(published.text)")
            #expect((published.json["published"] as? [String: Any])?["version"] as? Int == 1)
            #expect((published.json["published"] as? [String: Any])?["publishedBy"] as? String == "api:live")
            #expect(published.json["draft"] is NSNull)
            let again = try await client.execute(uri: "/v1/flows/\(id)/publish", method: .post, headers: ctx.headers(.live, json: false))
            #expect(again.status == .conflict && Self.error(again).code == "nothing_to_publish")

            var edited = Self.monthly
            edited["name"] = "Monthly v2"
            let saved = try await client.execute(uri: "/v1/flows/\(id)/draft", method: .put, headers: ctx.headers(), body: jsonBody(edited))
            #expect(saved.status == .ok && (saved.json["draft"] as? [String: Any])?["name"] as? String == "Monthly v2")
            #expect(((saved.json["published"] as? [String: Any])?["document"] as? [String: Any])?["name"] as? String == "Monthly")
            _ = try await client.execute(uri: "/v1/flows/\(id)/publish", method: .post, headers: ctx.headers(.live, json: false))
            let restored = try await client.execute(
                uri: "/v1/flows/\(id)/restore", method: .post, headers: ctx.headers(.live), body: jsonBody(["version": 1]))
            #expect((restored.json["published"] as? [String: Any])?["version"] as? Int == 3)
            #expect(restored.json["name"] as? String == "Monthly")
            let versions = try await client.execute(uri: "/v1/flows/\(id)/versions", method: .get, headers: ctx.headers(json: false))
            #expect((versions.json["data"] as? [[String: Any]])?.compactMap { $0["version"] as? Int } == [3, 2, 1])

            // Listed before the default flow; the default cannot be archived, this one can.
            let ordered = try await client.execute(uri: "/v1/flows", method: .get, headers: ctx.headers(json: false))
            #expect((ordered.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id, defaultID])
            let refused = try await client.execute(uri: "/v1/flows/\(defaultID)", method: .delete, headers: ctx.headers(.live, json: false))
            #expect(refused.status == .conflict && Self.error(refused).code == "default_flow_fixed")
            let archived = try await client.execute(uri: "/v1/flows/\(id)", method: .delete, headers: ctx.headers(.live, json: false))
            #expect(archived.status == .ok && archived.json["archived"] as? Bool == true)
            let after = try await client.execute(uri: "/v1/flows", method: .get, headers: ctx.headers(json: false))
            #expect((after.json["data"] as? [[String: Any]])?.count == 1)
            let missing = try await client.execute(uri: "/v1/flows/flow_nope", method: .get, headers: ctx.headers(json: false))
            #expect(missing.status == .notFound && Self.error(missing).code == "flow_not_found")
        }
    }

    /// A broken document is a 400 naming the field by its path, and nothing is stored.
    @Test(arguments: TestEngine.allCases)
    func invalidDocumentsNameTheFieldAndLeaveNothing(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            func post(_ body: [String: Any]) async throws -> TestResponse {
                try await client.execute(uri: "/v1/flows", method: .post, headers: ctx.headers(), body: jsonBody(body))
            }
            func with(_ change: (inout [String: Any]) -> Void) -> [String: Any] {
                var body = Self.monthly
                change(&body)
                return body
            }
            let cases: [([String: Any], String, String)] = [
                (with { $0["colour"] = "red" }, "unknown_parameter", "colour"),
                (with { $0["survey"] = ["reasons": [["id": "a", "label": "A", "ofer": "x"]]] }, "unknown_parameter", "survey.reasons[0].ofer"),
                (
                    with { $0["offers"] = [["id": "discount", "type": "discount", "percent": "ten", "months": 3]] }, "parameter_invalid_type",
                    "offers[0].percent"
                ),
                (with { $0["offers"] = [["id": "discount", "type": "refund"]] }, "parameter_invalid", "offers[0].type"),
                (with { $0["offers"] = [["id": "discount", "type": "discount", "percent": 120, "months": 3]] }, "flow_invalid", "offers[0].percent"),
                (with { $0["offers"] = [] }, "flow_invalid", "survey.reasons[0].offer"),
                (with { $0.removeValue(forKey: "targeting") }, "flow_invalid", "targeting"),
                (with { $0["targeting"] = ["intervals": ["fortnight"]] }, "parameter_invalid", "targeting.intervals[0]"),
                (with { $0["variants"] = [["key": "a", "weight": 60], ["key": "b", "weight": 60]] }, "flow_invalid", "variants"),
                (with { $0["texts"] = ["fr": ["survey.title": "Pourquoi ?"]] }, "flow_invalid", "texts.fr.survey.title"),
                (with { $0.removeValue(forKey: "survey") }, "parameter_missing", "survey"),
            ]
            for (body, code, param) in cases {
                let response = try await post(body)
                #expect(response.status == .badRequest, "\(param): \(response.text)")
                #expect(Self.error(response).code == code && Self.error(response).param == param, "\(response.text)")
            }
            let list = try await client.execute(uri: "/v1/flows", method: .get, headers: ctx.headers(json: false))
            #expect((list.json["data"] as? [[String: Any]])?.count == 1, "only the default flow")
        }
    }
}
