import Foundation

/// One of an organization's flows as stored: the draft being edited and the version customers
/// get. A draft never reaches a customer; publishing makes it the next version.
public struct StoredFlow: Sendable, Equatable {
    /// `flow_…`
    public var id: String
    public var organizationID: String
    /// The default flow catches every customer no other flow targets; it cannot be archived.
    public var isDefault: Bool
    /// Where it is tried among the organization's targeted flows (lowest first); the default
    /// flow comes after all of them whatever its position.
    public var position: Int
    /// The unpublished edit, when there is one.
    public var draft: FlowDocument?
    public var draftUpdatedAt: Date?
    /// The version customers get; nil until first published.
    public var published: FlowVersion?
    /// When it was archived; customers no longer get it.
    public var archivedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, organizationID: String, isDefault: Bool, position: Int, draft: FlowDocument?, draftUpdatedAt: Date?,
        published: FlowVersion?, archivedAt: Date? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.organizationID = organizationID
        self.isDefault = isDefault
        self.position = position
        self.draft = draft
        self.draftUpdatedAt = draftUpdatedAt
        self.published = published
        self.archivedAt = archivedAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// What the dashboard and the API show as its name: the draft's, else the published one's.
    public var name: String { self.draft?.name ?? self.published?.document.name ?? "" }

    public var isArchived: Bool { self.archivedAt != nil }
}

/// A published version of a flow, kept for as long as the flow is.
public struct FlowVersion: Sendable, Equatable {
    public var version: Int
    public var document: FlowDocument
    public var publishedAt: Date
    /// Who published it: a dashboard user's id, `api` or `cli`.
    public var publishedBy: String?

    public init(version: Int, document: FlowDocument, publishedAt: Date, publishedBy: String?) {
        self.version = version
        self.document = document
        self.publishedAt = publishedAt
        self.publishedBy = publishedBy
    }
}

/// Flows as documents.
public protocol FlowDocumentStore: Sendable {
    /// The organization's flows that are not archived, targeted ones by position, the default
    /// flow last.
    func flows(organizationID: String) async throws -> [StoredFlow]
    /// The same, as choosing a session's flow reads it: cached like organizations (another
    /// instance's publish is seen within the API-key cache's lifetime; this one's at once).
    func publishedFlows(organizationID: String) async throws -> [StoredFlow]
    /// One published version.
    func flowVersion(id: String, organizationID: String, version: Int) async throws -> FlowVersion?
    /// One flow of the organization, archived ones included.
    func flow(id: String, organizationID: String) async throws -> StoredFlow?
    /// Adds a flow after the organization's others. A default flow is added only if the
    /// organization has none (two instances may try at once); returns the flow that is now the
    /// default, or the new one.
    func createFlow(_ flow: StoredFlow, now: Date) async throws -> StoredFlow
    /// Replaces (or with nil, discards) the draft; false when there is no such live flow.
    func saveFlowDraft(id: String, organizationID: String, draft: FlowDocument?, now: Date) async throws -> Bool
    /// Makes `document` the next version (clearing the draft when it was the draft) and
    /// returns the new version; nil when there is no such live flow.
    /// `clearingDraftSavedAt`: the draft's save time as read; the draft is cleared only if it is
    /// still that one (a newer save is kept), nil to leave it.
    func publishFlow(
        id: String, organizationID: String, document: FlowDocument, clearingDraftSavedAt: Date?, by: String?, now: Date
    ) async throws -> FlowVersion?
    /// Every published version, newest first.
    func flowVersions(id: String, organizationID: String) async throws -> [FlowVersion]
    /// Puts a targeted flow at `position` (0-based) among the targeted flows, moving the others
    /// down; false when there is no such live targeted flow.
    func moveFlow(id: String, organizationID: String, position: Int, now: Date) async throws -> Bool
    /// Archives a targeted flow: customers stop getting it; its versions stay for the sessions
    /// that ran them. False when there is no such live targeted flow.
    func archiveFlow(id: String, organizationID: String, now: Date) async throws -> Bool
}
