import Foundation

/// An organization's flows as documents: created and edited as drafts, published as
/// numbered versions, restored, ordered and archived. What customers get is only ever a
/// published version.
public struct FlowConfigService: Sendable {
    /// The most live flows an organization may have, the default one included.
    public static let maximumFlows = 20

    let store: any CancelflowStorage
    let time: any TimeSource
    /// The phrases a document's `texts` may override.
    let phraseKeys: Set<String>

    public init(store: any CancelflowStorage, time: any TimeSource, phraseKeys: Set<String>) {
        self.store = store
        self.time = time
        self.phraseKeys = phraseKeys
    }

    static let notFound = CancelflowError.notFound("flow_not_found", "No flow with that id exists in this organization.", param: "id")

    /// The organization's live flows in the order they are tried, the default one last. An
    /// organization that has never had flows gets its default flow here, made from its
    /// settings as they were before flows were documents.
    public func flows(organizationID: String) async throws -> [StoredFlow] {
        let flows = try await self.store.flows(organizationID: organizationID)
        if flows.contains(where: \.isDefault) { return flows }
        _ = try await self.defaultFlow(organizationID: organizationID)
        return try await self.store.flows(organizationID: organizationID)
    }

    /// The organization's default flow, created (published, version 1) when it has none.
    public func defaultFlow(organizationID: String) async throws -> StoredFlow {
        if let found = try await self.store.flows(organizationID: organizationID).first(where: \.isDefault) { return found }
        let settings = try await self.store.flowSettings(organizationID: organizationID)
        let now = self.time.now()
        let flow = StoredFlow(
            id: Identifier.make("flow_"), organizationID: organizationID, isDefault: true, position: 0, draft: nil, draftUpdatedAt: nil,
            published: FlowVersion(version: 1, document: FlowDocument(legacy: settings), publishedAt: now, publishedBy: nil),
            createdAt: now, updatedAt: now)
        return try await self.store.createFlow(flow, now: now)
    }

    /// One flow, archived ones included.
    public func flow(id: String, organizationID: String) async throws -> StoredFlow {
        guard let flow = try await self.store.flow(id: id, organizationID: organizationID) else { throw Self.notFound }
        return flow
    }

    /// A new targeted flow, tried after the others; it holds `document` as its draft until
    /// published.
    public func create(organizationID: String, document: FlowDocument) async throws -> StoredFlow {
        let document = try self.checked(document, isDefault: false)
        let existing = try await self.flows(organizationID: organizationID)
        guard existing.count < Self.maximumFlows else {
            throw CancelflowError.unprocessable("too_many_flows", "An organization has at most \(Self.maximumFlows) flows; archive one first.")
        }
        let now = self.time.now()
        let flow = StoredFlow(
            id: Identifier.make("flow_"), organizationID: organizationID, isDefault: false, position: 0, draft: document, draftUpdatedAt: now,
            published: nil, createdAt: now, updatedAt: now)
        return try await self.store.createFlow(flow, now: now)
    }

    /// Replaces the flow's draft.
    public func saveDraft(id: String, organizationID: String, document: FlowDocument) async throws -> StoredFlow {
        let flow = try await self.live(id: id, organizationID: organizationID)
        let document = try self.checked(document, isDefault: flow.isDefault)
        guard try await self.store.saveFlowDraft(id: id, organizationID: organizationID, draft: document, now: self.time.now()) else {
            throw Self.notFound
        }
        return try await self.flow(id: id, organizationID: organizationID)
    }

    /// Drops the flow's draft; customers keep getting the published version.
    public func discardDraft(id: String, organizationID: String) async throws -> StoredFlow {
        _ = try await self.live(id: id, organizationID: organizationID)
        guard try await self.store.saveFlowDraft(id: id, organizationID: organizationID, draft: nil, now: self.time.now()) else {
            throw Self.notFound
        }
        return try await self.flow(id: id, organizationID: organizationID)
    }

    /// Makes the draft the version customers get. The draft is checked again: the rules may
    /// have tightened since it was saved.
    public func publish(id: String, organizationID: String, by: String?) async throws -> StoredFlow {
        let flow = try await self.live(id: id, organizationID: organizationID)
        guard let draft = flow.draft else {
            throw CancelflowError(.conflict, code: "nothing_to_publish", message: "The flow has no draft to publish.")
        }
        let document = try self.checked(draft, isDefault: flow.isDefault)
        guard
            try await self.store.publishFlow(
                id: id, organizationID: organizationID, document: document, clearingDraftSavedAt: flow.draftUpdatedAt, by: by,
                now: self.time.now()) != nil
        else { throw Self.notFound }
        return try await self.flow(id: id, organizationID: organizationID)
    }

