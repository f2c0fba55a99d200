import CancelflowCore
import Foundation
import Hummingbird

/// Webhook endpoints (add, disable, rotate the secret, send a test event, delete) and the event
/// log with each delivery's attempts, through `WebhookService`: the same rules as the API.
struct DashboardWebhooksController: Sendable {
    let webhooks: WebhookService
    let organizations: OrganizationService
    let audit: AuditService
    let pages: DashboardPages
    let once: FormOnce

    /// The event types an endpoint may choose (`ping` is only ever sent on request).
    static let eventTypes = EventType.allCases.filter { $0 != .ping }

    func addRoutes(to group: RouterGroup<DashboardRequestContext>) {
        for mode in Mode.allCases {
            let base = group.group(RouterPath(mode.rawValue))
            base.get("webhooks") { request, context in try await self.list(request, context, mode: mode) }
            base.post("webhooks") { request, context in try await self.add(request, context, mode: mode) }
            base.get("webhooks/:id") { _, context in try await self.show(context, mode: mode, notice: nil) }
            base.post("webhooks/:id/disable") { _, context in try await self.setDisabled(context, mode: mode, disabled: true) }
            base.post("webhooks/:id/enable") { _, context in try await self.setDisabled(context, mode: mode, disabled: false) }
            base.post("webhooks/:id/rotate") { _, context in try await self.rotate(context, mode: mode) }
            base.post("webhooks/:id/test") { _, context in try await self.test(context, mode: mode) }
            base.post("webhooks/:id/delete") { _, context in try await self.delete(context, mode: mode) }
            base.get("events/:id") { _, context in try await self.event(context, mode: mode, notice: nil) }
            base.post("events/:id/resend") { _, context in try await self.resend(context, mode: mode) }
        }
    }

