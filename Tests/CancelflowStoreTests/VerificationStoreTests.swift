import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Foundation
import Logging
import SQLKit
import Synchronization
import Testing

/// Email verification's storage, on SQLite and on PostgreSQL: codes, tries, replacement, the
/// shared rate-limit counters and the address lookup.
@Suite struct VerificationStoreTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    func organization(_ store: SQLStore) async throws -> Organization {
        let org = Organization(id: Identifier.make("org_"), name: "Acme", customDomain: "billing.acme.test", createdAt: self.now)
        _ = try await store.createOrganization(org, credentials: [], onlyIfFirst: false)
        return org
    }

    func verification(_ org: Organization, customer: String?, expiresIn: TimeInterval = 900) -> EmailVerification {
        EmailVerification(
            id: Identifier.make("ev_"), organizationID: org.id, mode: .test, customerID: customer, attempts: 0, createdAt: self.now,
            expiresAt: self.now.addingTimeInterval(expiresIn), usedAt: nil
        )
    }

    func session(_ verification: EmailVerification) -> FlowSession {
        FlowSession(
            id: Identifier.make("fs_"), linkID: nil, organizationID: verification.organizationID, mode: verification.mode,
            customerID: verification.customerID ?? "", subscriptionID: nil, entry: .email, returnURL: nil, createdAt: self.now,
            expiresAt: self.now.addingTimeInterval(3600)
        )
    }

    func redeem(
        _ store: SQLStore, _ org: Organization, browser: String, code: String, at date: Date? = nil, mode: Mode = .test, dailyTries: Int = 20,
        sessionHash: String = Hex.sha256(UUID().uuidString)
    ) async throws -> VerificationRedemption {
        try await store.redeemVerification(
            organizationID: org.id, mode: mode, browserHash: Hex.sha256(browser), now: date ?? self.now, maximumAttempts: 5,
            dailyTries: dailyTries, dayStart: VerificationService.dayStart(date ?? self.now), session: self.session, sessionHash: sessionHash,
            matches: { _, stored in stored == "hash-of-\(code)" }
        )
    }

    @Test(arguments: TestEngine.allCases)
    func theRightCodeStartsOneEmailSessionAndThenNoMore(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let org = try await self.organization(store)
            try await store.saveVerification(
                self.verification(org, customer: "cus_1"), addressHash: "addr-1", browserHash: Hex.sha256("browser-1"), codeHash: "hash-of-123456"
            )
            #expect(try await self.redeem(store, org, browser: "browser-1", code: "000000") == .wrongCode(attemptsLeft: 4))
            let sessionHash = Hex.sha256("session-key")
            guard case .redeemed(let session) = try await self.redeem(store, org, browser: "browser-1", code: "123456", sessionHash: sessionHash)
            else {
                Issue.record("the right code was refused")
                return
            }
            #expect(session.entry == .email)
            #expect(session.linkID == nil)
            #expect(session.customerID == "cus_1")
            #expect(try await store.flowSession(sessionHash: sessionHash) == session)
            #expect(try await self.redeem(store, org, browser: "browser-1", code: "123456") == .expired, "a code works once")
            #expect(try await self.redeem(store, org, browser: "browser-2", code: "123456") == .expired, "only in the browser that asked")
        }
    }

    @Test(arguments: TestEngine.allCases)
    func fiveWrongTriesBurnTheCodeAndExpiryEndsIt(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let org = try await self.organization(store)
            try await store.saveVerification(
                self.verification(org, customer: "cus_1"), addressHash: "addr-1", browserHash: Hex.sha256("b1"), codeHash: "hash-of-111111"
            )
            for left in [4, 3, 2, 1] {
                #expect(try await self.redeem(store, org, browser: "b1", code: "999999") == .wrongCode(attemptsLeft: left))
            }
            #expect(try await self.redeem(store, org, browser: "b1", code: "999999") == .exhausted)
            #expect(try await self.redeem(store, org, browser: "b1", code: "111111") == .exhausted, "the right code after five wrong ones")

            try await store.saveVerification(
                self.verification(org, customer: "cus_1"), addressHash: "addr-2", browserHash: Hex.sha256("b2"), codeHash: "hash-of-222222"
            )
            #expect(try await self.redeem(store, org, browser: "b2", code: "222222", at: self.now.addingTimeInterval(900)) == .expired)
            #expect(
                try await store.purge(.emailVerifications, before: self.now.addingTimeInterval(901), batchSize: 1, maximumBatches: 5)
                    == (batches: 2, more: false))
            #expect(try await self.count(pool, "email_verifications") == 0)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aNewRequestReplacesTheOldCodeAndAnUnknownAddressNeverGetsIn(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let org = try await self.organization(store)
            try await store.saveVerification(
                self.verification(org, customer: "cus_1"), addressHash: "addr-1", browserHash: Hex.sha256("old"), codeHash: "hash-of-111111"
            )
            try await store.saveVerification(
                self.verification(org, customer: "cus_1"), addressHash: "addr-1", browserHash: Hex.sha256("new"), codeHash: "hash-of-222222"
            )
            #expect(try await self.redeem(store, org, browser: "old", code: "111111") == .expired)
            if case .redeemed = try await self.redeem(store, org, browser: "new", code: "222222") {} else { Issue.record("the new code failed") }

            // An unknown address: the row exists so the check takes the same path, but even its
            // own (never sent) code does not get in.
            try await store.saveVerification(
                self.verification(org, customer: nil), addressHash: "addr-unknown", browserHash: Hex.sha256("u"), codeHash: "hash-of-333333"
            )
            #expect(try await self.redeem(store, org, browser: "u", code: "333333") == .wrongCode(attemptsLeft: 4))
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aCodeWorksOnlyOnItsOwnOrganizationsPageAndMode(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let org = try await self.organization(store)
            let other = Organization(id: Identifier.make("org_"), name: "Globex", createdAt: self.now)
            _ = try await store.createOrganization(other, credentials: [], onlyIfFirst: false)
            try await store.saveVerification(
                self.verification(org, customer: "cus_1"), addressHash: "addr-1", browserHash: Hex.sha256("b"), codeHash: "hash-of-123456"
            )
            #expect(try await self.redeem(store, other, browser: "b", code: "123456") == .expired, "another organization's page")
            #expect(try await self.redeem(store, org, browser: "b", code: "123456", mode: .live) == .expired, "the live page")
            if case .redeemed = try await self.redeem(store, org, browser: "b", code: "123456") {} else { Issue.record("refused on its own page") }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func anAddressGetsAFixedNumberOfWrongTriesADayWhateverNewCodesItAsksFor(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let org = try await self.organization(store)
            var tries = 0
            for round in 0..<3 {
                // A fresh code for the same address each round: its own five tries, but the day's
                // allowance (here 7) carries over.
                try await store.saveVerification(
                    self.verification(org, customer: "cus_1"), addressHash: "addr-1", browserHash: Hex.sha256("b\(round)"),
                    codeHash: "hash-of-123456"
                )
                for _ in 0..<3 {
                    tries += 1
                    let outcome = try await self.redeem(store, org, browser: "b\(round)", code: "000000", dailyTries: 7)
                    #expect((outcome == .tooManyTries) == (tries > 7), "try \(tries): \(outcome)")
                }
            }
            // Even the right code is refused for the rest of the day, and accepted the next.
            try await store.saveVerification(
                self.verification(org, customer: "cus_1", expiresIn: 2 * 86400), addressHash: "addr-1", browserHash: Hex.sha256("last"),
                codeHash: "hash-of-123456"
            )
            #expect(try await self.redeem(store, org, browser: "last", code: "123456", dailyTries: 7) == .tooManyTries)
            if case .redeemed = try await self.redeem(
                store, org, browser: "last", code: "123456", at: self.now.addingTimeInterval(86400),
                dailyTries: 7)
            {
            } else {
                Issue.record("the next day's right code was refused")
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func parallelGuessesNeverGetMoreThanFiveComparisons(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let org = try await self.organization(store)
            try await store.saveVerification(
                self.verification(org, customer: "cus_1"), addressHash: "addr-1", browserHash: Hex.sha256("b"), codeHash: "hash-of-424242"
            )
            let compared = Counter()
            let outcomes = try await withThrowingTaskGroup(of: VerificationRedemption.self) { group in
                for guess in 0..<20 {
                    group.addTask {
                        try await store.redeemVerification(
                            organizationID: org.id, mode: .test, browserHash: Hex.sha256("b"), now: self.now, maximumAttempts: 5,
                            dailyTries: 100, dayStart: self.now, session: self.session,
                            sessionHash: Hex.sha256("s\(guess)"),
                            matches: { _, _ in
                                compared.increment()
                                return false
                            }
                        )
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(compared.value == 5)
            #expect(outcomes.filter { $0 == .exhausted }.count >= 15)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func rateLimitCountersAreSharedRefundableAndPruned(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, location in
            let store = SQLStore(pool: pool)
            let window = self.now
            let address = RateLimitBucket(key: "verify-address:a", limit: 2)
            let client = RateLimitBucket(key: "verify-client:c", limit: 3)
            #expect(try await store.hit([address, client], windowStart: window))
            #expect(try await store.hit([address, client], windowStart: window))
            #expect(try await store.hit([client, address], windowStart: window) == false, "the address's third hit")
            // The refused request used up nothing: the client's hit was rolled back with it.
            #expect(try await self.hits(pool, client.key, window) == 2)
            #expect(try await self.hits(pool, address.key, window) == 2)
            // A bucket over its limit stops the request before later buckets are touched.
            let untouched = RateLimitBucket(key: "verify-organization:o", limit: 100)
            #expect(try await store.hit([address, untouched], windowStart: window) == false)
            #expect(try await self.hits(pool, untouched.key, window) == nil, "no row for a refused request")
            try await store.refund(bucketKey: address.key, windowStart: window)
            try await store.refund(bucketKey: address.key, windowStart: window)
            #expect(try await store.hit([client], windowStart: window), "the client's third hit")
            #expect(try await store.hit([client], windowStart: window) == false, "the client's fourth hit")
            #expect(try await self.hits(pool, client.key, window) == 3, "a refused hit leaves the count at the limit")
            #expect(try await store.hit([address], windowStart: window), "refunds made room")
            #expect(try await store.hit([address, client], windowStart: window.addingTimeInterval(3600)), "a new window starts over")
            #expect(try await self.count(pool, "rate_limit_counters") == 4)
            #expect(
                try await store.purge(.rateLimitCounters, before: window.addingTimeInterval(1), batchSize: 500, maximumBatches: 5)
                    == (batches: 1, more: false))
            #expect(try await self.count(pool, "rate_limit_counters") == 2, "this window's counters went; the next hour's stay")

            // Another connection pool on the same database (another instance) sees the same counts.
            if case .postgres(let url) = location {
                let other = try PostgresDatabasePool(url: url, logger: .init(label: "other", factory: { _ in SwiftLogNoOpLogHandler() }))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await other.run() }
                    defer { group.cancelAll() }
                    let otherStore = SQLStore(pool: other)
                    let shared = RateLimitBucket(key: "verify-address:shared", limit: 3)
                    for index in 0..<6 {
                        let within = try await (index.isMultiple(of: 2) ? store : otherStore).hit([shared], windowStart: window)
                        #expect(within == (index < 3), "hit \(index + 1)")
                    }
                }
            }
        }
    }

    /// The rows in a table.
    func count(_ pool: any DatabasePool, _ table: String) async throws -> Int {
        try await pool.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()?.decode(column: "n", as: Int.self) ?? -1
        }
    }

    /// A counter as stored, or nil when the request wrote no row.
    func hits(_ pool: any DatabasePool, _ bucket: String, _ window: Date) async throws -> Int? {
        try await pool.read { db in
            try await db.raw(
                "SELECT hits FROM rate_limit_counters WHERE bucket = \(bind: bucket) AND window_start = \(bind: Millis.from(window))"
            ).first()?.decode(column: "hits", as: Int.self)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func anAddressFindsTheNewestCustomerWithSomethingToCancel(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let org = try await self.organization(store)
            let address = "ada@example.com"
            for (index, id) in ["cus_old_active", "cus_newer_cancelled", "cus_newest_no_subscription"].enumerated() {
                _ = try await store.upsertCustomer(
                    organizationID: org.id, mode: .test, id: id, email: address, name: nil,
                    now: self.now.addingTimeInterval(Double(index)))
            }
            _ = try await store.upsertSubscription(
                organizationID: org.id, mode: .test,
                Subscription(id: "sub_1", customerID: "cus_old_active", status: .active, createdAt: self.now, updatedAt: self.now), now: self.now
            )
            _ = try await store.upsertSubscription(
                organizationID: org.id, mode: .test,
                Subscription(id: "sub_2", customerID: "cus_newer_cancelled", status: .canceled, createdAt: self.now, updatedAt: self.now),
                now: self.now
            )
            #expect(try await store.customer(organizationID: org.id, mode: .test, email: address)?.id == "cus_old_active")
            #expect(try await store.customer(organizationID: org.id, mode: .live, email: address) == nil, "test data is not live data")
            #expect(try await store.customer(organizationID: org.id, mode: .test, email: "bob@example.com") == nil)
            // With nothing to cancel anywhere, the newest customer.
            _ = try await store.upsertCustomer(organizationID: org.id, mode: .live, id: "cus_live_old", email: address, name: nil, now: self.now)
            _ = try await store.upsertCustomer(
                organizationID: org.id, mode: .live, id: "cus_live_new", email: address, name: nil,
                now: self.now.addingTimeInterval(5))
            #expect(try await store.customer(organizationID: org.id, mode: .live, email: address)?.id == "cus_live_new")
            _ = try await store.upsertSubscription(
                organizationID: org.id, mode: .test,
                Subscription(id: "sub_3", customerID: "cus_newest_no_subscription", status: .trialing, createdAt: self.now, updatedAt: self.now),
                now: self.now
            )
            #expect(try await store.customer(organizationID: org.id, mode: .test, email: address)?.id == "cus_newest_no_subscription")
        }
    }

    @Test(arguments: TestEngine.allCases)
    func organizationsAreFoundByVerifiedCustomDomainAndSubdomain(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let org = Organization(
                id: Identifier.make("org_"), name: "Acme", subdomain: "acme", customDomain: "billing.acme.test", createdAt: self.now)
            _ = try await store.createOrganization(org, credentials: [], onlyIfFirst: false)
            #expect(try await store.organization(host: .subdomain("acme"))?.id == org.id)
            #expect(try await store.organization(host: .customDomain("billing.acme.test")) == nil, "not before it is verified")
            #expect(try await store.setCustomDomainVerified(organizationID: org.id, verified: true))
            #expect(try await store.organization(host: .customDomain("billing.acme.test"))?.id == org.id)
            #expect(try await store.organization(host: .service) == nil)
            #expect(try await store.organization(host: .subdomain("other")) == nil)
        }
    }
}

/// A counter closures running in parallel can share.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)

    func increment() { self.count.add(1, ordering: .relaxed) }

    var value: Int { self.count.load(ordering: .relaxed) }
}