    /// Publishes an earlier version again, as the next version; the draft is left alone.
    public func restore(id: String, organizationID: String, version: Int, by: String?) async throws -> StoredFlow {
        let flow = try await self.live(id: id, organizationID: organizationID)
        guard let old = try await self.store.flowVersion(id: id, organizationID: organizationID, version: version) else {
            throw CancelflowError.notFound("version_not_found", "The flow has no version \(version).", param: "version")
        }
        // Checked again, as a publish is: the rules may have tightened since it was published.
        let document = try self.checked(old.document, isDefault: flow.isDefault)
        guard
            try await self.store.publishFlow(
                id: id, organizationID: organizationID, document: document, clearingDraftSavedAt: nil, by: by, now: self.time.now()) != nil
        else { throw Self.notFound }
        return try await self.flow(id: id, organizationID: organizationID)
    }

    /// Every published version, newest first.
    public func versions(id: String, organizationID: String) async throws -> [FlowVersion] {
        _ = try await self.flow(id: id, organizationID: organizationID)
        return try await self.store.flowVersions(id: id, organizationID: organizationID)
    }

    /// Puts a targeted flow at a 0-based position among the targeted flows.
    public func move(id: String, organizationID: String, position: Int) async throws -> StoredFlow {
        let flow = try await self.live(id: id, organizationID: organizationID)
        guard !flow.isDefault else {
            throw CancelflowError.invalid("default_flow_fixed", "The default flow always comes last.", param: "position")
        }
        guard position >= 0, position < Self.maximumFlows else {
            throw CancelflowError.invalid("parameter_invalid", "position is 0 to \(Self.maximumFlows - 1).", param: "position")
        }
        guard try await self.store.moveFlow(id: id, organizationID: organizationID, position: position, now: self.time.now()) else {
            throw Self.notFound
        }
        return try await self.flow(id: id, organizationID: organizationID)
    }

    /// Archives a targeted flow.
    public func archive(id: String, organizationID: String) async throws {
        let flow = try await self.live(id: id, organizationID: organizationID)
        guard !flow.isDefault else {
            throw CancelflowError(.conflict, code: "default_flow_fixed", message: "The default flow cannot be archived; edit it instead.")
        }
        guard try await self.store.archiveFlow(id: id, organizationID: organizationID, now: self.time.now()) else { throw Self.notFound }
    }

    func live(id: String, organizationID: String) async throws -> StoredFlow {
        guard let flow = try await self.store.flow(id: id, organizationID: organizationID), !flow.isArchived else { throw Self.notFound }
        return flow
    }

    func checked(_ document: FlowDocument, isDefault: Bool) throws -> FlowDocument {
        if isDefault, document.targeting != nil {
            throw CancelflowError.invalid("flow_invalid", "The default flow catches everyone else; it has no targeting.", param: "targeting")
        }
        if !isDefault, document.targeting == nil {
            throw CancelflowError.invalid(
                "flow_invalid", "Say whom the flow is for; only the default flow has no targeting.", param: "targeting")
        }
        return try document.validated(phraseKeys: self.phraseKeys)
    }
}

extension FlowDocument {
    /// The default flow an organization's settings from before flows were documents describe:
    /// its survey reasons, its one offer for every reason, and its cancel timing.
    public init(legacy settings: FlowSettings) {
        let offer: FlowOffer? =
            switch settings.offer {
            case .none: nil
            case .pause(let months): FlowOffer(id: "pause", type: .pause, months: months)
            case .discount(let percent, let months): FlowOffer(id: "discount", type: .discount, percent: percent, months: months)
            }
        self.init(
            name: "Default", cancelTiming: settings.cancelTiming,
            survey: FlowSurvey(
                reasons: settings.surveyReasons.enumerated().map {
                    FlowReason(id: "reason_\($0.offset + 1)", label: Catalogue.standardReason($0.element) ?? LocalizedText($0.element))
                }),
            offers: offer.map { [$0] } ?? [], fallbackOffer: offer?.id)
    }
}

extension FlowDocument {
    /// This document with the survey, offer and timing the settings form describes: one survey,
    /// one offer for every reason, no test. Reasons whose text is unchanged keep their ids and
    /// translations; everything else the settings do not describe (name, texts) stays.
    public func applyingLegacy(_ settings: FlowSettings) -> FlowDocument {
        let legacy = FlowDocument(legacy: settings)
        var copy = self
        var used = Set<String>()
        var reasons: [FlowReason] = []
        for reason in legacy.survey.reasons {
            let text = reason.label.text(for: "en")
            if let same = self.survey.reasons.first(where: { $0.label.text(for: "en") == text && !used.contains($0.id) }) {
                used.insert(same.id)
                reasons.append(FlowReason(id: same.id, label: same.label))
            } else {
                reasons.append(FlowReason(id: "", label: reason.label))
            }
        }
        var next = 1
        for index in reasons.indices where reasons[index].id.isEmpty {
            while used.contains("reason_\(next)") || self.survey.reasons.contains(where: { $0.id == "reason_\(next)" }) { next += 1 }
            reasons[index].id = "reason_\(next)"
            used.insert(reasons[index].id)
        }
        copy.survey = FlowSurvey(question: self.survey.question, reasons: reasons, comment: self.survey.comment)
        copy.offers = legacy.offers
        copy.fallbackOffer = legacy.fallbackOffer
        copy.cancelTiming = settings.cancelTiming
        copy.variants = []
        return copy
    }
}
