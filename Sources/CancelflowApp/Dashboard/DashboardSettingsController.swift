import CancelflowCore
import Foundation
import Hummingbird
import Logging

/// Settings → API keys and billing provider, Hosted → Setup, the team and the audit log.
struct DashboardSettingsController: Sendable {
    let credentials: CredentialService
    let billingAccounts: BillingAccountService
    let customers: CustomerService
    let organizations: OrganizationService
    let auth: DashboardAuthService
    let audit: AuditService
    let pages: DashboardPages
    let once: FormOnce
    let picker: DomainPicker
    let subdomainBase: String?
    let time: any TimeSource

    /// The rotation grace periods offered (seed: now, 1 hour, 24 hours, 7 days).
    static let graces: [TimeInterval] = [0, 3600, 86400, 7 * 86400]
    /// The session link expirations offered (1 hour to 7 days).
    static let expirations: [TimeInterval] = [3600, 2 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 3 * 86400, 7 * 86400]
    static let offers = [
        "none", "pause:1", "pause:2", "pause:3", "discount:10:3", "discount:20:3", "discount:25:3", "discount:30:3", "discount:50:1",
        "discount:50:3",
    ]

    func addRoutes(to group: RouterGroup<DashboardRequestContext>) {
        for mode in Mode.allCases {
            let base = group.group(RouterPath(mode.rawValue))
            base.get("settings/keys") { _, context in try await self.keys(context, mode: mode) }
            base.post("settings/keys/create") { _, context in try await self.createKey(context, mode: mode) }
            base.post("settings/keys/rotate") { _, context in try await self.rotateKey(context, mode: mode) }
            base.post("settings/keys/:id/revoke") { _, context in try await self.revokeKey(context, mode: mode) }
            base.get("settings/billing") { _, context in try await self.billing(context, mode: mode) }
            base.post("settings/billing") { _, context in try await self.saveBilling(context, mode: mode) }
            base.post("settings/billing/test") { _, context in try await self.testBilling(context, mode: mode) }
            base.get("hosted/setup") { request, context in
                try await self.hosted(context, mode: mode, notice: request.uri.queryParameters.get("saved") != nil ? "Saved." : nil)
            }
            base.post("hosted/setup") { _, context in try await self.saveHosted(context, mode: mode) }
            base.get("team") { _, context in try await self.team(context, mode: mode) }
            base.post("team/invite") { _, context in try await self.invite(context, mode: mode) }
            base.post("team/:id/role") { _, context in try await self.changeRole(context, mode: mode) }
            base.post("team/:id/disable") { _, context in try await self.setDisabled(context, mode: mode, disabled: true) }
            base.post("team/:id/enable") { _, context in try await self.setDisabled(context, mode: mode, disabled: false) }
            base.post("team/:id/sign-out") { _, context in try await self.signOutMember(context, mode: mode) }
            base.get("audit") { request, context in try await self.auditLog(request, context, mode: mode) }
        }
    }

    func organization(_ context: DashboardRequestContext) async throws -> Organization {
        try await self.organizations.organization(id: context.user.organizationID)
    }

    // MARK: - API keys

