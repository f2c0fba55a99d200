import CancelflowCore
import CancelflowTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite struct OperationsTests {
    @Test(arguments: TestEngine.allCases)
    func healthAndReadinessAnswer(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, _ in
            let health = try await client.execute(uri: "/healthz", method: .get)
            #expect(health.status == .ok)
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            #expect(ready.text.contains("ready"))
        }
    }

    @Test func readinessFailsWhenTheDatabaseIsGone() async throws {
        try await withTestApp(.sqlite) { client, ctx in
            try await ctx.services.pool.shutdown()
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func everyResponseCarriesARequestIdAndErrorsShareOneShape(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            let responses = [
                try await client.execute(uri: "/healthz", method: .get),
                try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: ctx.headers()),
                try await client.execute(uri: "/v1/cancel-sessions", method: .get),
                try await client.execute(uri: "/v1/nothing-here", method: .get, headers: ctx.headers()),
                try await client.execute(uri: "/v1/cancel-sessions", method: .delete, headers: ctx.headers()),
            ]
            var ids = Set<String>()
            for response in responses {
                let id = try #require(response.headers[HTTPField.Name("Request-Id")!])
                #expect(id.hasPrefix("req_"))
                ids.insert(id)
            }
            #expect(ids.count == responses.count)
            for response in responses.dropFirst(2) {
                #expect(
                    response.error["type"] is String && response.error["code"] is String && response.error["message"] is String,
                    "\(response.text)")
            }
            #expect(responses[3].status == .notFound)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func linksUseTheMostBrandedDomainConfigured(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: ["subdomainBase": .string("links.example.net")]) { client, ctx in
            let services = ctx.services
            let branded = try await services.credentials.createOrganization(name: "Brand", subdomain: "brand", customDomain: "cancel.brand.com")
            try await ctx.seedCustomer()
            _ = try await services.store.upsertCustomer(
                organizationID: branded.organization.id, mode: .test, id: "cus_1", email: nil, name: nil,
                now: ctx.time.now())
            let headers: HTTPFields = [
                HTTPField.Name("x-ck-app")!: branded.test.appId, HTTPField.Name("x-ck-api-key")!: branded.test.apiKey,
                .contentType: "application/json",
            ]
            func mintURL(_ headers: HTTPFields, _ customer: String) async throws -> String {
                let response = try await client.mint(ctx, customer: customer, headers: headers)
                return try #require(response.json["url"] as? String)
            }
            // No subdomain: the public URL. Subdomain: under the base. Verified custom domain: that.
            #expect(try await mintURL(ctx.headers(), "cus_abc123").hasPrefix("https://cancel.test/cancel/cl_"))
            #expect(try await mintURL(headers, "cus_1").hasPrefix("https://brand.links.example.net/cancel/cl_"))
            #expect(try await services.store.setCustomDomainVerified(organizationID: branded.organization.id, verified: true))
            #expect(try await mintURL(headers, "cus_1").hasPrefix("https://cancel.brand.com/cancel/cl_"))
        }
    }

    @Test func configurationRejectsBadValues() throws {
        #expect(throws: CancelflowError.self) { try testConfiguration(["port": .int(0)]) }
        #expect(throws: CancelflowError.self) { try testConfiguration(["publicUrl": .string("ftp://x")]) }
        #expect(throws: CancelflowError.self) { try testConfiguration(["database": .string("mysql://x")]) }
        #expect(throws: CancelflowError.self) { try testConfiguration(["logLevel": .string("loud")]) }
        let pg = try testConfiguration(["database": .string("postgres://u:hunter2@db:5432/cf")])
        #expect(pg.database == .postgres(url: "postgres://u:hunter2@db:5432/cf"))
        #expect(!pg.database.redacted.contains("hunter2"))
        #expect(try testConfiguration(["database": .string("sqlite:/tmp/x.sqlite")]).database == .sqlite(path: "/tmp/x.sqlite"))
        let defaults = try testConfiguration(["publicUrl": .string("http://127.0.0.1:8080")])
        #expect(defaults.host == "127.0.0.1" && defaults.port == 8080 && defaults.rateLimitPerSecond == 100 && defaults.rateLimitBurst == 200)
        #expect(defaults.database == .sqlite(path: "cancelflow.sqlite"))
    }
}
