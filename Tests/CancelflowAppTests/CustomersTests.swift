import CancelflowTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite struct CustomersTests {
    /// Path ids mean what the client encoded: `cus%20x` is the id `cus x`, the same one a mint's
    /// body names and a generated SDK encodes; a malformed escape is a 400.
    @Test(arguments: TestEngine.allCases)
    func percentEncodedIdsInPathsAreTheIdsTheyEncode(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            let created = try await client.execute(
                uri: "/v1/customers/cus%20x%2F1", method: .put, headers: ctx.headers(), body: jsonBody(["email": "ada@example.com"]))
            #expect(created.status == .ok)
            #expect(created.json["id"] as? String == "cus x/1")
            let sub = try await client.execute(
                uri: "/v1/customers/cus%20x%2F1/subscriptions/sub%40a", method: .put, headers: ctx.headers(), body: jsonBody(["status": "active"]))
            #expect(sub.status == .ok)
            #expect(sub.json["id"] as? String == "sub@a")
            let minted = try await client.mint(ctx, customer: "cus x/1", extra: ["subscriptionId": "sub@a"])
            #expect(minted.status == .created, "\(minted.text)")
            let id = try #require(minted.json["id"] as? String)
            #expect(try await client.execute(uri: "/v1/cancel-sessions/\(id)", method: .get, headers: ctx.headers(json: false)).status == .ok)
            let bad = try await client.execute(uri: "/v1/customers/cus%zz", method: .get, headers: ctx.headers(json: false))
            #expect(bad.status == .badRequest)
            // (Refused before routing, by the input guard.)
            #expect(bad.json["error"].flatMap { ($0 as? [String: Any])?["code"] as? String } == "parameter_invalid_characters")
        }
    }

    @Test(arguments: TestEngine.allCases)
    func customersAndSubscriptionsUpsertAndReadBack(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            let created = try await client.execute(
                uri: "/v1/customers/cus_1", method: .put, headers: ctx.headers(),
                body: jsonBody(["email": "Ada@Example.com", "name": "Ada"])
            )
            #expect(created.status == .ok)
            #expect(created.json["email"] as? String == "ada@example.com")
            #expect((created.json["subscriptions"] as? [Any])?.isEmpty == true)
            let sub = try await client.execute(
                uri: "/v1/customers/cus_1/subscriptions/sub_1", method: .put, headers: ctx.headers(),
                body: jsonBody([
                    "status": "active", "planName": "Pro", "amount": 1200, "currency": "USD", "interval": "year",
                    "currentPeriodEnd": "2027-01-01T00:00:00Z",
                ])
            )
            #expect(sub.status == .ok)
            #expect(sub.json["currency"] as? String == "usd")
            #expect(sub.json["currentPeriodEnd"] as? String == "2027-01-01T00:00:00Z")
            ctx.time.advance(by: 10)
            let updated = try await client.execute(
                uri: "/v1/customers/cus_1/subscriptions/sub_1", method: .put, headers: ctx.headers(), body: jsonBody(["status": "past_due"])
            )
            #expect(updated.json["status"] as? String == "past_due")
            #expect(updated.json["planName"] is NSNull, "a PUT replaces the subscription")
            let read = try await client.execute(uri: "/v1/customers/cus_1", method: .get, headers: ctx.headers())
            #expect(read.json["name"] as? String == "Ada")
            let subs = read.json["subscriptions"] as? [[String: Any]]
            #expect(subs?.first?["status"] as? String == "past_due")
            #expect(subs?.first?["createdAt"] as? String != subs?.first?["updatedAt"] as? String)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func badCustomerAndSubscriptionInputIsRefused(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            try await ctx.seedCustomer("cus_1", subscription: "sub_1")
            try await ctx.seedCustomer("cus_2", subscription: nil)
            let cases: [(String, String, Int, String?)] = [
                ("/v1/customers/cus_1", #"{"email":"not-an-email"}"#, 400, "email"),
                ("/v1/customers/cus_1", #"{"email":5}"#, 400, "email"),
                ("/v1/customers/cus_1", #"{"nickname":"x"}"#, 400, "nickname"),
                ("/v1/customers/\(String(repeating: "c", count: 256))", #"{}"#, 400, "customerId"),
                ("/v1/customers/cus_1/subscriptions/sub_1", #"{}"#, 400, "status"),
                ("/v1/customers/cus_1/subscriptions/sub_1", #"{"status":"gone"}"#, 400, "status"),
                ("/v1/customers/cus_1/subscriptions/sub_1", #"{"status":"active","interval":"week"}"#, 400, "interval"),
                ("/v1/customers/cus_1/subscriptions/sub_1", #"{"status":"active","amount":-5}"#, 400, "amount"),
                ("/v1/customers/cus_1/subscriptions/sub_1", #"{"status":"active","amount":1.5}"#, 400, "amount"),
                ("/v1/customers/cus_1/subscriptions/sub_1", #"{"status":"active","currency":"dollars"}"#, 400, "currency"),
                ("/v1/customers/cus_1/subscriptions/sub_1", #"{"status":"active","currentPeriodEnd":"soon"}"#, 400, "currentPeriodEnd"),
                ("/v1/customers/cus_none/subscriptions/sub_9", #"{"status":"active"}"#, 404, "customerId"),
                ("/v1/customers/cus_2/subscriptions/sub_1", #"{"status":"active"}"#, 409, "subscriptionId"),
            ]
            for (uri, body, status, param) in cases {
                let response = try await client.execute(uri: uri, method: .put, headers: ctx.headers(), body: jsonBody(body))
                #expect(Int(response.status.code) == status, "\(uri) \(body): \(response.text)")
                #expect(response.error["param"] as? String == param, "\(uri) \(body)")
            }
            let sub = try await ctx.services.store.subscription(organizationID: ctx.organization.id, mode: .test, id: "sub_1")
            #expect(sub?.customerID == "cus_1" && sub?.status == .active)
            #expect(try await ctx.services.store.customer(organizationID: ctx.organization.id, mode: .test, id: "cus_none") == nil)
        }
    }
}
