import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Foundation
import Testing

/// Billing accounts and flow sessions' provider actions, on SQLite and on PostgreSQL.
@Suite struct BillingStoreTests {
    let contract = StoreContractTests()
    var now: Date { self.contract.now }

    /// A flow session to hang a provider action on.
    func session(_ store: SQLStore) async throws -> (Organization, FlowSession) {
        let (org, _) = try await self.contract.makeOrganization(store)
        let link = self.contract.link(org)
        try await store.insertLink(link, tokenHash: "hash-\(link.id)", events: [])
        let exchanged = try await store.exchangeLink(
            tokenHash: "hash-\(link.id)", now: self.now, sessionHash: "session-\(link.id)", sessionID: Identifier.make("fs_"),
            sessionExpiresAt: self.now.addingTimeInterval(3600), locale: "fr-CA", events: { _ in [] })
        // The session keeps the language it began in, for its pages and its confirmation email.
        #expect(exchanged?.1.locale == "fr-CA")
        #expect(try await store.flowSession(sessionHash: "session-\(link.id)")?.locale == "fr-CA")
        return (org, try #require(exchanged).1)
    }

    func attempt(_ org: Organization, _ session: FlowSession, action: String = "cancel_at_period_end", at date: Date) -> BillingAttempt {
        BillingAttempt(
            sessionID: session.id, organizationID: org.id, mode: .test, provider: .stripe, subscriptionID: "sub_1", action: action,
            status: .pending, attempts: 1, lastError: nil, createdAt: date, claimedUntil: date + 60)
    }

    /// One claim at a time; a failed or lapsed one can be taken over; a success never again.
    @Test(arguments: TestEngine.allCases)
    func aProviderActionIsClaimedByOneRequestAtATime(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let (org, session) = try await self.session(store)
            let first = try #require(
                try await store.claimBillingAction(self.attempt(org, session, at: self.now), now: self.now, claimUntil: self.now + 60))
            #expect(first.status == .pending && first.attempts == 1)
            #expect(
                try await store.claimBillingAction(self.attempt(org, session, at: self.now + 1), now: self.now + 1, claimUntil: self.now + 61) == nil)