    func keys(_ context: DashboardRequestContext, mode: Mode, error: String? = nil, notice: String? = nil) async throws -> Response {
        try context.require(.keys)
        let organization = try await self.organization(context)
        let (appID, keys) = try await self.credentials.keys(organizationID: organization.id, mode: mode)
        let now = self.time.now()
        return self.pages.render(
            "dash-keys",
            [
                "title": "API keys", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "keys"),
                "modeName": mode.rawValue, "appID": appID, "error": error as Any, "notice": notice as Any,
                "keys": keys.map { key -> [String: Any] in
                    let state: String
                    if let end = key.expiresAt {
                        state = end > now ? "Stops \(DashboardPages.time(end))" : "Stopped \(DashboardPages.time(end))"
                    } else {
                        state = "Active"
                    }
                    return [
                        "id": key.id, "masked": "\(APIKeyFormat.prefix(for: mode))…\(key.hint)", "created": DashboardPages.time(key.createdAt),
                        "state": state, "revocable": key.expiresAt.map { $0 > now } ?? true,
                    ]
                },
            ], status: error == nil ? .ok : .unprocessableContent)
    }

    func keyShown(
        _ context: DashboardRequestContext, organization: Organization, mode: Mode, issued: IssuedCredentials, detail: String
    )
        -> Response
    {
        self.pages.render(
            "dash-secret-shown",
            [
                "title": "New API key", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "keys"),
                "heading": "New \(mode.rawValue) API key", "intro": "Put it in your backend's environment, beside the App ID \(issued.appId).",
                "secret": issued.apiKey, "detail": detail, "backURL": "/dashboard/\(mode.rawValue)/settings/keys", "backText": "Back to API keys",
            ], status: .created)
    }

    func createKey(_ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.keys)
        let organization = try await self.organization(context)
        guard
            let issued = try await self.once.run(
                nonce: context.form["nonce"], organizationID: organization.id, mode: mode, form: "key-create",
                { try await self.credentials.createKey(organizationID: organization.id, mode: mode) })
        else { return self.alreadySubmitted(context, organization, mode, section: "keys", back: "settings/keys") }
        await self.audit.record(
            organizationID: organization.id, mode: mode, actor: context.actor, action: "key.created", targetType: "api_key",
            detail: ["key": "…" + APIKeyFormat.hint(issued.apiKey)])
        return self.keyShown(context, organization: organization, mode: mode, issued: issued, detail: "The other keys keep working.")
    }

    func rotateKey(_ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.keys)
        let organization = try await self.organization(context)
        guard let grace = context.form["grace"].flatMap(Int.init).map(TimeInterval.init), Self.graces.contains(grace) else {
            throw CancelflowError.invalid("grace_invalid", "Choose one of the offered grace periods.", param: "grace")
        }
        guard
            let issued = try await self.once.run(
                nonce: context.form["nonce"], organizationID: organization.id, mode: mode, form: "key-rotate",
                { try await self.credentials.rotateKey(organizationID: organization.id, mode: mode, grace: grace) })
        else { return self.alreadySubmitted(context, organization, mode, section: "keys", back: "settings/keys") }
        let when = grace == 0 ? "now" : "in \(DashboardPages.duration(grace))"
        await self.audit.record(
            organizationID: organization.id, mode: mode, actor: context.actor, action: "key.rotated", targetType: "api_key",
            detail: ["key": "…" + APIKeyFormat.hint(issued.apiKey), "older_keys_stop": when])
        return self.keyShown(context, organization: organization, mode: mode, issued: issued, detail: "The older keys stop working \(when).")
    }

    func revokeKey(_ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.keys)
        let organization = try await self.organization(context)
        let id = context.pathID()
        try await self.credentials.revokeKey(organizationID: organization.id, mode: mode, keyID: id)
        await self.audit.record(
            organizationID: organization.id, mode: mode, actor: context.actor, action: "key.revoked", targetType: "api_key", targetID: id)
        return try await self.keys(context, mode: mode, notice: "The key was revoked; it stops working on every instance within seconds.")
    }

    func alreadySubmitted(
        _ context: DashboardRequestContext, _ organization: Organization, _ mode: Mode, section: String, back: String
    )
        -> Response
    {
        self.pages.alreadySubmitted(
            self.pages.frame(context, organization: organization, mode: mode, section: section), backURL: "/dashboard/\(mode.rawValue)/\(back)")
    }

    // MARK: - Billing provider

    func billing(_ context: DashboardRequestContext, mode: Mode, error: String? = nil, notice: String? = nil) async throws -> Response {
        try context.require(.keys)
        let organization = try await self.organization(context)
        let account = try await self.billingAccounts.account(organizationID: organization.id, mode: mode)
        return self.pages.render(
            "dash-billing",
            [
                "title": "Billing provider", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "billing"),
                "modeName": mode.rawValue, "providerName": account.provider.displayName, "keyHint": account.keyHint as Any,
                "apiBase": account.apiBase as Any, "error": error as Any, "notice": notice as Any,
                "providers": BillingProviderKind.allCases.map {
                    ["value": $0.rawValue, "label": $0.displayName, "selected": $0 == account.provider]
                },
                "pauseBehaviors": StripePauseBehavior.allCases.map {
                    ["value": $0.rawValue, "label": $0.rawValue.replacingOccurrences(of: "_", with: " "), "selected": $0 == account.pauseBehavior]
                },
            ], status: error == nil ? .ok : .unprocessableContent)
    }

    func saveBilling(_ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.keys)
        let organization = try await self.organization(context)
        guard let provider = context.form["provider"].flatMap(BillingProviderKind.init(rawValue:)) else {
            throw CancelflowError.invalid("provider_invalid", "Choose a provider.", param: "provider")
        }
        let key = (context.form["secretKey"] ?? "").trimmingCharacters(in: .whitespaces)
        let pause = context.form["pauseBehavior"].flatMap(StripePauseBehavior.init(rawValue:))
        let base = (context.form["apiBase"] ?? "").trimmingCharacters(in: .whitespaces)
        do {
            let account = try await self.billingAccounts.configure(
                organizationID: organization.id, mode: mode,
                .init(
                    provider: provider, secretKey: provider == .builtin || key.isEmpty ? nil : key,
                    apiBase: provider == .builtin ? nil : base, pauseBehavior: pause))
            await self.audit.record(
                organizationID: organization.id, mode: mode, actor: context.actor, action: "billing.configured", targetType: "billing_provider",
                detail: [
                    "provider": provider.rawValue, "key": account.keyHint ?? "", "key_replaced": String(!key.isEmpty),
                    "api_base": account.apiBase ?? "",
                ])
        } catch let error as CancelflowError where error.kind == .invalidRequest || error.kind == .unprocessable {
            return try await self.billing(context, mode: mode, error: error.message)
        }
        return try await self.billing(context, mode: mode, notice: "Saved. Use “Test connection” to check the key.")
    }

    func testBilling(_ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.keys)
        let organization = try await self.organization(context)
        do {
            let kind = try await self.customers.testConnection(organizationID: organization.id, mode: mode)
            return try await self.billing(
                context, mode: mode,
                notice: kind == .builtin ? "The built-in provider needs no connection." : "Connected: \(kind.displayName) accepted the key.")
        } catch let error as CancelflowError where error.kind != .internal {
            return try await self.billing(context, mode: mode, error: "The connection failed: \(error.message)")
        }
    }

    // MARK: - Hosted → Setup

    func hosted(
        _ context: DashboardRequestContext, mode: Mode, error: String? = nil, notice: String? = nil, form: FormBody? = nil
    )
        async throws -> Response
    {
        try context.require(.settings)
        let organization = try await self.organization(context)
        let settings = try await self.organizations.flowSettings(organizationID: organization.id)
        // Only an offered value is drawn back into the form (a submitted "nan" or "1e300" is not a number of seconds).
        let expiration = form?["sessionLinkExpiration"].flatMap(Self.offeredExpiration) ?? organization.sessionLinkExpiration
        let offer = form?["offer"] ?? settings.offer.text
        let timing = form?["cancelTiming"] ?? settings.cancelTiming.rawValue
        let service = self.picker.publicURL.host ?? ""
        var unverified = organization
        unverified.customDomainVerified = false
        return self.pages.render(
            "dash-hosted",
            [
                "title": "Hosted setup", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "hosted"),
                "error": error as Any, "notice": notice as Any, "orgID": organization.id, "subdomainBase": self.subdomainBase as Any,
                "expirations": (Self.expirations + (Self.expirations.contains(expiration) ? [] : [expiration])).sorted().map {
                    seconds -> [String: Any] in
                    ["seconds": Int(seconds), "label": DashboardPages.duration(seconds), "selected": seconds == expiration]
                },
                "allowlist": form?["returnUrlAllowlist"] ?? organization.returnURLAllowlist.joined(separator: "\n"),
                "subdomain": form?["subdomain"] ?? organization.subdomain ?? "",
                "customDomain": form?["customDomain"] ?? organization.customDomain ?? "",
                "verified": organization.customDomainVerified, "serviceHost": service,
                "fallbackHost": URL(string: self.picker.origin(for: unverified))?.host ?? service,
                "name": form?["name"] ?? organization.name, "brandColor": form?["brandColor"] ?? settings.brandColor,
                "logoURL": form?["logoUrl"] ?? settings.logoURL ?? "",
                "reasons": form?["surveyReasons"] ?? settings.surveyReasons.joined(separator: "\n"),
                "offers": (Self.offers + (Self.offers.contains(offer) ? [] : [offer])).map { value -> [String: Any] in
                    ["value": value, "label": Self.offerLabel(value), "selected": value == offer]
                },
                "periodEnd": timing == CancelTiming.periodEnd.rawValue,
                "languages": Catalogue.languages.map { value -> [String: Any] in
                    let chosen = form?["defaultLocale"] ?? PageLocale.supported(settings.defaultLocale)?.language ?? "en"
                    return ["value": value, "label": DashboardTextsController.languageNames[value] ?? value, "selected": value == chosen]
                },
                "clickToCancel": form.map { $0["clickToCancel"] == "1" } ?? settings.clickToCancel,
                "previewURL": (mode == .test ? "/dashboard/test/hosted/preview" : nil) as String? as Any,
            ], status: error == nil ? .ok : .unprocessableContent)
    }

    /// A submitted expiration, when it is one of those offered.
    static func offeredExpiration(_ text: String) -> TimeInterval? {
        Int(text).map(TimeInterval.init).flatMap { Self.expirations.contains($0) ? $0 : nil }
    }

    static func offerLabel(_ text: String) -> String {
        switch RetentionOffer(text: text) {
        case .none?: "No offer"
        case .pause(let months)?: "Pause for \(months) month\(months == 1 ? "" : "s")"
        case .discount(let percent, let months)?: "\(percent)% off for \(months) month\(months == 1 ? "" : "s")"
        case nil: text
        }
    }

    /// Saves both halves, organization first: each half is validated before anything is written,
    /// so a form with a mistake in either changes nothing.
    func saveHosted(_ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.settings)
        let form = context.form
        let organization = try await self.organization(context)
        let lines = { (field: String) in (form[field] ?? "").split(whereSeparator: \.isNewline).map(String.init) }
        let setup = OrganizationService.SetupChange(
            name: form["name"] ?? "", subdomain: form["subdomain"] ?? "", customDomain: form["customDomain"] ?? "",
            sessionLinkExpiration: form["sessionLinkExpiration"].flatMap(Int.init).map(TimeInterval.init) ?? 0,
            returnURLAllowlist: lines("returnUrlAllowlist"))
        let flow = OrganizationService.FlowSettingsChange(
            surveyReasons: lines("surveyReasons"), offer: form["offer"], cancelTiming: form["cancelTiming"], brandColor: form["brandColor"],
            logoURL: form["logoUrl"] ?? "", defaultLocale: form["defaultLocale"], clickToCancel: form["clickToCancel"] == "1")
        do {
            guard !flow.surveyReasons.isEmpty else {
                throw CancelflowError.invalid("survey_reasons_invalid", "Give 1 to 12 survey reasons, one per line.", param: "surveyReasons")
            }
            let before = try await self.organizations.flowSettings(organizationID: organization.id)
            let updated = try await self.organizations.updateSetup(organizationID: organization.id, setup, flow: flow)
            var detail: [String: String] = [:]
            if updated.name != organization.name { detail["name"] = updated.name }
            if updated.subdomain != organization.subdomain { detail["subdomain"] = updated.subdomain ?? "" }
            if updated.customDomain != organization.customDomain { detail["custom_domain"] = updated.customDomain ?? "" }
            if updated.sessionLinkExpiration != organization.sessionLinkExpiration {
                detail["session_link_expiration"] = DashboardPages.duration(updated.sessionLinkExpiration)
            }
            if let locale = flow.defaultLocale, locale != (before.defaultLocale ?? "") { detail["default_locale"] = locale }
            if let clickToCancel = flow.clickToCancel, clickToCancel != before.clickToCancel { detail["click_to_cancel"] = String(clickToCancel) }
            if updated.returnURLAllowlist != organization.returnURLAllowlist {
                detail["return_url_allowlist"] = updated.returnURLAllowlist.joined(separator: " ")
            }
            await self.audit.record(
                organizationID: organization.id, mode: nil, actor: context.actor, action: "settings.updated", targetType: "organization",
                targetID: organization.id, detail: detail)
        } catch let error as CancelflowError where [.invalidRequest, .unprocessable, .conflict].contains(error.kind) {
            return try await self.hosted(context, mode: mode, error: error.message, form: form)
        }
        return DashboardPages.redirect("/dashboard/\(mode.rawValue)/hosted/setup?saved=1")
    }

    // MARK: - Team

    func team(_ context: DashboardRequestContext, mode: Mode, error: String? = nil, notice: String? = nil) async throws -> Response {
        try context.require(.team)
        let organization = try await self.organization(context)
        let members = try await self.auth.team(organizationID: organization.id)
        return self.pages.render(
            "dash-team",
            [
                "title": "Team", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "team"),
                "error": error as Any, "notice": notice as Any,
                "members": members.map { member -> [String: Any] in
                    [
                        "id": member.id, "label": member.label, "name": member.name as Any, "email": member.email,
                        "disabled": member.disabledAt != nil,
                        "state": member.disabledAt != nil ? "Disabled" : (member.hasTOTP ? "Password + code" : "Password"),
                        "roles": DashboardRole.allCases.map { ["value": $0.rawValue, "label": $0.displayName, "selected": $0 == member.role] },
                    ]
                },
            ], status: error == nil ? .ok : .unprocessableContent)
    }

    func invite(_ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.team)
        let organization = try await self.organization(context)
        guard let role = context.form["role"].flatMap(DashboardRole.init(rawValue:)) else {
            throw CancelflowError.invalid("role_invalid", "Choose a role.", param: "role")
        }
        let token: String
        do {
            guard
                let made = try await self.once.run(
                    nonce: context.form["nonce"], organizationID: organization.id, mode: mode, form: "team-invite",
                    { try await self.auth.invite(organizationID: organization.id, email: context.form["email"] ?? "", role: role, by: context.actor) }
                )
            else { return self.alreadySubmitted(context, organization, mode, section: "team", back: "team") }
            token = made
        } catch let error as CancelflowError where error.kind == .unprocessable || error.kind == .conflict {
            return try await self.team(context, mode: mode, error: error.message)
        }
        return self.pages.render(
            "dash-secret-shown",
            [
                "title": "Set-up link", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "team"),
                "heading": "Set-up link", "intro": "Send this link to the person you invited; it works once, for 24 hours.",
                "secret": "\(self.publicBase)/dashboard/setup/\(token)", "backURL": "/dashboard/\(mode.rawValue)/team",
                "backText": "Back to the team",
            ], status: .created)
    }

    var publicBase: String {
        let text = self.picker.publicURL.absoluteString
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }

    func changeRole(_ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.team)
        let member = try await self.auth.member(context.pathID(), of: context.user.organizationID)
        guard let role = context.form["role"].flatMap(DashboardRole.init(rawValue:)) else {
            throw CancelflowError.invalid("role_invalid", "Choose a role.", param: "role")
        }
        do {
            try await self.auth.changeRole(of: member, to: role, by: context.user)
        } catch let error as CancelflowError where error.kind == .conflict {
            return try await self.team(context, mode: mode, error: error.message)
        }
        return try await self.team(context, mode: mode, notice: "\(member.label) is now \(role.displayName.lowercased()).")
    }

    func setDisabled(_ context: DashboardRequestContext, mode: Mode, disabled: Bool) async throws -> Response {
        try context.require(.team)
        let member = try await self.auth.member(context.pathID(), of: context.user.organizationID)
        do {
            try await self.auth.setDisabled(member, disabled: disabled, by: context.user)
        } catch let error as CancelflowError where error.kind == .conflict {
            return try await self.team(context, mode: mode, error: error.message)
        }
        if disabled, member.id == context.user.id { return DashboardPages.redirect("/dashboard/login") }
        return try await self.team(context, mode: mode, notice: "\(member.label) is \(disabled ? "disabled" : "enabled").")
    }

    func signOutMember(_ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.team)
        let member = try await self.auth.member(context.pathID(), of: context.user.organizationID)
        try await self.auth.signOutEverywhere(user: member, by: context.actor)
        if member.id == context.user.id { return DashboardPages.redirect("/dashboard/login?signed_out=everywhere") }
        return try await self.team(context, mode: mode, notice: "\(member.label) was signed out everywhere.")
    }

    // MARK: - Audit log

    static let auditActions: [(String, String)] = [
        ("", "Everything"), ("user.signed_in", "Sign-ins"), ("user.", "Accounts and team"), ("key.", "API keys"),
        ("billing.", "Billing provider"), ("settings.", "Settings"), ("link.", "Links generated and revoked"), ("webhook.", "Webhooks"),
    ]

    func auditLog(_ request: Request, _ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.audit)
        let organization = try await self.organization(context)
        let query = request.uri.queryParameters
        let action = query.get("action").flatMap { value in Self.auditActions.first { $0.0 == value }?.0 } ?? ""
        let team = try await self.auth.team(organizationID: organization.id)
        let actor = query.get("actor").flatMap { value in team.first { $0.id == value }?.id }
        let before = query.get("before").flatMap { $0.isEmpty ? nil : $0 }
        let entries = try await self.audit.entries(
            organizationID: organization.id, filter: AuditFilter(actionPrefix: action.isEmpty ? nil : action, actorUserID: actor, mode: mode),
            limit: 50,
            before: before)
        let base = "/dashboard/\(mode.rawValue)/audit"
        let next = entries.count == 50 ? entries.last.map { "\(base)?action=\(action)&actor=\(actor ?? "")&before=\($0.id)" } : nil
        return self.pages.render(
            "dash-audit",
            [
                "title": "Audit log", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "audit"),
                "actions": Self.auditActions.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == action] },
                "actors": [["value": "", "label": "anyone", "selected": actor == nil]]
                    + team.map { ["value": $0.id, "label": $0.label, "selected": $0.id == actor] as [String: Any] },
                "filtered": !action.isEmpty || actor != nil, "hasEntries": !entries.isEmpty, "nextURL": next as Any,
                "entries": entries.map { entry -> [String: Any] in
                    [
                        "at": DashboardPages.time(entry.createdAt), "actor": entry.actorLabel, "action": entry.action,
                        "target": entry.targetID.map { "\(entry.targetType ?? "") \($0)" } as Any, "mode": entry.mode?.rawValue ?? "—",
                        "detail": entry.detail.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "),
                    ]
                },
            ])
    }
}
