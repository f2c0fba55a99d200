import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Foundation
import SQLKit
import Testing

/// The organization cache's staleness bound, on each database.
@Suite struct OrganizationCacheTests {
    @Test(arguments: TestEngine.allCases)
    func aChangeThroughTheStoreIsSeenAtOnceAndOneFromElsewhereWithinTheLifetime(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool, organizationCacheSeconds: 60)
            let contract = StoreContractTests()
            let (org, _) = try await contract.makeOrganization(store, subdomain: "acme")
            #expect(try await store.organization(id: org.id)?.name == "Acme")
            #expect(try await store.organization(host: .subdomain("acme"))?.id == org.id)
            // Another instance's change (a write this store did not make) goes unseen while the
            // entry is fresh: the cache is really in use.
            try await pool.run("UPDATE organizations SET name = 'Elsewhere' WHERE id = \(bind: org.id)")
            #expect(try await store.organization(id: org.id)?.name == "Acme")
            // A change through the store is seen at once, by id and by host, and the old host is
            // free again.
            var renamed = org
            renamed.name = "Renamed"
            renamed.subdomain = "renamed"
            try await store.updateOrganization(renamed, flowSettings: nil, now: contract.now)
            #expect(try await store.organization(id: org.id)?.name == "Renamed")
            #expect(try await store.organization(host: .subdomain("acme")) == nil)
            #expect(try await store.organization(host: .subdomain("renamed"))?.id == org.id)
            // An unknown host is not remembered as unknown: once it exists, it is found.
            #expect(try await store.organization(host: .subdomain("later")) == nil)
            try await pool.run("UPDATE organizations SET subdomain = 'later' WHERE id = \(bind: org.id)")
            #expect(try await store.organization(host: .subdomain("later"))?.id == org.id)
            // Once the lifetime has passed, another instance's change is seen (a one-second
            // cache, read, changed elsewhere, read again after the second).
            let brief = SQLStore(pool: pool, organizationCacheSeconds: 1)
            #expect(try await brief.organization(id: org.id)?.name == "Renamed")
            try await pool.run("UPDATE organizations SET name = 'Later' WHERE id = \(bind: org.id)")
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await brief.organization(id: org.id)?.name == "Later")
            // Without a lifetime nothing is kept.
            let uncached = SQLStore(pool: pool)
            try await pool.run("UPDATE organizations SET name = 'Direct' WHERE id = \(bind: org.id)")
            #expect(try await uncached.organization(id: org.id)?.name == "Direct")
        }
    }
}
