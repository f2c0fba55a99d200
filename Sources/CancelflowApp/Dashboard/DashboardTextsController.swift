import CancelflowCore
import Foundation
import Hummingbird

/// Hosted → Wording: every phrase of the hosted pages and customer emails, per language, with
/// the organization's own wording where it has one. A field left empty (or given the standard
/// wording) uses the standard phrase. One form per group of phrases, so that a form stays
/// well under the size a dashboard form may have.
struct DashboardTextsController: Sendable {
    let organizations: OrganizationService
    let audit: AuditService
    let pages: DashboardPages

    static let languageNames = ["en": "English", "fr": "Français", "de": "Deutsch", "es": "Español"]

    /// The groups, by a key's first part, in the order the customer meets them.
    static let groups: [(id: String, label: String, prefixes: [String])] = [
        ("pages", "Every page, landing and choice", ["page", "subscription", "landing", "choose"]),
        ("survey", "Survey and offers", ["survey", "offer"]),
        ("confirm", "Confirmation and last page", ["confirm", "done"]),
        ("ends", "Dead ends and errors", ["nothing", "kept", "expired", "problem", "error"]),
        ("verify", "Email verification", ["verify", "code"]),
        ("emails", "Emails", ["email"]),
    ]

    func addRoutes(to group: RouterGroup<DashboardRequestContext>) {
        for mode in Mode.allCases {
            let base = group.group(RouterPath(mode.rawValue))
            base.get("hosted/texts") { request, context in
                try await self.show(request, context, mode: mode, notice: request.uri.queryParameters.get("saved") != nil ? "Saved." : nil)
            }
            base.post("hosted/texts") { request, context in try await self.save(request, context, mode: mode) }
        }
    }

    static func language(_ text: String?) -> String {
        text.flatMap { Catalogue.languages.contains($0) ? $0 : nil } ?? "en"
    }

    func show(
        _ request: Request, _ context: DashboardRequestContext, mode: Mode, notice: String? = nil, error: String? = nil
    ) async throws
        -> Response
    {
        try context.require(.settings)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let settings = try await self.organizations.flowSettings(organizationID: organization.id)
        let language = Self.language(request.uri.queryParameters.get("lang") ?? context.form["lang"])
        let own = settings.texts[language] ?? [:]
        let standard = Catalogue.table(language)
        let keys = Catalogue.keys.sorted()
        return self.pages.render(
            "dash-texts",
            [
                "title": "Wording", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "hosted"),
                "notice": notice as Any, "error": error as Any, "language": language,
                "languageName": Self.languageNames[language] ?? language,
                "languages": Catalogue.languages.map { ["value": $0, "label": Self.languageNames[$0] ?? $0, "current": $0 == language] },
                "overridden": own.count,
                "previewURL": (mode == .test ? "/dashboard/test/hosted/preview?lang=\(language)" : nil) as String? as Any,
                "groups": Self.groups.map { group -> [String: Any] in
                    [
                        "id": group.id, "label": group.label,
                        "phrases": keys.filter { key in group.prefixes.contains { key.hasPrefix("\($0).") } }.map { key -> [String: Any] in
                            [
                                "key": key, "standard": standard[key] ?? "", "value": own[key] ?? "",
                                "english": language == "en" ? "" : Catalogue.table("en")[key] ?? "",
                            ]
                        },
                    ]
                },
            ], status: error == nil ? .ok : .unprocessableContent)
    }

    func save(_ request: Request, _ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.settings)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let language = Self.language(context.form["lang"])
        guard let group = Self.groups.first(where: { $0.id == context.form["group"] }) else {
            throw CancelflowError.invalid("group_invalid", "Choose a group of phrases.", param: "group")
        }
        let standard = Catalogue.table(language)
        var phrases: [String: String] = [:]
        for key in Catalogue.keys where group.prefixes.contains(where: { key.hasPrefix("\($0).") }) {
            let value = (context.form[key] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            // The standard wording typed back in is no override.
            phrases[key] = value == standard[key] ? "" : value
        }
        do {
            let updated = try await self.organizations.updateFlowSettings(
                organizationID: organization.id, .init(texts: (language, phrases)))
            await self.audit.record(
                organizationID: organization.id, mode: nil, actor: context.actor, action: "texts.updated", targetType: "organization",
                targetID: organization.id,
                detail: ["language": language, "group": group.id, "overrides": String(updated.texts[language]?.count ?? 0)])
        } catch let error as CancelflowError where error.kind == .invalidRequest {
            return try await self.show(request, context, mode: mode, error: error.message)
        }
        return DashboardPages.redirect("/dashboard/\(mode.rawValue)/hosted/texts?lang=\(language)&saved=1#\(group.id)")
    }
}
