import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Foundation
import Logging
import Testing

/// One contract, run on SQLite and on PostgreSQL.
@Suite struct StoreContractTests {
    let now = Date(timeIntervalSince1970: 1_790_000_000)

    func makeOrganization(_ store: SQLStore, subdomain: String? = nil) async throws -> (Organization, [NewCredential]) {
        let org = Organization(id: Identifier.make("org_"), name: "Acme", subdomain: subdomain, createdAt: self.now)
        let credentials = Mode.allCases.map { mode in
            NewCredential(
                mode: mode, appID: Identifier.appID(mode: mode), keyID: Identifier.make("key_"),
                keyHash: Hex.sha256("key-\(mode)-\(org.id)"), keyHint: "abcd")
        }
        _ = try await store.createOrganization(org, credentials: credentials, onlyIfFirst: false)
        return (org, credentials)
    }

    func link(
        _ org: Organization, _ mode: Mode = .test, customer: String = "cus_1", createdAt: Date? = nil, expiresIn: TimeInterval = 3600
    )
        -> CancelLink
    {
        let created = createdAt ?? self.now
        return CancelLink(
            id: Identifier.make("cs_"), organizationID: org.id, mode: mode, customerID: customer, subscriptionID: nil,
            singleUse: true, expiresAt: created.addingTimeInterval(expiresIn), createdAt: created, metadata: ["plan": "pro"]
        )
    }

