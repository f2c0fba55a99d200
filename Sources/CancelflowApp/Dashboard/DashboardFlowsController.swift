import CancelflowCore
import Foundation
import Hummingbird
import NIOCore

/// Cancel Flow → Flows: the organization's flows as the API has them (`/v1/flows`), edited as
/// their JSON documents. A draft is checked whole when saved, never reaches customers, and can be
/// previewed in test mode in every language; publishing keeps the previous version restorable.
/// Flows are the organization's, not a mode's; any member with the settings permission may
/// publish, and every publish, restore and archive is in the audit log.
struct DashboardFlowsController: Sendable {
    let flows: FlowConfigService
    let organizations: OrganizationService
    let audit: AuditService
    let pages: DashboardPages

    func addRoutes(to group: RouterGroup<DashboardRequestContext>) {
        for mode in Mode.allCases {
            let base = group.group(RouterPath(mode.rawValue))
            base.get("flows") { _, context in try await self.list(context, mode: mode) }
            base.post("flows") { _, context in try await self.create(context, mode: mode) }
            base.get("flows/:id") { request, context in
                try await self.show(context, mode: mode, notice: request.uri.queryParameters.get("done").map(Self.notice))
            }
            base.post("flows/:id/draft") { _, context in try await self.saveDraft(context, mode: mode) }
            base.post("flows/:id/discard") { _, context in try await self.act(context, mode: mode, "discarded") }
            base.post("flows/:id/publish") { _, context in try await self.act(context, mode: mode, "published") }
            base.post("flows/:id/restore") { _, context in try await self.act(context, mode: mode, "restored") }
            base.post("flows/:id/archive") { _, context in try await self.act(context, mode: mode, "archived") }
        }
    }

    static func notice(_ done: String) -> String {
        switch done {
        case "saved": "Draft saved. Customers still get the published version; preview the draft, then publish it."
        case "published": "Published: customers who start from now on get this version."
        case "restored": "Restored: the earlier version is published again as the newest one."
        case "discarded": "Draft discarded."
        default: "Done."
        }
    }

