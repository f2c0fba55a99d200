import Benchmark
import CancelflowCore
import Crypto
import Foundation

/// Time and allocations per operation of what every request does: token minting and
/// verification, the API-key check, webhook signing. The verification of a token must stay under
/// 2 µs with no heap allocation; the "HMAC via swift-crypto" line shows what the hand-rolled
/// short-message HMAC saves.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        warmupIterations: 1000,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 10_000
    )
    let secret = try! ServerSecret("benchmark-secret-0123456789-abcdefghijklmnop")
    let codec = CancelTokenCodec(serverSecret: secret)
    let token = codec.mint().token
    // The same length and alphabet, the tag wrong: what a guesser sends.
    let forged = String(token.dropLast(2)) + (token.hasSuffix("aa") ? "bb" : "aa")
    let apiKey = APIKeyFormat.generate(mode: .live)
    let body = String(repeating: "{\"type\":\"cancel_flow.completed\",\"data\":{}}", count: 24)
    let webhookSecret = StandardWebhooks.generateSecret()
    let swiftCryptoKey = secret.derivedKey(purpose: "cancel-link-token-v1")
    let payload = Array(token.utf8.prefix(21))

    Benchmark("Token verification, authentic") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(codec.isAuthentic(token)) }
    }
    Benchmark("Token verification, forged tag") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(codec.isAuthentic(forged)) }
    }
    Benchmark("Token verification, malformed") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(codec.isAuthentic("cl_not-a-token")) }
    }
    Benchmark("HMAC-SHA256 of 21 bytes via swift-crypto (for comparison)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(HMAC<SHA256>.authenticationCode(for: payload, using: swiftCryptoKey)) }
    }
    Benchmark("Token minting (CSPRNG, MAC, base32, SHA-256)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(codec.mint()) }
    }
    Benchmark("API key: format and checksum") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(APIKeyFormat.mode(of: apiKey)) }
    }
    Benchmark("API key: SHA-256 for lookup") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(APIKeyFormat.hash(apiKey)) }
    }
    Benchmark("API key: constant-time compare of hashes") { benchmark in
        let stored = Array(APIKeyFormat.hash(apiKey).utf8)
        let presented = Array(APIKeyFormat.hash(apiKey).utf8)
        for _ in benchmark.scaledIterations { blackHole(constantTimeEquals(presented, stored)) }
    }
    // The whole check as a request makes it, with the credential cache warm (the database is
    // asked only when an entry is older than the cache lifetime).
    let appID = Identifier.appID(mode: .live)
    let record = CredentialRecord(
        organizationID: "org_bench", mode: .live, keys: [StoredAPIKey(id: "key_bench", hash: APIKeyFormat.hash(apiKey), expiresAt: nil)]
    )
    let credentials = CredentialService(store: OneRecordStore(record: record), time: SystemTimeSource(), cache: CredentialCache(lifetime: 3600))
    Benchmark("API key: whole check, cache warm") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try await credentials.authenticate(appID: appID, apiKey: apiKey)) }
    }
    Benchmark("Webhook signing, 1 KB body") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(StandardWebhooks.signature(secret: webhookSecret, id: "evt_abc", timestamp: 1_790_000_000, body: body))
        }
    }
}

/// Answers the credential lookup with one record; nothing else is called by the check.
struct OneRecordStore: OrganizationStore {
    let record: CredentialRecord

    func credentials(appID: String, now: Date) async throws -> CredentialRecord? { self.record }
    func createOrganization(_ organization: Organization, credentials: [NewCredential], onlyIfFirst: Bool) async throws -> Bool { false }
    func organization(id: String) async throws -> Organization? { nil }
    func organization(host: DomainPicker.HostOwner) async throws -> Organization? { nil }
    func organizationCount() async throws -> Int { 0 }
    func setCustomDomainVerified(organizationID: String, verified: Bool) async throws -> Bool { false }
    func appID(organizationID: String, mode: Mode) async throws -> String? { nil }
    func rotateKey(
        organizationID: String, mode: Mode, newKeyID: String, newKeyHash: String, newKeyHint: String, now: Date,
        oldKeysExpireAt: Date
    ) async throws {}
}
