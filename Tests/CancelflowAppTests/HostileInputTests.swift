import CancelflowCore
import CancelflowTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SQLKit
import Testing

/// Strings no part of the service may take in — NUL and other control characters, bytes that
/// are not UTF-8, lone surrogates, malformed escapes — through every way in: JSON fields and
/// metadata, path segments, query parameters, form fields and the headers we read. Each gets a
/// 400 naming the parameter (the friendly page on hosted pages), the same on both engines, and
/// nothing is stored.
@Suite struct HostileInputTests {
    /// Control characters a one-line field refuses, as JSON escapes.
    static let controls = [#"\u0000"#, #"\u0001"#, #"\u001b"#, #"\u007f"#, #"\u0085"#, #"\n"#, #"\t"#]

    @Test(arguments: TestEngine.allCases)
    func jsonFieldsRefuseControlCharactersAndStoreNothing(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            for control in Self.controls {
                let response = try await client.execute(
                    uri: "/v1/customers/cus_nul", method: .put, headers: ctx.headers(), body: jsonBody(#"{"name":"a\#(control)b"}"#)
                )
                #expect(response.status == .badRequest, "\(control): \(response.text)")
                #expect(response.error["param"] as? String == "name", "\(control)")
                #expect(response.error["code"] as? String == "parameter_invalid_characters", "\(control)")
            }
            #expect(try await ctx.services.store.customer(organizationID: ctx.organization.id, mode: .test, id: "cus_nul") == nil)

            try await ctx.seedCustomer()
            let cases: [(String, String?)] = [
                (#"{"customerId":"cus_abc123\u0000","expiresAt":"EXP"}"#, "customerId"),
                (#"{"customerId":"cus_abc123","expiresAt":"EXP","metadata":{"note":"a\u0000b"}}"#, "metadata.note"),
                (#"{"customerId":"cus_abc123","expiresAt":"EXP","metadata":{"no\u0001te":"x"}}"#, "metadata.no\u{1}te"),
                (#"{"customerId":"cus_abc123","expiresAt":"EXP","returnUrl":"https://a.test/\u0000"}"#, "returnUrl"),
                // A lone surrogate is not text: Foundation refuses the whole body.
                (#"{"customerId":"cus_\ud800","expiresAt":"EXP"}"#, nil),
            ]
            for (template, param) in cases {
                let body = template.replacingOccurrences(of: "EXP", with: isoAfter(ctx, 3600))
                let response = try await client.execute(uri: "/v1/cancel-sessions", method: .post, headers: ctx.headers(), body: jsonBody(body))
                #expect(response.status == .badRequest, "\(template): \(response.text)")
                #expect(response.error["param"] as? String == param, "\(template)")
            }
            // Bytes that are not UTF-8 at all.
            var invalid = ByteBuffer(string: #"{"customerId":"cus_"#)
            invalid.writeBytes([0xC0, 0x80, 0xFF])
            invalid.writeString(#"","expiresAt":"\#(isoAfter(ctx, 3600))"}"#)
            let garbled = try await client.execute(uri: "/v1/cancel-sessions", method: .post, headers: ctx.headers(), body: invalid)
            #expect(garbled.status == .badRequest)
            #expect(garbled.error["code"] as? String == "invalid_json")
            #expect(try await ctx.linkCount() == 0, "nothing was minted")

            // Free text may hold line breaks: a metadata value is the merchant's own data.
            let multiline = #"{"customerId":"cus_abc123","expiresAt":"\#(isoAfter(ctx, 3600))","metadata":{"note":"line one\nline two\ttab"}}"#
            let accepted = try await client.execute(uri: "/v1/cancel-sessions", method: .post, headers: ctx.headers(), body: jsonBody(multiline))
            #expect(accepted.status == .created, "\(accepted.text)")
            #expect((accepted.json["metadata"] as? [String: String])?["note"] == "line one\nline two\ttab")
        }
    }

    @Test(arguments: TestEngine.allCases)
    func pathQueryAndHeadersRefuseWhatIsNotText(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            try await ctx.seedCustomer()
            let cases: [(String, HTTPRequest.Method, String)] = [
                ("/v1/customers/cus%00x", .get, "path"),
                ("/v1/customers/cus%C0%80", .get, "path"),
                ("/v1/customers/cus%zz", .get, "path"),
                ("/v1/cancel-sessions?customerId=%00", .get, "customerId"),
                ("/v1/cancel-sessions?customerId=cus%FF", .get, "customerId"),
                ("/v1/cancel-sessions?limit=%G1", .get, "limit"),
                ("/v1/cancel-sessions?%01=x", .get, "query"),
            ]
            for (uri, method, param) in cases {
                let response = try await client.execute(uri: uri, method: method, headers: ctx.headers())
                #expect(response.status == .badRequest, "\(uri): \(response.text)")
                #expect(response.error["param"] as? String == param, "\(uri)")
                #expect(response.error["type"] as? String == "invalid_request_error", "\(uri)")
            }
            var headers = ctx.headers()
            headers[HTTPField.Name("Idempotency-Key")!] = "key-\u{00e9}"
            let body = jsonBody(["customerId": "cus_abc123", "expiresAt": isoAfter(ctx, 3600)])
            let badKey = try await client.execute(uri: "/v1/cancel-sessions", method: .post, headers: headers, body: body)
            #expect(badKey.status == .badRequest, "\(badKey.text)")
            #expect(badKey.error["param"] as? String == "Idempotency-Key")
            var app = ctx.headers()
            app[HTTPField.Name("x-ck-app")!] = ctx.test.appId + "\u{00ff}"
            let badApp = try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: app)
            #expect(badApp.status == .badRequest)
            #expect(badApp.error["param"] as? String == "x-ck-app")
            #expect(try await ctx.linkCount() == 0)
        }
    }

    /// Our own cookies are checked; someone else's cookie on the merchant's domain (a browser
    /// sends them all) does not lock the customer out of the page.
    @Test func onlyOurOwnCookiesAreJudged() async throws {
        try await withTestApp(.sqlite, configuration: ["trustProxy": .bool(true)]) { client, ctx in
            let browser = TestBrowser(client, host: "cancel.test")
            browser.setCookie("merchant_pref", "caf\u{e9}\u{1}")
            #expect(try await browser.get("/verify?org=\(ctx.test.appId)").status == .ok)
            browser.setCookie("cf_vcsrf", "nonc\u{e9}")
            let ours = try await browser.get("/verify?org=\(ctx.test.appId)")
            #expect(ours.status == .badRequest)
            #expect(ours.text.contains("We couldn't read that"))
        }
    }

    @Test(arguments: TestEngine.allCases)
    func hostedPagesAnswerHostileInputWithTheFriendlyPage(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: ["trustProxy": .bool(true)]) { client, ctx in
            for uri in ["/verify?org=%00", "/verify?org=app%FF", "/cancel/cl_%00", "/verify/code?org=%1b"] {
                let browser = TestBrowser(client, host: "cancel.test")
                let page = try await browser.get(uri)
                #expect(page.status == .badRequest, "\(uri): \(page.status)")
                #expect(page.headers[.contentType]?.hasPrefix("text/html") == true, "\(uri)")
                #expect(page.text.contains("We couldn't read that"), "\(uri)")
                #expect(page.headers[.contentSecurityPolicy] != nil, "\(uri): the page's security headers")
            }

            // A form field: the survey comment may hold line breaks, nothing else may.
            try await ctx.seedCustomer()
            let token = try #require(try await client.mint(ctx).json["token"] as? String)
            let browser = TestBrowser(client, host: "cancel.test")
            try await browser.openFlow(token: token)
            let csrf = try #require(browser.csrf)
            let nul = try await browser.post("/flow/survey", ["reason": "Technical problems", "comment": "a\u{0}b"], csrf: csrf)
            #expect(nul.status == .badRequest)
            #expect(nul.text.contains("We couldn't read that"))
            let reason = try await browser.post("/flow/survey", ["reason": "Technical\u{1b}problems", "comment": ""], csrf: csrf)
            #expect(reason.status == .badRequest)
            #expect(reason.text.contains("We couldn't read that"))
            let broken = try await browser.send(
                "/flow/survey", method: .post,
                body: ByteBuffer(string: "csrf=\(csrf)&reason=Technical+problems&comment=%E0%A4"))
            #expect(broken.status == .badRequest, "a comment that is not UTF-8")
            #expect(broken.text.contains("We couldn't read that"))
            let recorded = try await ctx.services.pool.read { db in
                try await db.raw("SELECT COUNT(*) AS n FROM flow_sessions WHERE survey_reason IS NOT NULL").first()?.decode(column: "n", as: Int.self)
            }
            #expect(recorded == 0, "nothing was recorded")
            let fine = try await browser.post("/flow/survey", ["reason": "Technical problems", "comment": "Line one\r\nLine two"], csrf: csrf)
            #expect(fine.status == .seeOther, "\(fine.text)")
        }
    }

    /// The error body carries the request's id as well as the header, so a merchant who pastes
    /// an error into a ticket gives us the id.
    @Test func errorBodiesCarryTheRequestID() async throws {
        try await withTestApp(.sqlite) { client, ctx in
            let responses = [
                try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: [:]),
                try await client.execute(uri: "/v1/nothing-here", method: .get, headers: ctx.headers()),
                try await client.execute(uri: "/v1/cancel-sessions", method: .post, headers: ctx.headers(), body: jsonBody("{")),
            ]
            for response in responses {
                let header = try #require(response.headers[HTTPField.Name("Request-Id")!])
                #expect(header.hasPrefix("req_"))
                #expect(response.error["request_id"] as? String == header, "\(response.text)")
            }
            #expect(Set(responses.compactMap { $0.headers[HTTPField.Name("Request-Id")!] }).count == 3)
        }
    }
}
