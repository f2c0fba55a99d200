import CancelflowCore
import CancelflowTestSupport
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite struct IdempotencyTests {
    @Test(arguments: TestEngine.allCases)
    func theSameKeyAndBodyReplayTheFirstResponseByteForByte(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            try await ctx.seedCustomer()
            var headers = ctx.headers()
            headers[HTTPField.Name("Idempotency-Key")!] = "order-42"
            let body = jsonBody(["customerId": "cus_abc123", "expiresAt": isoAfter(ctx, 3600)])
            let first = try await client.execute(uri: "/v1/cancel-sessions", method: .post, headers: headers, body: body)
            #expect(first.status == .created)
            ctx.time.advance(by: 3600 * 23)
            let second = try await client.execute(uri: "/v1/cancel-sessions", method: .post, headers: headers, body: body)
            #expect(second.status == .created)
            #expect(second.body == first.body)
            #expect(second.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(try await ctx.linkCount() == 1)

            let other = jsonBody(["customerId": "cus_abc123", "expiresAt": isoAfter(ctx, 7200)])
            let reused = try await client.execute(uri: "/v1/cancel-sessions", method: .post, headers: headers, body: other)
            #expect(reused.status == .unprocessableContent)
            #expect(reused.error["code"] as? String == "idempotency_key_reused")
            #expect(try await ctx.linkCount() == 1)

            // After 24 hours the key is forgotten and mints anew.
            ctx.time.advance(by: 3600 + 1)
            let fresh = jsonBody(["customerId": "cus_abc123", "expiresAt": isoAfter(ctx, 3600)])
            let later = try await client.execute(uri: "/v1/cancel-sessions", method: .post, headers: headers, body: fresh)
            #expect(later.status == .created)
            #expect(try await ctx.linkCount() == 2)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aFailedRequestDoesNotPinItsKey(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            var headers = ctx.headers()
            headers[HTTPField.Name("Idempotency-Key")!] = "retry-me"
            let body = jsonBody(["customerId": "cus_abc123", "expiresAt": isoAfter(ctx, 3600)])
            let missing = try await client.execute(uri: "/v1/cancel-sessions", method: .post, headers: headers, body: body)
            #expect(missing.status == .notFound)
            try await ctx.seedCustomer()
            let retried = try await client.execute(uri: "/v1/cancel-sessions", method: .post, headers: headers, body: body)
            #expect(retried.status == .created)
            headers[HTTPField.Name("Idempotency-Key")!] = "has space"
            let invalid = try await client.execute(uri: "/v1/cancel-sessions", method: .post, headers: headers, body: body)
            #expect(invalid.status == .badRequest)
            #expect(invalid.error["param"] as? String == "Idempotency-Key")
        }
    }

    @Test(arguments: TestEngine.allCases)
    func fiftyConcurrentMintsWithOneKeyMakeOneLink(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            try await ctx.seedCustomer()
            var headers = ctx.headers()
            headers[HTTPField.Name("Idempotency-Key")!] = "burst"
            let burstHeaders = headers
            let body = jsonBody(["customerId": "cus_abc123", "expiresAt": isoAfter(ctx, 3600)])
            let responses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, ByteBuffer).self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        let response = try await client.execute(uri: "/v1/cancel-sessions", method: .post, headers: burstHeaders, body: body)
                        return (response.status, response.body)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(try await ctx.linkCount() == 1)
            let created = responses.filter { $0.0 == .created }
            #expect(created.count >= 1)
            #expect(Set(created.map { String(buffer: $0.1) }).count == 1, "every success is the same link")
            #expect(responses.allSatisfy { $0.0 == .created || $0.0 == .conflict })
            for conflict in responses where conflict.0 == .conflict {
                #expect(String(buffer: conflict.1).contains("idempotency_key_in_use"))
            }
        }
    }

    /// A key whose first request is still running answers 409, deterministically: the key is
    /// claimed first (as a request in flight would have), then the duplicate arrives.
    @Test(arguments: TestEngine.allCases)
    func aDuplicateOfARequestStillRunningIsAConflict(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            try await ctx.seedCustomer()
            let body = jsonBody(["customerId": "cus_abc123", "expiresAt": isoAfter(ctx, 3600)])
            // The fingerprint the guard computes: SHA-256 of "METHOD path\n" and the body.
            var hasher = SHA256()
            hasher.update(data: Array("POST /v1/cancel-sessions\n".utf8))
            hasher.update(data: Array(body.readableBytesView))
            let fingerprint = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            let claim = try await ctx.services.store.claimIdempotencyKey(
                organizationID: ctx.organization.id, mode: .test, key: "in-flight", fingerprint: fingerprint, now: ctx.time.now(),
                staleBefore: ctx.time.now().addingTimeInterval(-86400)
            )
            #expect(claim == .claimed)
            var headers = ctx.headers()
            headers[HTTPField.Name("Idempotency-Key")!] = "in-flight"
            let duplicate = try await client.execute(uri: "/v1/cancel-sessions", method: .post, headers: headers, body: body)
            #expect(duplicate.status == .conflict)
            #expect(duplicate.error["code"] as? String == "idempotency_key_in_use")
            #expect(duplicate.error["type"] as? String == "idempotency_error")
            #expect(try await ctx.linkCount() == 0, "the duplicate minted nothing")
        }
    }
}