            // A late answer to an older try changes nothing.
            try await store.failBillingAction(
                sessionID: session.id, attempt: 7, error: "late", status: .failed, now: self.now + 2, quietUntil: self.now + 2)
            #expect(try await store.billingAction(sessionID: session.id)?.status == .pending)
            try await store.failBillingAction(
                sessionID: session.id, attempt: 1, error: "billing_provider_error", status: .failed, now: self.now + 2, quietUntil: self.now + 2)
            let failed = try #require(try await store.billingAction(sessionID: session.id))
            #expect(failed.status == .failed && failed.lastError == "billing_provider_error")
            let retried = try #require(
                try await store.claimBillingAction(self.attempt(org, session, at: self.now + 3), now: self.now + 3, claimUntil: self.now + 63))
            #expect(retried.attempts == 2)
            #expect(retried.createdAt == self.now, "the same action keeps its first start (a pause's resume date counts from it)")

            // No clear answer: nothing may be tried during the quiet period, not even another
            // action; then it may.
            try await store.failBillingAction(
                sessionID: session.id, attempt: 2, error: "billing_provider_unavailable", status: .unknown, now: self.now + 4,
                quietUntil: self.now + 34)
            #expect(try await store.billingAction(sessionID: session.id)?.status == .unknown)
            #expect(
                try await store.claimBillingAction(
                    self.attempt(org, session, action: "cancel_now", at: self.now + 5), now: self.now + 5, claimUntil: self.now + 65) == nil)
            let afterQuiet = try #require(
                try await store.claimBillingAction(self.attempt(org, session, at: self.now + 35), now: self.now + 35, claimUntil: self.now + 95))
            #expect(afterQuiet.attempts == 3)
            // A claim whose request died lapses.
            #expect(
                try await store.claimBillingAction(self.attempt(org, session, at: self.now + 40), now: self.now + 40, claimUntil: self.now + 200)
                    == nil)
            let lapsed = try #require(
                try await store.claimBillingAction(
                    self.attempt(org, session, action: "pause:2", at: self.now + 96), now: self.now + 96, claimUntil: self.now + 156))
            #expect(lapsed.attempts == 4)
            #expect(lapsed.action == "pause:2")
            #expect(lapsed.createdAt == self.now + 96, "a different action starts afresh")

            let completed = try await store.completeFlowSession(
                id: session.id, outcome: .paused, now: self.now + 97, change: nil, providerActed: true, confirmation: nil, events: { _, _ in [] })
            #expect(completed)
            #expect(try await store.billingAction(sessionID: session.id)?.status == .succeeded)
            #expect(
                try await store.claimBillingAction(self.attempt(org, session, at: self.now + 500), now: self.now + 500, claimUntil: self.now + 560)
                    == nil)
            try await store.failBillingAction(
                sessionID: session.id, attempt: 4, error: "late", status: .unknown, now: self.now + 501, quietUntil: self.now + 561)
            #expect(try await store.billingAction(sessionID: session.id)?.status == .succeeded, "a late failure does not undo a success")
        }
    }

    /// Of several concurrent claims exactly one wins.
    @Test(arguments: TestEngine.allCases)
    func concurrentClaimsHaveOneWinner(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let (org, session) = try await self.session(store)
            let now = self.now
            let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await store.claimBillingAction(self.attempt(org, session, at: now), now: now, claimUntil: now + 60) != nil
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(wins == 1)
        }
    }

    /// A session that expired while its provider call ran still ends with what the provider did.
    @Test(arguments: TestEngine.allCases)
    func aProviderOutcomeIsRecordedEvenPastTheSessionsExpiry(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let (_, session) = try await self.session(store)
            let late = session.expiresAt + 5
            #expect(
                !(try await store.completeFlowSession(
                    id: session.id, outcome: .canceled, now: late, change: nil, providerActed: false, confirmation: nil
                ) { _, _ in [] })
            )
            #expect(
                try await store.completeFlowSession(
                    id: session.id, outcome: .canceled, now: late, change: nil, providerActed: true, confirmation: nil
                ) { _, _ in [] })
            #expect(
                !(try await store.completeFlowSession(id: session.id, outcome: .kept, now: late, change: nil, providerActed: true, confirmation: nil)
                { _, _ in [] }))
        }
    }

    /// The sweeper leaves an expired session open while its provider action has no clear answer
    /// (for up to the settle window), lists it for reading back, and abandons the rest.
    @Test(arguments: TestEngine.allCases)
    func unsettledSessionsAreNotAbandonedUntilReadBack(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let (org, session) = try await self.session(store)
            let (_, plain) = try await self.session(store)
            _ = try await store.claimBillingAction(self.attempt(org, session, at: self.now), now: self.now, claimUntil: self.now + 60)
            try await store.failBillingAction(
                sessionID: session.id, attempt: 1, error: "billing_provider_unavailable", status: .unknown, now: self.now + 1,
                quietUntil: self.now + 61)
            let late = session.expiresAt + 10
            #expect(try await store.unsettledExpiredSessions(now: late, limit: 10).map(\.id) == [session.id])
            #expect(try await store.abandonExpiredFlowSessions(now: late, settleBefore: late - 86400) { _, _ in [] } == 1, "only the plain one")
            #expect(try await store.flowSession(sessionHash: "session-\(plain.linkID!)")?.outcome == .abandoned)
            #expect(try await store.flowSession(sessionHash: "session-\(session.linkID!)")?.outcome == nil)
            // Read back as not done: it may be abandoned now.
            try await store.dismissBillingAction(sessionID: session.id, attempt: 1, now: late)
            #expect(try await store.unsettledExpiredSessions(now: late, limit: 10).isEmpty)
            #expect(try await store.abandonExpiredFlowSessions(now: late, settleBefore: late - 86400) { _, _ in [] } == 1)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func billingAccountsRoundTripPerMode(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let (org, _) = try await self.contract.makeOrganization(store)
            #expect(try await store.billingAccount(organizationID: org.id, mode: .test) == nil)
            let account = BillingAccount(
                organizationID: org.id, mode: .test, provider: .stripe, sealedKey: [1, 2, 3, 250], keyHint: "sk_test_…4242",
                apiBase: "http://127.0.0.1:1", pauseBehavior: .void, updatedAt: self.now)
            try await store.setBillingAccount(account)
            #expect(try await store.billingAccount(organizationID: org.id, mode: .test) == account)
            #expect(try await store.billingAccount(organizationID: org.id, mode: .live) == nil)
            var replaced = account
            replaced.provider = .builtin
            replaced.sealedKey = nil
            replaced.keyHint = nil
            replaced.apiBase = nil
            try await store.setBillingAccount(replaced)
            #expect(try await store.billingAccount(organizationID: org.id, mode: .test) == replaced)
        }
    }
}
