import Foundation

/// The flow a session runs, at its version, with what its variant shows.
public struct ResolvedFlow: Sendable, Equatable {
    public var run: FlowRun
    public var document: FlowDocument
    public var content: FlowContent

    public init(run: FlowRun, document: FlowDocument) {
        self.run = run
        self.document = document
        self.content = document.content(variant: run.variant)
    }
}

/// Chooses a session's flow: the first targeted flow, in the organization's order, whose
/// published version's targeting matches the customer; else the default flow. The variant
/// comes from the keyed hash, so it is the same on every instance and visit. The choice is
/// pinned on the session the first time it is made.
public struct FlowResolver: Sendable {
    let store: any CancelflowStorage
    let config: FlowConfigService
    let assigner: VariantAssigner
    /// Published versions never change, so one read is enough (bounded by count).
    let versions: ExpiringCache<FlowDocument>

    public init(store: any CancelflowStorage, config: FlowConfigService, assigner: VariantAssigner, versions: ExpiringCache<FlowDocument>) {
        self.store = store
        self.config = config
        self.assigner = assigner
        self.versions = versions
    }

    /// The session's flow, choosing and pinning it when it has none yet; returns the session
    /// as stored (with its run).
    public func resolve(_ session: FlowSession, audience: FlowAudience) async throws -> (ResolvedFlow, FlowSession) {
        if let run = session.run {
            return (try await self.resolved(run, organizationID: session.organizationID), session)
        }
        let (chosen, published) = try await self.choose(organizationID: session.organizationID, audience: audience)
        let variant = self.assigner.variant(
            of: published.document, flowID: chosen.id, organizationID: session.organizationID, customerID: session.customerID)
        let run = FlowRun(flowID: chosen.id, version: published.version, variant: variant)
        self.versions.store(published.document, Self.key(run), now: Date())
        // An ended session (from before flows, its last page reloaded) is shown a flow but not
        // given one: it never ran a variant, and must not count in a test's results.
        if session.outcome != nil { return (ResolvedFlow(run: run, document: published.document), session) }
        // Another request may have pinned the session first: its choice stands.
        let stored = try await self.store.pinFlowRun(sessionID: session.id, run) ?? session
        let pinned = stored.run ?? run
        return (try await self.resolved(pinned, organizationID: session.organizationID), stored)
    }

    /// The flow a customer would get now, without pinning anything (the landing page asks,
    /// before there is a session).
    public func choose(organizationID: String, audience: FlowAudience) async throws -> (StoredFlow, FlowVersion) {
        let flows = try await self.store.publishedFlows(organizationID: organizationID)
        var chosen = flows.first { flow in
            !flow.isDefault && (flow.published?.document.targeting?.matches(audience) ?? false)
        }
        if chosen == nil {
            chosen = flows.first(where: \.isDefault)
        }
        if chosen?.published == nil {
            chosen = try await self.config.defaultFlow(organizationID: organizationID)
        }
        guard let chosen, let published = chosen.published else {
            throw CancelflowError(.internal, code: "flow_missing", message: "The organization has no published flow.")
        }
        return (chosen, published)
    }

    /// A run's document, read once per version.
    func resolved(_ run: FlowRun, organizationID: String) async throws -> ResolvedFlow {
        if let document = self.versions.value(Self.key(run), now: Date()) {
            return ResolvedFlow(run: run, document: document)
        }
        guard let version = try await self.store.flowVersion(id: run.flowID, organizationID: organizationID, version: run.version) else {
            throw CancelflowError(.internal, code: "flow_missing", message: "The flow version this session runs is missing.")
        }
        self.versions.store(version.document, Self.key(run), now: Date())
        return ResolvedFlow(run: run, document: version.document)
    }

    static func key(_ run: FlowRun) -> String { "\(run.flowID):\(run.version)" }
}
