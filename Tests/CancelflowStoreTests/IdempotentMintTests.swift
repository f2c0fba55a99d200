import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Foundation
import Testing

/// An idempotency key's answer stored in the mint's own transaction, on each database.
@Suite struct IdempotentMintTests {
    @Test(arguments: TestEngine.allCases)
    func theAnswerCommitsWithTheLinkOrNotAtAll(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let contract = StoreContractTests()
            let (org, _) = try await contract.makeOrganization(store)
            let now = contract.now
            func claim(_ key: String) async throws -> IdempotencyClaim {
                try await store.claimIdempotencyKey(
                    organizationID: org.id, mode: .test, key: key, fingerprint: "f", now: now, staleBefore: now.addingTimeInterval(-86_400))
            }
            func completion(_ key: String) -> IdempotencyCompletion {
                IdempotencyCompletion(
                    organizationID: org.id, mode: .test, key: key, result: IdempotentResult(status: 201, sealedBody: Array("sealed-\(key)".utf8)))
            }
            // Stored with the link: the next claim of the key finds the answer.
            guard case .claimed = try await claim("k1") else { throw TestSetupError("the first claim") }
            let link = contract.link(org)
            try await store.insertLink(link, tokenHash: "hash-1", events: [], completing: completion("k1"))
            guard case .completed(let status, let body) = try await claim("k1") else {
                Issue.record("the answer was not stored with the link")
                return
            }
            #expect(status == 201)
            #expect(body == Array("sealed-k1".utf8))
            // A mint whose transaction fails (a token hash already taken) stores no answer: the
            // key stays claimed, as for any failed request, and no second link exists.
            guard case .claimed = try await claim("k2") else { throw TestSetupError("the second claim") }
            var twin = contract.link(org)
            twin.id = "cs_twin"
            await #expect(throws: (any Error).self) {
                try await store.insertLink(twin, tokenHash: "hash-1", events: [], completing: completion("k2"))
            }
            guard case .inProgress = try await claim("k2") else {
                Issue.record("a failed mint left an answer behind")
                return
            }
            #expect(try await store.link(organizationID: org.id, mode: .test, id: "cs_twin") == nil)
        }
    }
}
