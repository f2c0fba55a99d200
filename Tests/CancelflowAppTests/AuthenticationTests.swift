import CancelflowCore
import CancelflowTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite struct AuthenticationTests {
    let app = HTTPField.Name("x-ck-app")!
    let key = HTTPField.Name("x-ck-api-key")!

    /// The key with its last character changed (a checksum character, so the checksum fails).
    static func mistyped(_ key: String) -> String {
        String(key.dropLast()) + (key.hasSuffix("a") ? "b" : "a")
    }

    @Test(arguments: TestEngine.allCases)
    func missingWrongAndMismatchedCredentialsAreRefused(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            func status(_ headers: HTTPFields) async throws -> (HTTPResponse.Status, String?) {
                let response = try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: headers)
                return (response.status, response.error["code"] as? String)
            }
            let otherKey = APIKeyFormat.generate(mode: .test)
            let cases: [(HTTPFields, String, String)] = [
                ([:], "missing_credentials", "no headers"),
                ([self.app: ctx.test.appId], "missing_credentials", "no key"),
                ([self.key: ctx.test.apiKey], "missing_credentials", "no app"),
                ([self.app: "", self.key: ctx.test.apiKey], "missing_credentials", "empty app"),
                ([self.app: ctx.test.appId, self.key: otherKey], "invalid_credentials", "unknown key"),
                ([self.app: ctx.test.appId, self.key: ctx.live.apiKey], "invalid_credentials", "live key with test app"),
                ([self.app: ctx.live.appId, self.key: ctx.test.apiKey], "invalid_credentials", "test key with live app"),
                ([self.app: "app_test_unknown", self.key: ctx.test.apiKey], "invalid_credentials", "unknown app"),
                ([self.app: ctx.test.appId, self.key: Self.mistyped(ctx.test.apiKey)], "invalid_credentials", "bad checksum"),
                ([self.app: ctx.test.appId, self.key: String(repeating: "k", count: 5000)], "invalid_credentials", "over-long key"),
                ([self.app: String(repeating: "a", count: 5000), self.key: ctx.test.apiKey], "invalid_credentials", "over-long app"),
            ]
            for (headers, code, label) in cases {
                let (status, got) = try await status(headers)
                #expect(status == .unauthorized, "\(label)")
                #expect(got == code, "\(label)")
            }
            #expect(try await status(ctx.headers(.test)).0 == .ok)
            #expect(try await status(ctx.headers(.live)).0 == .ok)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func malformedKeysAreRefusedWithoutTouchingTheDatabase(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            let before = ctx.services.pool.sessionCount
            for key in ["ck_test_short", Self.mistyped(ctx.test.apiKey), "not-a-key", String(repeating: "k", count: 300)] {
                let response = try await client.execute(
                    uri: "/v1/cancel-sessions", method: .get, headers: [self.app: ctx.test.appId, self.key: key]
                )
                #expect(response.status == .unauthorized)
            }
            #expect(ctx.services.pool.sessionCount == before)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func rotationKeepsTheOldKeyForItsGraceThenEndsIt(engine: TestEngine) async throws {
        try await withTestApp(engine) { client, ctx in
            func works(_ key: String, _ app: String? = nil) async throws -> Bool {
                let response = try await client.execute(
                    uri: "/v1/cancel-sessions", method: .get, headers: [self.app: app ?? ctx.test.appId, self.key: key]
                )
                return response.status == .ok
            }
            let rotated = try await ctx.services.credentials.rotateKey(organizationID: ctx.organization.id, mode: .test, grace: 3600)
            #expect(rotated.appId == ctx.test.appId)
            #expect(rotated.apiKey != ctx.test.apiKey)
            #expect(try await works(ctx.test.apiKey))
            #expect(try await works(rotated.apiKey))
            ctx.time.advance(by: 3599)
            #expect(try await works(ctx.test.apiKey))
            ctx.time.advance(by: 1)
            #expect(try await !works(ctx.test.apiKey))
            #expect(try await works(rotated.apiKey))
            // A grace of zero ends the old key at once; the live pair is untouched throughout.
            let immediate = try await ctx.services.credentials.rotateKey(organizationID: ctx.organization.id, mode: .test, grace: 0)
            #expect(try await !works(rotated.apiKey))
            #expect(try await works(immediate.apiKey))
            #expect(try await works(ctx.live.apiKey, ctx.live.appId))
            await #expect(throws: CancelflowError.self) {
                _ = try await ctx.services.credentials.rotateKey(organizationID: ctx.organization.id, mode: .test, grace: 8 * 86400)
            }
        }
    }

    /// Another instance caches key checks for `--api-key-cache` seconds: a rotation there takes
    /// effect here within that bound, and never later; a new key works here at once.
    @Test(arguments: TestEngine.allCases)
    func cachedKeyChecksFollowARotationElsewhereWithinTheirLifetime(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: ["apiKeyCache": .double(5)]) { _, ctx in
            let here = CredentialService(store: ctx.services.store, time: ctx.time, cache: CredentialCache(lifetime: 5))
            let elsewhere = CredentialService(store: ctx.services.store, time: ctx.time, cache: CredentialCache(lifetime: 5))
            let third = CredentialService(store: ctx.services.store, time: ctx.time, cache: CredentialCache(lifetime: 5))
            #expect(try await here.authenticate(appID: ctx.test.appId, apiKey: ctx.test.apiKey).mode == .test)
            #expect(try await third.authenticate(appID: ctx.test.appId, apiKey: ctx.test.apiKey).mode == .test)
            let rotated = try await elsewhere.rotateKey(organizationID: ctx.organization.id, mode: .test, grace: 0)
            // A new key works at once on an instance whose cache predates it (one fresh lookup).
            #expect(try await third.authenticate(appID: ctx.test.appId, apiKey: rotated.apiKey).mode == .test)
            // Until its entry is five seconds old, this instance still trusts what it read...
            ctx.time.advance(by: 4)
            #expect(try await here.authenticate(appID: ctx.test.appId, apiKey: ctx.test.apiKey).mode == .test)
            // ...and no longer once the entry is five seconds old.
            ctx.time.advance(by: 1)
            await #expect(throws: CancelflowError.self) { _ = try await here.authenticate(appID: ctx.test.appId, apiKey: ctx.test.apiKey) }
            #expect(try await here.authenticate(appID: ctx.test.appId, apiKey: rotated.apiKey).mode == .test)
            // A rotated-out key with a grace period stops at its expiry even while cached.
            let newest = try await elsewhere.rotateKey(organizationID: ctx.organization.id, mode: .test, grace: 2)
            #expect(try await here.authenticate(appID: ctx.test.appId, apiKey: newest.apiKey).mode == .test)
            ctx.time.advance(by: 2)
            await #expect(throws: CancelflowError.self) { _ = try await here.authenticate(appID: ctx.test.appId, apiKey: rotated.apiKey) }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aCachedKeyCheckReadsTheDatabaseOnce(engine: TestEngine) async throws {
        try await withTestApp(engine) { _, ctx in
            let cached = CredentialService(store: ctx.services.store, time: ctx.time, cache: CredentialCache(lifetime: 5))
            _ = try await cached.authenticate(appID: ctx.test.appId, apiKey: ctx.test.apiKey)
            let before = ctx.services.pool.sessionCount
            for _ in 0..<10 { _ = try await cached.authenticate(appID: ctx.test.appId, apiKey: ctx.test.apiKey) }
            #expect(ctx.services.pool.sessionCount == before)
            ctx.time.advance(by: 5)
            _ = try await cached.authenticate(appID: ctx.test.appId, apiKey: ctx.test.apiKey)
            #expect(ctx.services.pool.sessionCount == before + 1)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func eachKeyIsRateLimitedWithRetryAfter(engine: TestEngine) async throws {
        try await withTestApp(engine, configuration: ["rateLimit": .double(1), "rateLimitBurst": .double(3)]) { client, ctx in
            for _ in 0..<3 {
                #expect(try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: ctx.headers()).status == .ok)
            }
            let limited = try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: ctx.headers())
            #expect(limited.status == .tooManyRequests)
            #expect(limited.error["code"] as? String == "rate_limited")
            #expect(limited.headers[.retryAfter] == "1")
            // Another key has its own bucket; time refills this one.
            #expect(try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: ctx.headers(.live)).status == .ok)
            ctx.time.advance(by: 1)
            #expect(try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: ctx.headers()).status == .ok)
            #expect(try await client.execute(uri: "/v1/cancel-sessions", method: .get, headers: ctx.headers()).status == .tooManyRequests)
        }
    }
}