    @Test(arguments: TestEngine.allCases)
    func organizationsRoundTripAndCredentialsResolve(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let (org, credentials) = try await self.makeOrganization(store, subdomain: "acme")
            #expect(try await store.organization(id: org.id) == org)
            #expect(try await store.organization(id: "org_missing") == nil)
            #expect(try await store.organizationCount() == 1)
            for credential in credentials {
                let record = try #require(try await store.credentials(appID: credential.appID, now: self.now))
                #expect(record.organizationID == org.id)
                #expect(record.mode == credential.mode)
                #expect(record.keys.map(\.hash) == [credential.keyHash])
                #expect(try await store.appID(organizationID: org.id, mode: credential.mode) == credential.appID)
            }
            #expect(try await store.credentials(appID: "app_test_nothing", now: self.now) == nil)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func takenSubdomainsConflictAndLeaveNothingBehind(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            _ = try await self.makeOrganization(store, subdomain: "acme")
            await #expect(throws: CancelflowError.self) { _ = try await self.makeOrganization(store, subdomain: "acme") }
            #expect(try await store.organizationCount() == 1)
            let orphans = try await pool.withConnection { db in
                try await db.raw("SELECT COUNT(*) AS n FROM app_credentials").first()?.decode(column: "n", as: Int.self)
            }
            #expect(orphans == 2, "the failed organization's credentials were rolled back with it")
        }
    }

    @Test(arguments: TestEngine.allCases)
    func concurrentFirstStartsCreateOneOrganization(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let service = CredentialService(store: SQLStore(pool: pool), time: SystemTimeSource())
            let created = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await service.createFirstOrganization(name: "First") != nil }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(created == 1)
            #expect(try await SQLStore(pool: pool).organizationCount() == 1)
            #expect(try await service.createFirstOrganization(name: "Again") == nil)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func rotationKeepsOldKeysUntilTheirDeadline(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let (org, credentials) = try await self.makeOrganization(store)
            let test = credentials.first { $0.mode == .test }!
            try await store.rotateKey(
                organizationID: org.id, mode: .test, newKeyID: "key_new", newKeyHash: "newhash", newKeyHint: "wxyz",
                now: self.now, oldKeysExpireAt: self.now.addingTimeInterval(3600))
            let during = try #require(try await store.credentials(appID: test.appID, now: self.now.addingTimeInterval(3599)))
            #expect(Set(during.keys.map(\.hash)) == [test.keyHash, "newhash"])
            let after = try #require(try await store.credentials(appID: test.appID, now: self.now.addingTimeInterval(3600)))
            #expect(after.keys.map(\.hash) == ["newhash"])
            // A second rotation never extends an older key's deadline.
            try await store.rotateKey(
                organizationID: org.id, mode: .test, newKeyID: "key_newer", newKeyHash: "newerhash", newKeyHint: "qrst",
                now: self.now, oldKeysExpireAt: self.now.addingTimeInterval(7200))
            let later = try #require(try await store.credentials(appID: test.appID, now: self.now.addingTimeInterval(3700)))
            #expect(Set(later.keys.map(\.hash)) == ["newhash", "newerhash"])
            // Live keys are untouched.
            let live = credentials.first { $0.mode == .live }!
            #expect(try await store.credentials(appID: live.appID, now: self.now.addingTimeInterval(99999))?.keys.count == 1)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func customersAndSubscriptionsUpsertWithinTheirMode(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let (org, _) = try await self.makeOrganization(store)
            let first = try await store.upsertCustomer(organizationID: org.id, mode: .test, id: "cus_1", email: "a@x.io", name: "A", now: self.now)
            let later = self.now.addingTimeInterval(60)
            let second = try await store.upsertCustomer(organizationID: org.id, mode: .test, id: "cus_1", email: "b@x.io", name: nil, now: later)
            #expect(second.createdAt == first.createdAt)
            #expect(second.updatedAt == later)
            #expect(second.email == "b@x.io" && second.name == nil)
            #expect(try await store.customer(organizationID: org.id, mode: .live, id: "cus_1") == nil)

            let sub = Subscription(
                id: "sub_1", customerID: "cus_1", status: .active, planName: "Pro", amount: 1200, currency: "usd",
                interval: .month, currentPeriodEnd: later, createdAt: self.now, updatedAt: self.now)
            #expect(try await store.upsertSubscription(organizationID: org.id, mode: .test, sub, now: self.now)?.status == .active)
            var paused = sub
            paused.status = .paused
            #expect(try await store.upsertSubscription(organizationID: org.id, mode: .test, paused, now: later)?.status == .paused)
            #expect(try await store.subscriptions(organizationID: org.id, mode: .test, customerID: "cus_1").map(\.id) == ["sub_1"])
            #expect(try await store.subscription(organizationID: org.id, mode: .test, id: "sub_1")?.currentPeriodEnd == later)
            // Unknown customer: nothing is written.
            var orphan = sub
            orphan.customerID = "cus_missing"
            orphan.id = "sub_2"
            #expect(try await store.upsertSubscription(organizationID: org.id, mode: .test, orphan, now: self.now) == nil)
            #expect(try await store.subscription(organizationID: org.id, mode: .test, id: "sub_2") == nil)
            // Another customer's subscription id is refused.
            _ = try await store.upsertCustomer(organizationID: org.id, mode: .test, id: "cus_2", email: nil, name: nil, now: self.now)
            var stolen = sub
            stolen.customerID = "cus_2"
            await #expect(throws: CancelflowError.self) {
                _ = try await store.upsertSubscription(organizationID: org.id, mode: .test, stolen, now: self.now)
            }
            #expect(try await store.subscription(organizationID: org.id, mode: .test, id: "sub_1")?.customerID == "cus_1")
        }
    }

    @Test(arguments: TestEngine.allCases)
    func linksAreFoundByIdWithinTheirModeAndByTokenHash(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let (org, _) = try await self.makeOrganization(store)
            let link = self.link(org)
            try await store.insertLink(link, tokenHash: "hash-1", events: [])
            #expect(try await store.link(organizationID: org.id, mode: .test, id: link.id) == link)
            #expect(try await store.link(organizationID: org.id, mode: .live, id: link.id) == nil)
            #expect(try await store.link(organizationID: "org_other", mode: .test, id: link.id) == nil)
            #expect(try await store.link(tokenHash: "hash-1") == link)
            #expect(try await store.link(tokenHash: "hash-2") == nil)
            // A token hash is unique.
            var twin = self.link(org)
            twin.id = "cs_twin"
            do {
                try await store.insertLink(twin, tokenHash: "hash-1", events: [])
                Issue.record("a second link with the same token hash must be refused")
            } catch {
                #expect(isUniqueViolation(error), "refused by the unique index, not by accident: \(error)")
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func revokeIsConditionalOnAnActiveUnexpiredLink(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let (org, _) = try await self.makeOrganization(store)
            let link = self.link(org)
            try await store.insertLink(link, tokenHash: "h1", events: [])
            let revoked = try #require(try await store.revokeLink(organizationID: org.id, mode: .test, id: link.id, now: self.now) { _ in [] })
            #expect(revoked.storedStatus == .revoked)
            #expect(revoked.revokedAt == self.now)
            let again = try #require(
                try await store.revokeLink(organizationID: org.id, mode: .test, id: link.id, now: self.now.addingTimeInterval(5)) { _ in [] })
            #expect(again.revokedAt == self.now, "a second revoke changes nothing")

            let expiring = self.link(org, expiresIn: 10)
            try await store.insertLink(expiring, tokenHash: "h2", events: [])
            let late = try #require(
                try await store.revokeLink(organizationID: org.id, mode: .test, id: expiring.id, now: self.now.addingTimeInterval(10)) { _ in [] })
            #expect(late.storedStatus == .active)
            #expect(late.status(at: self.now.addingTimeInterval(10)) == .expired)
            #expect(try await store.revokeLink(organizationID: org.id, mode: .live, id: expiring.id, now: self.now) { _ in [] } == nil)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func listingIsNewestFirstWithAStableCursor(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let (org, _) = try await self.makeOrganization(store)
            var inserted: [CancelLink] = []
            // Pairs share a creation time, so the id must break ties.
            for index in 0..<7 {
                let link = self.link(
                    org, customer: index.isMultiple(of: 2) ? "cus_even" : "cus_odd", createdAt: self.now.addingTimeInterval(Double(index / 2)))
                try await store.insertLink(link, tokenHash: "h\(index)", events: [])
                inserted.append(link)
            }
            try await store.insertLink(self.link(org, .live), tokenHash: "h-live", events: [])
            let expected = inserted.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.map(\.id)
            var seen: [String] = []
            var cursor: String?
            // Bounded: a cursor that never ends would fail here rather than loop for ever.
            for _ in 0..<10 {
                let page = try await store.links(organizationID: org.id, mode: .test, customerID: nil, limit: 3, startingAfter: cursor)
                seen += page.map(\.id)
                cursor = page.count == 3 ? page.last?.id : nil
                if cursor == nil { break }
            }
            #expect(cursor == nil, "the pages ended")
            #expect(seen == expected)
            let evens = try await store.links(organizationID: org.id, mode: .test, customerID: "cus_even", limit: 10, startingAfter: nil)
            #expect(evens.map(\.id) == expected.filter { id in inserted.first { $0.id == id }!.customerID == "cus_even" })
            await #expect(throws: CancelflowError.self) {
                _ = try await store.links(organizationID: org.id, mode: .test, customerID: nil, limit: 3, startingAfter: "cs_unknown")
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func idempotencyKeysClaimOnceAndRememberTheirResult(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let (org, _) = try await self.makeOrganization(store)
            let stale = self.now.addingTimeInterval(-86400)
            func claim(_ key: String, _ fingerprint: String, at date: Date? = nil) async throws -> IdempotencyClaim {
                let at = date ?? self.now
                return try await store.claimIdempotencyKey(
                    organizationID: org.id, mode: .test, key: key, fingerprint: fingerprint,
                    now: at, staleBefore: at.addingTimeInterval(-86400))
            }
            #expect(try await claim("k1", "f1") == .claimed)
            #expect(try await claim("k1", "f1") == .inProgress)
            #expect(try await claim("k1", "f2") == .mismatch)
            try await store.completeIdempotencyKey(organizationID: org.id, mode: .test, key: "k1", result: .init(status: 201, sealedBody: [1, 2, 3]))
            #expect(try await claim("k1", "f1") == .completed(status: 201, sealedBody: [1, 2, 3]))
            // The same key in live mode is another key.
            #expect(
                try await store.claimIdempotencyKey(
                    organizationID: org.id, mode: .live, key: "k1", fingerprint: "f9", now: self.now,
                    staleBefore: stale) == .claimed)
            // Released claims can be claimed again; completed ones cannot be released.
            #expect(try await claim("k2", "f1") == .claimed)
            try await store.releaseIdempotencyKey(organizationID: org.id, mode: .test, key: "k2")
            #expect(try await claim("k2", "f3") == .claimed)
            try await store.releaseIdempotencyKey(organizationID: org.id, mode: .test, key: "k1")
            #expect(try await claim("k1", "f1") == .completed(status: 201, sealedBody: [1, 2, 3]))
            // A claim that never completed (its request died) is released after a minute.
            #expect(try await claim("k3", "f1") == .claimed)
            #expect(try await claim("k3", "f1", at: self.now.addingTimeInterval(59)) == .inProgress)
            #expect(try await claim("k3", "f1", at: self.now.addingTimeInterval(61)) == .claimed)
            // After 24 hours a key is forgotten.
            #expect(try await claim("k1", "f2", at: self.now.addingTimeInterval(86401)) == .claimed)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func concurrentClaimsOfOneKeyHaveOneWinner(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let (org, _) = try await self.makeOrganization(store)
            let now = self.now
            let claims = try await withThrowingTaskGroup(of: IdempotencyClaim.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        try await store.claimIdempotencyKey(
                            organizationID: org.id, mode: .test, key: "race", fingerprint: "f", now: now,
                            staleBefore: now.addingTimeInterval(-86400))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(claims.filter { $0 == .claimed }.count == 1)
            #expect(claims.filter { $0 == .inProgress }.count == 39)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func migrationsApplyOnceAndAreRecorded(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let logger = Logger(label: "test")
            #expect(try await Migrator(pool: pool).migrate(logger: logger).isEmpty, "already applied by the test database")
            let names = try await pool.withConnection { db in
                try await db.raw("SELECT name FROM schema_migrations ORDER BY name").all().map { try $0.decode(column: "name", as: String.self) }
            }
            #expect(names == Migrator.all.map(\.name))
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aFailedTransactionLeavesNothingBehind(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let (org, _) = try await self.makeOrganization(store)
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await pool.transaction { db in
                    try await db.raw("UPDATE organizations SET name = 'Changed' WHERE id = \(bind: org.id)").run()
                    throw Boom()
                }
            }
            #expect(try await store.organization(id: org.id)?.name == "Acme")
        }
    }
}