    func list(_ context: DashboardRequestContext, mode: Mode, error: String? = nil) async throws -> Response {
        try context.require(.settings)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let flows = try await self.flows.flows(organizationID: organization.id)
        return self.pages.render(
            "dash-flows",
            [
                "title": "Flows", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "flows"),
                "error": error as Any,
                "flows": flows.map { flow -> [String: Any] in
                    [
                        "id": flow.id, "name": flow.name, "default": flow.isDefault, "position": flow.position,
                        "version": flow.published.map { "version \($0.version)" } ?? "not published", "draft": flow.draft != nil,
                        "targeting": flow.isDefault ? "everyone else" : Self.describe(flow.published?.document ?? flow.draft),
                    ]
                },
            ], status: error == nil ? .ok : .unprocessableContent)
    }

    /// Whom a flow is for, in a few words.
    static func describe(_ document: FlowDocument?) -> String {
        guard let targeting = document?.targeting else { return "" }
        var parts: [String] = []
        if let plans = targeting.plans, !plans.isEmpty { parts.append("plans " + plans.joined(separator: ", ")) }
        if let intervals = targeting.intervals, !intervals.isEmpty { parts.append(intervals.map(\.rawValue).joined(separator: " or ") + "ly") }
        if let days = targeting.minTenureDays { parts.append("at least \(days) days in") }
        if let days = targeting.maxTenureDays { parts.append("under \(days) days in") }
        if let trial = targeting.trial { parts.append(trial ? "trialing" : "paying") }
        if let attributes = targeting.attributes, !attributes.isEmpty {
            parts.append("attributes " + attributes.keys.sorted().joined(separator: ", "))
        }
        return parts.joined(separator: "; ")
    }

    func create(_ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.settings)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let name = (context.form["name"] ?? "").trimmingCharacters(in: .whitespaces)
        // A new flow starts as a copy of the default one, for customers on a plan nobody has:
        // the merchant then says whom it is for.
        var document = try await self.flows.defaultFlow(organizationID: organization.id).published?.document ?? .standard
        document.name = name
        document.targeting = FlowTargeting(plans: ["replace-with-a-plan-id"])
        do {
            let flow = try await self.flows.create(organizationID: organization.id, document: document)
            await self.audit.record(
                organizationID: organization.id, mode: nil, actor: context.actor, action: "flow.created", targetType: "flow", targetID: flow.id,
                detail: ["name": name])
            return DashboardPages.redirect("/dashboard/\(mode.rawValue)/flows/\(flow.id)?done=saved")
        } catch let error as CancelflowError where [.invalidRequest, .conflict, .unprocessable].contains(error.kind) {
            return try await self.list(context, mode: mode, error: error.message)
        }
    }

    func show(
        _ context: DashboardRequestContext, mode: Mode, notice: String? = nil, error: String? = nil, text: String? = nil
    ) async throws
        -> Response
    {
        try context.require(.settings)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let flow = try await self.flows.flow(id: context.pathID(), organizationID: organization.id)
        let versions = try await self.flows.versions(id: flow.id, organizationID: organization.id)
        let editing = flow.draft ?? flow.published?.document ?? .standard
        let preview = mode == .test ? "/dashboard/test/hosted/preview?flow=\(flow.id)" : nil
        return self.pages.render(
            "dash-flow",
            [
                "title": flow.name, "frame": self.pages.frame(context, organization: organization, mode: mode, section: "flows"),
                "notice": notice as Any, "error": error as Any, "id": flow.id, "name": flow.name, "default": flow.isDefault,
                "hasDraft": flow.draft != nil,
                "published": flow.published.map { "Version \($0.version), published \(DashboardPages.time($0.publishedAt))" } as Any,
                "document": text ?? Self.pretty(editing),
                "previews": preview.map { url in
                    ["landing", "survey", "offer", "confirm"].flatMap { step in
                        Catalogue.languages.map { ["href": "\(url)&step=\(step)&lang=\($0)", "label": "\(step) (\($0))"] }
                    }
                } as Any,
                "versions": versions.reversed().map { version -> [String: Any] in
                    [
                        "version": version.version, "at": DashboardPages.time(version.publishedAt), "by": version.publishedBy ?? "first version",
                        "current": version.version == flow.published?.version,
                    ]
                },
            ], status: error == nil ? .ok : .unprocessableContent)
    }

    func saveDraft(_ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.settings)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let text = context.form["document"] ?? ""
        do {
            let document = try JSONBody.decode(
                FlowDocument.self, from: ByteBuffer(string: text), allowedKeys: FlowsController.documentKeys)
            let flow = try await self.flows.saveDraft(id: context.pathID(), organizationID: organization.id, document: document)
            await self.audit.record(
                organizationID: organization.id, mode: nil, actor: context.actor, action: "flow.draft_saved", targetType: "flow", targetID: flow.id)
            return DashboardPages.redirect("/dashboard/\(mode.rawValue)/flows/\(flow.id)?done=saved")
        } catch let error as CancelflowError where error.kind == .invalidRequest {
            // The text stays as typed, with the field at fault named.
            let message = error.param.map { "\(error.message) (at \($0))" } ?? error.message
            return try await self.show(context, mode: mode, error: message, text: text)
        }
    }

    /// Discard, publish, restore (`version`) or archive, each recorded in the audit log.
    func act(_ context: DashboardRequestContext, mode: Mode, _ done: String) async throws -> Response {
        try context.require(.settings)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let id = context.pathID()
        let by = "dashboard:\(context.user.id)"
        do {
            var detail: [String: String] = [:]
            switch done {
            case "discarded": _ = try await self.flows.discardDraft(id: id, organizationID: organization.id)
            case "published":
                detail["version"] = String(try await self.flows.publish(id: id, organizationID: organization.id, by: by).published?.version ?? 0)
            case "restored":
                guard let version = context.form["version"].flatMap(Int.init) else {
                    throw CancelflowError.invalid("version_invalid", "Choose a version to restore.", param: "version")
                }
                detail["from_version"] = String(version)
                _ = try await self.flows.restore(id: id, organizationID: organization.id, version: version, by: by)
            default:
                try await self.flows.archive(id: id, organizationID: organization.id)
            }
            await self.audit.record(
                organizationID: organization.id, mode: nil, actor: context.actor, action: "flow.\(done)", targetType: "flow", targetID: id,
                detail: detail)
        } catch let error as CancelflowError where [.invalidRequest, .conflict, .unprocessable, .notFound].contains(error.kind) {
            return try await self.show(context, mode: mode, error: error.message)
        }
        if done == "archived" { return DashboardPages.redirect("/dashboard/\(mode.rawValue)/flows") }
        return DashboardPages.redirect("/dashboard/\(mode.rawValue)/flows/\(id)?done=\(done)")
    }

    static func pretty(_ document: FlowDocument) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(document)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
