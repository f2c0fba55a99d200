import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Foundation
import SQLKit
import Testing

/// Flows as documents on each database: the default flow made once from the old settings,
/// drafts that never become the published version until published, versions kept and
/// restorable, order, and archiving.
@Suite struct FlowStoreTests {
    static let yearly = FlowDocument(
        name: "Yearly", targeting: FlowTargeting(intervals: [.year]),
        survey: FlowSurvey(reasons: [FlowReason(id: "too_expensive", label: LocalizedText("Too expensive"), offer: "cheaper")]),
        offers: [FlowOffer(id: "cheaper", type: .planChange, plans: [PlanOption(id: "price_basic_year", name: LocalizedText("Basic"))])])

    @Test(arguments: TestEngine.allCases)
    func draftsArePublishedAsVersionsThatStayRestorable(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let contract = StoreContractTests()
            let (org, _) = try await contract.makeOrganization(store)
            let time = ManualTimeSource(contract.now)
            var settings = FlowSettings.defaults
            settings.offer = .pause(months: 1)
            try await store.setFlowSettings(organizationID: org.id, settings, now: contract.now)
            let service = FlowConfigService(store: store, time: time, phraseKeys: [])

            // The default flow comes from the settings, once, even when asked for at once.
            async let first = service.defaultFlow(organizationID: org.id)
            async let second = service.defaultFlow(organizationID: org.id)
            let (a, b) = try await (first, second)
            #expect(a.id == b.id)
            #expect(a.published?.version == 1 && a.published?.document.offers.first?.type == .pause)
            #expect(try await service.flows(organizationID: org.id).map(\.id) == [a.id])

            // A new flow is a draft only: nothing published yet.
            let flow = try await service.create(organizationID: org.id, document: Self.yearly)
            #expect(flow.published == nil && flow.draft == Self.yearly && !flow.isDefault)
            #expect(try await service.flows(organizationID: org.id).map(\.id) == [flow.id, a.id], "targeted flows first, the default last")
            await #expect(throws: CancelflowError.self) { try await service.create(organizationID: org.id, document: FlowDocument.standard) }

            time.advance(by: 60)
            let published = try await service.publish(id: flow.id, organizationID: org.id, by: "api:test")
            #expect(published.published?.version == 1 && published.draft == nil)
            #expect(published.published?.document == Self.yearly && published.published?.publishedBy == "api:test")
            await #expect(throws: CancelflowError.self) { try await service.publish(id: flow.id, organizationID: org.id, by: nil) }

            // A saved draft does not change what is published.
            var edited = Self.yearly
            edited.name = "Yearly, edited"
            let drafted = try await service.saveDraft(id: flow.id, organizationID: org.id, document: edited)
            #expect(drafted.published?.document.name == "Yearly" && drafted.draft?.name == "Yearly, edited")
            #expect(try await service.publish(id: flow.id, organizationID: org.id, by: nil).published?.version == 2)

            // Restoring publishes the old version again as the next one, leaving a draft alone.
            var pending = edited
            pending.name = "Work in progress"
            _ = try await service.saveDraft(id: flow.id, organizationID: org.id, document: pending)
            let restored = try await service.restore(id: flow.id, organizationID: org.id, version: 1, by: nil)
            #expect(restored.published?.version == 3 && restored.published?.document.name == "Yearly")
            #expect(restored.draft?.name == "Work in progress")
            #expect(try await service.versions(id: flow.id, organizationID: org.id).map(\.version) == [3, 2, 1])
            await #expect(throws: CancelflowError.self) { try await service.restore(id: flow.id, organizationID: org.id, version: 9, by: nil) }

            // A publish clears only the draft it published: one saved meanwhile is kept.
            time.advance(by: 60)
            let stale = try #require(try await store.flow(id: flow.id, organizationID: org.id)?.draftUpdatedAt)
            time.advance(by: 60)
            _ = try await service.saveDraft(id: flow.id, organizationID: org.id, document: edited)
            _ = try await store.publishFlow(
                id: flow.id, organizationID: org.id, document: pending, clearingDraftSavedAt: stale, by: nil, now: time.now())
            #expect(try await service.flow(id: flow.id, organizationID: org.id).draft?.name == "Yearly, edited")
        }
    }

    /// The settings form describes the default flow's survey, offer and timing: saving it for
    /// anything else (a brand colour) must not undo what was published through the API; a
    /// change to those does publish.
    @Test(arguments: TestEngine.allCases)
    func savingOtherSettingsLeavesThePublishedDefaultFlowAlone(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let contract = StoreContractTests()
            let (org, _) = try await contract.makeOrganization(store)
            let service = FlowConfigService(store: store, time: ManualTimeSource(contract.now), phraseKeys: [])
            let defaultFlow = try await service.defaultFlow(organizationID: org.id)
            var tailored = FlowDocument.standard
            tailored.survey.reasons[0].offer = FlowReason.noOffer
            _ = try await service.saveDraft(id: defaultFlow.id, organizationID: org.id, document: tailored)
            _ = try await service.publish(id: defaultFlow.id, organizationID: org.id, by: "api:live")
            var settings = try await store.flowSettings(organizationID: org.id)
            settings.brandColor = "#111111"
            try await store.setFlowSettings(organizationID: org.id, settings, now: contract.now)
            var current = try await service.defaultFlow(organizationID: org.id)
            #expect(current.published?.version == 2 && current.published?.document == tailored)
            settings.offer = .pause(months: 1)
            try await store.setFlowSettings(organizationID: org.id, settings, now: contract.now)
            current = try await service.defaultFlow(organizationID: org.id)
            #expect(current.published?.version == 3 && current.published?.publishedBy == "settings")
            #expect(current.published?.document.offers.map(\.type) == [.pause])
        }
    }

    @Test(arguments: TestEngine.allCases)
    func flowsKeepTheirOrderAndArchivingTakesThemOut(engine: TestEngine) async throws {
        try await TestDatabase.withPool(engine) { pool, _ in
            let store = SQLStore(pool: pool)
            let contract = StoreContractTests()
            let (org, _) = try await contract.makeOrganization(store)
            let (other, _) = try await contract.makeOrganization(store, subdomain: "other")
            let service = FlowConfigService(store: store, time: ManualTimeSource(contract.now), phraseKeys: [])
            var ids: [String] = []
            for name in ["One", "Two", "Three"] {
                var document = Self.yearly
                document.name = name
                ids.append(try await service.create(organizationID: org.id, document: document).id)
            }
            let defaultID = try await service.defaultFlow(organizationID: org.id).id
            _ = try await service.move(id: ids[2], organizationID: org.id, position: 0)
            #expect(try await service.flows(organizationID: org.id).map(\.name) == ["Three", "One", "Two", "Default"])
            _ = try await service.move(id: ids[2], organizationID: org.id, position: 5)
            #expect(try await service.flows(organizationID: org.id).map(\.name) == ["One", "Two", "Three", "Default"])
            await #expect(throws: CancelflowError.self) { try await service.move(id: defaultID, organizationID: org.id, position: 0) }

            try await service.archive(id: ids[0], organizationID: org.id)
            #expect(try await service.flows(organizationID: org.id).map(\.name) == ["Two", "Three", "Default"])
            #expect(try await service.flow(id: ids[0], organizationID: org.id).isArchived, "kept for the sessions that ran it")
            await #expect(throws: CancelflowError.self) { try await service.saveDraft(id: ids[0], organizationID: org.id, document: Self.yearly) }
            await #expect(throws: CancelflowError.self) { try await service.archive(id: defaultID, organizationID: org.id) }

            // Another organization sees none of it.
            await #expect(throws: CancelflowError.self) { try await service.flow(id: ids[1], organizationID: other.id) }
            await #expect(throws: CancelflowError.self) { try await service.archive(id: ids[1], organizationID: other.id) }
            #expect(try await service.flows(organizationID: other.id).map(\.name) == ["Default"])

            // The default flow takes no targeting, and others must have some.
            var targeted = FlowDocument.standard
            targeted.targeting = FlowTargeting(trial: true)
            await #expect(throws: CancelflowError.self) { try await service.saveDraft(id: defaultID, organizationID: org.id, document: targeted) }
            await #expect(throws: CancelflowError.self) { try await service.saveDraft(id: ids[1], organizationID: org.id, document: .standard) }
        }
    }
}