    func list(_ request: Request, _ context: DashboardRequestContext, mode: Mode, error: String? = nil) async throws -> Response {
        try context.require(.webhooks)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let endpoints = try await self.webhooks.endpoints(organizationID: organization.id, mode: mode)
        let after = request.uri.queryParameters.get("after").flatMap { $0.isEmpty ? nil : $0 }
        let events = try await self.webhooks.events(organizationID: organization.id, mode: mode, limit: 26, startingAfter: after)
        let base = "/dashboard/\(mode.rawValue)"
        return self.pages.render(
            "dash-webhooks",
            [
                "title": "Webhooks", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "webhooks"),
                "modeName": mode.rawValue, "error": error as Any, "hasEndpoints": !endpoints.isEmpty,
                "endpoints": endpoints.map { endpoint -> [String: Any] in
                    [
                        "href": "\(base)/webhooks/\(endpoint.id)", "url": endpoint.url, "description": endpoint.description as Any,
                        "events": Self.events(endpoint), "state": endpoint.disabledAt == nil ? "Enabled" : "Disabled",
                    ]
                },
                "eventTypes": Self.eventTypes.enumerated().map { ["index": $0.offset, "value": $0.element.rawValue] },
                "hasEvents": !events.isEmpty,
                "events": events.prefix(25).map { event -> [String: Any] in
                    [
                        "href": "\(base)/events/\(event.id)", "id": event.id, "type": event.type.rawValue,
                        "created": DashboardPages.time(event.createdAt),
                    ]
                },
                "nextURL": (events.count > 25 ? "\(base)/webhooks?after=\(events[24].id)" : nil) as String? as Any,
            ], status: error == nil ? .ok : .unprocessableContent)
    }

    static func events(_ endpoint: WebhookEndpoint) -> String {
        endpoint.events.isEmpty ? "all" : endpoint.events.map(\.rawValue).joined(separator: ", ")
    }

    func add(_ request: Request, _ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.webhooks)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let form = context.form
        let chosen = Self.eventTypes.indices.compactMap { form["event\($0)"] }
        let description = (form["description"] ?? "").trimmingCharacters(in: .whitespaces)
        let created: (WebhookEndpoint, String)
        do {
            guard
                let made = try await self.once.run(
                    nonce: form["nonce"], organizationID: organization.id, mode: mode, form: "webhook-add",
                    {
                        try await self.webhooks.createEndpoint(
                            organizationID: organization.id, mode: mode, url: (form["url"] ?? "").trimmingCharacters(in: .whitespaces),
                            events: chosen, description: description.isEmpty ? nil : description)
                    })
            else {
                return self.pages.alreadySubmitted(
                    self.pages.frame(context, organization: organization, mode: mode, section: "webhooks"),
                    backURL: "/dashboard/\(mode.rawValue)/webhooks")
            }
            created = made
        } catch let error as CancelflowError where error.kind == .invalidRequest || error.kind == .unprocessable {
            return try await self.list(request, context, mode: mode, error: error.message)
        }
        await self.audit.record(
            organizationID: organization.id, mode: mode, actor: context.actor, action: "webhook.created", targetType: "webhook_endpoint",
            targetID: created.0.id, detail: ["url": created.0.url, "events": Self.events(created.0)])
        return self.secretShown(context, organization: organization, mode: mode, endpoint: created.0, secret: created.1, heading: "Endpoint added")
    }

    func secretShown(
        _ context: DashboardRequestContext, organization: Organization, mode: Mode, endpoint: WebhookEndpoint, secret: String, heading: String
    ) -> Response {
        self.pages.render(
            "dash-secret-shown",
            [
                "title": heading, "frame": self.pages.frame(context, organization: organization, mode: mode, section: "webhooks"),
                "heading": heading, "intro": "This is the signing secret of \(endpoint.url): your receiver verifies each delivery with it.",
                "secret": secret, "backURL": "/dashboard/\(mode.rawValue)/webhooks/\(endpoint.id)", "backText": "Back to the endpoint",
            ], status: .created)
    }

    func show(_ context: DashboardRequestContext, mode: Mode, notice: String?) async throws -> Response {
        try context.require(.webhooks)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let endpoint = try await self.webhooks.endpoint(organizationID: organization.id, mode: mode, id: context.pathID())
        let base = "/dashboard/\(mode.rawValue)/webhooks/\(endpoint.id)"
        let toggle = endpoint.disabledAt == nil ? ("disable", "Disable") : ("enable", "Enable")
        return self.pages.render(
            "dash-webhook",
            [
                "title": "Webhook endpoint", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "webhooks"),
                "notice": notice as Any, "id": endpoint.id, "url": endpoint.url, "description": endpoint.description as Any,
                "events": Self.events(endpoint),
                "state": endpoint.disabledAt.map { "Disabled since \(DashboardPages.time($0))" } ?? "Enabled",
                "actions": [
                    ["action": "\(base)/test", "label": "Send a test event"], ["action": "\(base)/\(toggle.0)", "label": toggle.1],
                    ["action": "\(base)/rotate", "label": "Rotate signing secret"], ["action": "\(base)/delete", "label": "Delete"],
                ],
            ])
    }

    func setDisabled(_ context: DashboardRequestContext, mode: Mode, disabled: Bool) async throws -> Response {
        try context.require(.webhooks)
        let id = context.pathID()
        try await self.webhooks.setDisabled(organizationID: context.user.organizationID, mode: mode, id: id, disabled: disabled)
        await self.audit.record(
            organizationID: context.user.organizationID, mode: mode, actor: context.actor, action: disabled ? "webhook.disabled" : "webhook.enabled",
            targetType: "webhook_endpoint", targetID: id)
        return try await self.show(context, mode: mode, notice: disabled ? "Disabled: it gets no new events." : "Enabled.")
    }

    func rotate(_ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.webhooks)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let id = context.pathID()
        let secret = try await self.webhooks.rotateSecret(organizationID: organization.id, mode: mode, id: id)
        let endpoint = try await self.webhooks.endpoint(organizationID: organization.id, mode: mode, id: id)
        await self.audit.record(
            organizationID: organization.id, mode: mode, actor: context.actor, action: "webhook.secret_rotated", targetType: "webhook_endpoint",
            targetID: id)
        return self.secretShown(context, organization: organization, mode: mode, endpoint: endpoint, secret: secret, heading: "New signing secret")
    }

    func test(_ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.webhooks)
        let id = context.pathID()
        let eventID = try await self.webhooks.ping(organizationID: context.user.organizationID, mode: mode, id: id)
        await self.audit.record(
            organizationID: context.user.organizationID, mode: mode, actor: context.actor, action: "webhook.test_sent",
            targetType: "webhook_endpoint", targetID: id, detail: ["event": eventID])
        return DashboardPages.redirect("/dashboard/\(mode.rawValue)/events/\(eventID)")
    }

    func delete(_ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.webhooks)
        let id = context.pathID()
        try await self.webhooks.deleteEndpoint(organizationID: context.user.organizationID, mode: mode, id: id)
        await self.audit.record(
            organizationID: context.user.organizationID, mode: mode, actor: context.actor, action: "webhook.deleted",
            targetType: "webhook_endpoint", targetID: id)
        return DashboardPages.redirect("/dashboard/\(mode.rawValue)/webhooks")
    }

    func event(_ context: DashboardRequestContext, mode: Mode, notice: String?) async throws -> Response {
        try context.require(.webhooks)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let event = try await self.webhooks.event(organizationID: organization.id, mode: mode, id: context.pathID())
        let deliveries = try await self.webhooks.deliveries(of: event)
        let endpoints = Dictionary(
            uniqueKeysWithValues: try await self.webhooks.endpoints(organizationID: organization.id, mode: mode).map { ($0.id, $0.url) })
        let pretty =
            (try? JSONSerialization.jsonObject(with: Data(event.payload.utf8)))
            .flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) }
            .map { String(decoding: $0, as: UTF8.self) } ?? event.payload
        return self.pages.render(
            "dash-event",
            [
                "title": "Event", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "webhooks"),
                "notice": notice as Any, "id": event.id, "type": event.type.rawValue, "created": DashboardPages.time(event.createdAt),
                "payload": pretty,
                "deliveries": deliveries.map { delivery -> [String: Any] in
                    [
                        "endpoint": endpoints[delivery.endpointID] ?? delivery.endpointID, "status": delivery.status,
                        "nextAttempt": delivery.nextAttemptAt.map(DashboardPages.time) as Any,
                        "attempts": delivery.attempts.map { attempt -> [String: Any] in
                            [
                                "at": DashboardPages.time(attempt.attemptedAt),
                                "answer": attempt.statusCode.map { "HTTP \($0)" } ?? (attempt.error ?? "no answer"),
                                "took": "\(attempt.latencyMillis) ms", "said": attempt.responseExcerpt ?? "",
                            ]
                        },
                    ]
                },
            ])
    }

    func resend(_ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.webhooks)
        let event = try await self.webhooks.event(organizationID: context.user.organizationID, mode: mode, id: context.pathID())
        try await self.webhooks.resend(event)
        await self.audit.record(
            organizationID: context.user.organizationID, mode: mode, actor: context.actor, action: "webhook.event_resent", targetType: "event",
            targetID: event.id)
        return try await self.event(context, mode: mode, notice: "Queued again for every enabled endpoint that wants it.")
    }
}
