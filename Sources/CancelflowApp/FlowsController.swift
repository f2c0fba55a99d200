import CancelflowAPI
import CancelflowCore
import Foundation
import Hummingbird

/// `/v1/flows`: an organization's flows as documents. Flows belong to the organization, not to
/// a mode: what a merchant tries with test links is what live customers get. So a test key,
/// often held by CI and developers' machines, may read flows and create and edit drafts, but
/// only a live key may change what customers get (publish, restore, move, archive).
struct FlowsController: Sendable {
    let flows: FlowConfigService
    /// How long a client has to send a request body.
    let readTimeout: Duration

    static let documentKeys = Set(FlowDocument.fieldNames)

    struct Restore: Decodable {
        var version: Int
        static let allowedKeys: Set<String> = ["version"]
    }

    struct Move: Decodable {
        var position: Int
        static let allowedKeys: Set<String> = ["position"]
    }

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get(use: self.list)
        group.post(use: self.create)
        group.get(":id", use: self.show)
        group.delete(":id", use: self.archive)
        group.put(":id/draft", use: self.saveDraft)
        group.delete(":id/draft", use: self.discardDraft)
        group.post(":id/publish", use: self.publish)
        group.get(":id/versions", use: self.versions)
        group.post(":id/restore", use: self.restore)
        group.post(":id/move", use: self.move)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let flows = try await self.flows.flows(organizationID: context.identity.organizationID)
        return JSONBody.response(
            WebhooksController.Wrapper(json: .object([("object", .string("list")), ("data", .array(try flows.map(Self.view)))])))
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let document = try await self.document(request)
        let flow = try await self.flows.create(organizationID: context.identity.organizationID, document: document)
        return JSONBody.response(WebhooksController.Wrapper(json: try Self.view(flow)), status: .created)
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let flow = try await self.flows.flow(id: try context.pathParameter("id"), organizationID: context.identity.organizationID)
        return JSONBody.response(WebhooksController.Wrapper(json: try Self.view(flow)))
    }

    @Sendable func archive(_ request: Request, context: APIRequestContext) async throws -> Response {
        try Self.requireLive(context)
        let id = try context.pathParameter("id")
        try await self.flows.archive(id: id, organizationID: context.identity.organizationID)
        return JSONBody.response(WebhooksController.Wrapper(json: .object([("id", .string(id)), ("archived", .bool(true))])))
    }

    @Sendable func saveDraft(_ request: Request, context: APIRequestContext) async throws -> Response {
        let document = try await self.document(request)
        let flow = try await self.flows.saveDraft(
            id: try context.pathParameter("id"), organizationID: context.identity.organizationID, document: document)
        return JSONBody.response(WebhooksController.Wrapper(json: try Self.view(flow)))
    }

    @Sendable func discardDraft(_ request: Request, context: APIRequestContext) async throws -> Response {
        let flow = try await self.flows.discardDraft(id: try context.pathParameter("id"), organizationID: context.identity.organizationID)
        return JSONBody.response(WebhooksController.Wrapper(json: try Self.view(flow)))
    }

    @Sendable func publish(_ request: Request, context: APIRequestContext) async throws -> Response {
        try Self.requireLive(context)
        let flow = try await self.flows.publish(
            id: try context.pathParameter("id"), organizationID: context.identity.organizationID, by: Self.actor(context))
        return JSONBody.response(WebhooksController.Wrapper(json: try Self.view(flow)))
    }

    @Sendable func versions(_ request: Request, context: APIRequestContext) async throws -> Response {
        let versions = try await self.flows.versions(id: try context.pathParameter("id"), organizationID: context.identity.organizationID)
        return JSONBody.response(
            WebhooksController.Wrapper(json: .object([("object", .string("list")), ("data", .array(try versions.map(Self.view)))])))
    }

    @Sendable func restore(_ request: Request, context: APIRequestContext) async throws -> Response {
        try Self.requireLive(context)
        var request = request
        let body = try await JSONBody.collect(&request, within: self.readTimeout)
        let input = try JSONBody.decode(Restore.self, from: body, allowedKeys: Restore.allowedKeys)
        let flow = try await self.flows.restore(
            id: try context.pathParameter("id"), organizationID: context.identity.organizationID, version: input.version,
            by: Self.actor(context))
        return JSONBody.response(WebhooksController.Wrapper(json: try Self.view(flow)))
    }

    @Sendable func move(_ request: Request, context: APIRequestContext) async throws -> Response {
        try Self.requireLive(context)
        var request = request
        let body = try await JSONBody.collect(&request, within: self.readTimeout)
        let input = try JSONBody.decode(Move.self, from: body, allowedKeys: Move.allowedKeys)
        let flow = try await self.flows.move(
            id: try context.pathParameter("id"), organizationID: context.identity.organizationID, position: input.position)
        return JSONBody.response(WebhooksController.Wrapper(json: try Self.view(flow)))
    }

    func document(_ request: Request) async throws -> FlowDocument {
        var request = request
        let body = try await JSONBody.collect(&request, within: self.readTimeout)
        return try JSONBody.decode(FlowDocument.self, from: body, allowedKeys: Self.documentKeys)
    }

    static func requireLive(_ context: APIRequestContext) throws {
        guard context.identity.mode == .live else {
            throw CancelflowError(
                .forbidden, code: "live_key_required",
                message: "This changes what live customers get: use a live API key. Test keys may create flows and edit drafts.")
        }
    }

    /// Who published, as the version records it: the key's mode.
    static func actor(_ context: APIRequestContext) -> String {
        "api:\(context.identity.mode.rawValue)"
    }

    static func view(_ flow: StoredFlow) throws -> OrderedJSON {
        .object([
            ("id", .string(flow.id)), ("object", .string("flow")), ("name", .string(flow.name)), ("default", .bool(flow.isDefault)),
            ("position", .int(flow.position)), ("status", .string(flow.isArchived ? "archived" : (flow.published == nil ? "draft" : "published"))),
            ("published", try flow.published.map(Self.view) ?? .null), ("draft", try flow.draft.map(Self.document) ?? .null),
            ("draftUpdatedAt", .optional(flow.draftUpdatedAt.map(Timestamp.format))), ("createdAt", .string(Timestamp.format(flow.createdAt))),
            ("updatedAt", .string(Timestamp.format(flow.updatedAt))),
        ])
    }

    static func view(_ version: FlowVersion) throws -> OrderedJSON {
        .object([
            ("version", .int(version.version)), ("publishedAt", .string(Timestamp.format(version.publishedAt))),
            ("publishedBy", .optional(version.publishedBy)), ("document", try Self.document(version.document)),
        ])
    }

    /// A document as JSON, keys sorted so the same document is always the same bytes.
    static func document(_ document: FlowDocument) throws -> OrderedJSON {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return .raw(String(decoding: try encoder.encode(document), as: UTF8.self))
    }
}
