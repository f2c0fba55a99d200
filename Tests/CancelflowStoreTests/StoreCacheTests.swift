import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Foundation
import SQLKit
import Testing

/// The store's caches (organizations; each organization's webhook endpoints) and their staleness
/// bound, on each database.
@Suite struct StoreCacheTests {
    @Test(arguments: TestEngine.allCases)
    func aChangeThroughTheStoreIsSeenAtOnceAndOneFromElsewhereWithinTheLifetime(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool, cacheSeconds: 60)
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
            let brief = SQLStore(pool: pool, cacheSeconds: 1)
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

    @Test(arguments: TestEngine.allCases)
    func theOutboxSeesItsOwnEndpointChangesAtOnceAndNeverSendsToOneDeletedElsewhere(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool, cacheSeconds: 60)
            let contract = StoreContractTests()
            let (org, _) = try await contract.makeOrganization(store)
            func mint() async throws -> String {
                let link = contract.link(org)
                let event = OutboxEvent(
                    id: Identifier.make("evt_"), type: .cancelLinkCreated, organizationID: org.id, mode: .test, payload: "{}", createdAt: contract.now
                )
                try await store.insertLink(link, tokenHash: "hash-\(link.id)", events: [event])
                return event.id
            }
            func deliveries(_ eventID: String) async throws -> Int {
                try await pool.read { db in
                    try await db.raw("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE event_id = \(bind: eventID)").first()?
                        .decode(column: "n", as: Int.self) ?? -1
                }
            }
            func events(_ eventID: String) async throws -> Int {
                try await pool.read { db in
                    try await db.raw("SELECT COUNT(*) AS n FROM events WHERE id = \(bind: eventID)").first()?.decode(column: "n", as: Int.self) ?? -1
                }
            }
            // No endpoint: nothing is written, and the cache now knows there is none (the next
            // mint is a single statement).
            let first = try await mint()
            #expect(try await events(first) == 0)
            let second = try await mint()
            #expect(try await events(second) == 0)
            // An endpoint added through this store is fanned out to from the next mint.
            let endpoint = WebhookEndpoint(
                id: Identifier.make("we_"), organizationID: org.id, mode: .test, url: "https://hooks.example/a", events: [.cancelLinkCreated],
                description: nil, sealedSecret: [1, 2, 3], createdAt: contract.now)
            try await store.createEndpoint(endpoint)
            let third = try await mint()
            #expect(try await deliveries(third) == 1)
            // Deleted by another instance (a write this store did not make): the cached list
            // still names it, but no delivery is written for it.
            try await pool.run("UPDATE webhook_endpoints SET deleted_at = 1 WHERE id = \(bind: endpoint.id)")
            let fourth = try await mint()
            #expect(try await deliveries(fourth) == 0)
            // Added by another instance: unseen while the entry is fresh (the cache is really in
            // use), seen at once after a change through this store.
            try await pool.run("UPDATE webhook_endpoints SET deleted_at = NULL WHERE id = \(bind: endpoint.id)")
            let other = WebhookEndpoint(
                id: Identifier.make("we_"), organizationID: org.id, mode: .test, url: "https://hooks.example/b", events: [],
                description: nil, sealedSecret: [4, 5, 6], createdAt: contract.now)
            try await SQLStore(pool: pool).createEndpoint(other)
            let fifth = try await mint()
            #expect(try await deliveries(fifth) == 1)
            #expect(try await store.setEndpointDisabled(organizationID: org.id, mode: .test, id: endpoint.id, at: contract.now))
            let sixth = try await mint()
            let sent = try await pool.read { db in
                try await db.raw("SELECT endpoint_id FROM webhook_deliveries WHERE event_id = \(bind: sixth)").all()
                    .map { try $0.decode(column: "endpoint_id", as: String.self) }
            }
            #expect(sent == [other.id])
            // Once the lifetime has passed, another instance's endpoint is seen.
            let brief = SQLStore(pool: pool, cacheSeconds: 1)
            let liveEvent = {
                OutboxEvent(
                    id: Identifier.make("evt_"), type: .cancelLinkCreated, organizationID: org.id, mode: .live, payload: "{}", createdAt: contract.now
                )
            }
            let before = liveEvent()
            try await brief.insertLink(contract.link(org, .live), tokenHash: "hash-b1", events: [before])
            #expect(try await events(before.id) == 0)
            try await SQLStore(pool: pool).createEndpoint(
                WebhookEndpoint(
                    id: Identifier.make("we_"), organizationID: org.id, mode: .live, url: "https://hooks.example/c", events: [],
                    description: nil, sealedSecret: [7], createdAt: contract.now))
            try await Task.sleep(for: .milliseconds(1100))
            let after = liveEvent()
            try await brief.insertLink(contract.link(org, .live), tokenHash: "hash-b3", events: [after])
            #expect(try await deliveries(after.id) == 1)
        }
    }
}
