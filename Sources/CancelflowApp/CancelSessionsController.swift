import CancelflowAPI
import CancelflowCore
import Foundation
import Hummingbird
import Synchronization

/// `/v1/cancel-sessions`: mint, read, list and revoke Cancel Links.
struct CancelSessionsController: Sendable {
    let links: CancelLinkService
    let organizations: OrganizationService
    let idempotency: IdempotencyGuard
    let metrics: AppMetrics
    let time: any TimeSource
    /// How long a client has to send a request body.
    let readTimeout: Duration

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post(use: self.create)
        group.get(use: self.list)
        group.get(":id", use: self.show)
        group.post(":id/revoke", use: self.revoke)
    }

    /// `POST /v1/cancel-sessions`.
    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let body = try await JSONBody.collect(&request, within: self.readTimeout)
        return try await self.idempotency.run(request: request, context: context, body: body) { sealer in
            let input = try JSONBody.decode(CreateCancelSessionRequest.self, from: body, allowedKeys: CreateCancelSessionRequest.allowedKeys)
            guard let expiresAt = Timestamp.parse(input.expiresAt) else {
                throw CancelflowError.invalid(
                    "parameter_invalid",
                    "expiresAt must be an ISO 8601 timestamp with a zone, e.g. 2026-06-04T12:00:00Z.",
                    param: "expiresAt"
                )
            }
            let organization = try await self.organization(context)
            // The answer is made from the link before it is stored, so that under an idempotency
            // key it is stored with the link, in the same transaction (one write, not two).
            let viewTime = self.time.now()
            let answer = AnswerBox()
            let minted = try await self.links.mint(
                organization: organization,
                mode: context.identity.mode,
                request: .init(
                    customerID: input.customerId,
                    subscriptionID: input.subscriptionId,
                    expiresAt: expiresAt,
                    singleUse: input.singleUse ?? true,
                    returnURL: input.returnUrl,
                    metadata: input.metadata ?? [:],
                    attributes: input.attributes ?? [:],
                    locale: input.locale
                ),
                completing: { minted in
                    let bytes = Self.view(minted.link, now: viewTime, url: minted.url, token: minted.token).orderedJSON.bytes
                    answer.bytes.withLock { $0 = bytes }
                    return try sealer?.seal(.created, bytes)
                }
            )
            context.logger.info("Minted cancel session", metadata: ["link_id": .string(minted.link.id)])
            self.metrics.minted(context.identity.mode)
            guard let bytes = answer.bytes.withLock({ $0 }) else {
                throw CancelflowError(.internal, code: "internal_error", message: "The link was minted but its answer was not made.")
            }
            return IdempotencyGuard.Answer(status: .created, bytes: bytes, completedInside: sealer != nil)
        }
    }

    /// The mint's answer, made inside the mint (see `create`).
    final class AnswerBox: Sendable {
        let bytes = Mutex<[UInt8]?>(nil)
    }

    /// `GET /v1/cancel-sessions/{id}`: never shows the token.
    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try context.pathParameter("id")
        let identity = context.identity
        let link = try await self.links.link(organizationID: identity.organizationID, mode: identity.mode, id: id)
        return JSONBody.response(Self.view(link, now: self.time.now()))
    }

    /// `GET /v1/cancel-sessions?customerId=&limit=&startingAfter=`, newest first.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let customerID = query["customerId"].map(String.init)
        if let customerID { try CancelLinkService.validateIdentifier(customerID, param: "customerId") }
        var limit = 10
        if let text = query["limit"] {
            guard let value = Int(String(text)), (1...100).contains(value) else {
                throw CancelflowError.invalid("parameter_invalid", "limit must be a whole number from 1 to 100.", param: "limit")
            }
            limit = value
        }
        let startingAfter = query["startingAfter"].map(String.init)
        if let startingAfter { try CancelLinkService.validateIdentifier(startingAfter, param: "startingAfter") }
        let identity = context.identity
        let (links, hasMore) = try await self.links.links(
            organizationID: identity.organizationID,
            mode: identity.mode,
            customerID: customerID,
            limit: limit,
            startingAfter: startingAfter
        )
        let now = self.time.now()
        let page = ListPage(data: links.map { Self.view($0, now: now) }, hasMore: hasMore, nextCursor: hasMore ? links.last?.id : nil)
        return JSONBody.response(page)
    }

    /// `POST /v1/cancel-sessions/{id}/revoke`.
    @Sendable func revoke(_ request: Request, context: APIRequestContext) async throws -> Response {
        var request = request
        let body = try await JSONBody.collect(&request, within: self.readTimeout)
        let id = try context.pathParameter("id")
        return try await self.idempotency.run(request: request, context: context, body: body) {
            let identity = context.identity
            let link = try await self.links.revoke(organizationID: identity.organizationID, mode: identity.mode, id: id)
            context.logger.info("Revoked cancel session", metadata: ["link_id": .string(link.id)])
            return (.ok, Self.view(link, now: self.time.now()).orderedJSON.bytes)
        }
    }

    func organization(_ context: APIRequestContext) async throws -> Organization {
        do {
            return try await self.organizations.organization(id: context.identity.organizationID)
        } catch let error as CancelflowError where error.code == "organization_not_found" {
            // The key authenticated a moment ago and its organization is gone: as if the key were.
            throw CancelflowError(.authentication, code: "invalid_credentials", message: "The App ID and API key do not match an active key pair.")
        }
    }

    static func view(_ link: CancelLink, now: Date, url: String? = nil, token: String? = nil) -> CancelSession {
        cancelSessionBody(link, now: now, url: url, token: token)
    }
}

/// The API's view of a link; `url` and `token` only for the response that minted it. The CLI
/// prints the same shape.
public func cancelSessionBody(_ link: CancelLink, now: Date, url: String? = nil, token: String? = nil) -> CancelSession {
    var body = CancelSession(
        url: url,
        token: token,
        expiresAt: Timestamp.format(link.expiresAt),
        customerId: link.customerID,
        subscriptionId: link.subscriptionID,
        status: link.status(at: now).rawValue,
        id: link.id,
        singleUse: link.singleUse,
        livemode: link.mode.isLive,
        createdAt: Timestamp.format(link.createdAt),
        consumedAt: link.consumedAt.map(Timestamp.format),
        revokedAt: link.revokedAt.map(Timestamp.format),
        returnUrl: link.returnURL,
        metadata: link.metadata
    )
    body.attributes = link.attributes
    body.locale = link.locale
    return body
}
