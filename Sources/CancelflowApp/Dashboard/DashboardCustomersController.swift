import CancelflowCore
import Foundation
import Hummingbird
import Logging

/// Customers, their Cancel Links, and Generate Cancel Link: everything a support person needs.
struct DashboardCustomersController: Sendable {
    let customers: CustomerService
    let links: CancelLinkService
    let organizations: OrganizationService
    let auth: DashboardAuthService
    let audit: AuditService
    let idempotency: any IdempotencyStore
    let pages: DashboardPages
    let metrics: AppMetrics
    let time: any TimeSource

    /// The modal's presets (seed: "from 1 hour to 30 days").
    static let presets: [TimeInterval] = [3600, 6 * 3600, 24 * 3600, 3 * 86400, 7 * 86400, 30 * 86400]
    static let pageSize = 25

    func addRoutes(to group: RouterGroup<DashboardRequestContext>) {
        for mode in Mode.allCases {
            let base = group.group(RouterPath(mode.rawValue))
            base.get("customers") { request, context in try await self.list(request, context, mode: mode) }
            base.get("customers/:id") { request, context in try await self.show(request, context, mode: mode) }
            base.get("customers/:id/generate") { request, context in try await self.generatePage(request, context, mode: mode) }
            base.post("customers/:id/links") { request, context in try await self.generate(request, context, mode: mode) }
            base.post("links/:id/revoke") { request, context in try await self.revoke(request, context, mode: mode) }
        }
    }

    func list(_ request: Request, _ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.customers)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let query = request.uri.queryParameters.get("q") ?? ""
        let after = request.uri.queryParameters.get("after").flatMap { $0.isEmpty ? nil : $0 }
        let found = try await self.customers.search(
            organizationID: organization.id, mode: mode, query: query, limit: Self.pageSize, startingAfter: after)
        let provider = try await self.customers.providerKind(organizationID: organization.id, mode: mode)
        let base = "/dashboard/\(mode.rawValue)"
        return self.pages.render(
            "dash-customers",
            [
                "title": "Customers", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "customers"),
                "query": query, "searched": !query.isEmpty, "searchOnly": found.searchOnly, "providerName": provider.displayName,
                "searchLabel": found.searchOnly ? "Email address or customer id" : "Search by id, email or name",
                "hasCustomers": !found.customers.isEmpty,
                "customers": found.customers.map { customer -> [String: Any] in
                    [
                        "href": "\(base)/customers/\(Self.escape(customer.id))", "name": customer.name ?? customer.email ?? customer.id,
                        "email": customer.email ?? "", "id": customer.id,
                    ]
                },
                "nextURL": found.nextCursor.map { "\(base)/customers?q=\(Self.escape(query))&after=\(Self.escape($0))" } as Any,
            ])
    }

    func show(_ request: Request, _ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.customers)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let record = try await self.record(organizationID: organization.id, mode: mode, context: context)
        let before = request.uri.queryParameters.get("links_after").flatMap { $0.isEmpty ? nil : $0 }
        let page = try await self.links.links(
            organizationID: organization.id, mode: mode, customerID: record.customer.id, limit: Self.pageSize, startingAfter: before)
        let team = Dictionary(uniqueKeysWithValues: try await self.auth.team(organizationID: organization.id).map { ($0.id, $0.label) })
        let now = self.time.now()
        let base = "/dashboard/\(mode.rawValue)"
        let customerURL = "\(base)/customers/\(Self.escape(record.customer.id))"
        var values = self.customerValues(record, organization: organization, mode: mode, context: context)
        values["title"] = record.customer.name ?? record.customer.id
        values["frame"] = self.pages.frame(context, organization: organization, mode: mode, section: "customers")
        values["generateURL"] = customerURL + "/generate"
        values["hasSubscriptions"] = !record.subscriptions.isEmpty
        values["subscriptions"] = record.subscriptions.map { subscription -> [String: Any] in
            [
                "plan": subscription.planName ?? "Subscription",
                "status": subscription.status.rawValue + (subscription.cancelAtPeriodEnd ? " (ends at period end)" : ""),
                "price": SubscriptionView.price(subscription, Phrases(.english, brand: organization.name)) ?? "",
                "periodEnd": subscription.currentPeriodEnd.map(DashboardPages.time) ?? "",
                "id": subscription.id,
            ]
        }
        values["hasLinks"] = !page.links.isEmpty
        values["links"] = page.links.map { link -> [String: Any] in
            let status = link.status(at: now)
            let exchanged: String =
                if let consumed = link.consumedAt { DashboardPages.time(consumed) } else if link.exchangeCount > 0 {
                    "\(link.exchangeCount) time\(link.exchangeCount == 1 ? "" : "s")"
                } else { "—" }
            return [
                "id": link.id, "status": status.rawValue, "singleUse": link.singleUse, "created": DashboardPages.time(link.createdAt),
                "expires": DashboardPages.time(link.expiresAt), "exchanged": exchanged,
                "by": link.mintedByUserID.map { team[$0] ?? "a former user" } ?? "API",
                "revocable": status == .active, "revokeURL": "\(base)/links/\(Self.escape(link.id))/revoke",
            ]
        }
        let moreLinks = page.hasMore ? page.links.last.map { "\(customerURL)?links_after=\(Self.escape($0.id))" } : nil
        values["moreLinksURL"] = moreLinks as Any
        let revoked = request.uri.queryParameters.get("revoked") != nil
        values["notice"] = (revoked ? "The link was revoked; it no longer opens the flow." : nil) as String? as Any
        return self.pages.render("dash-customer", values)
    }

    func generatePage(_ request: Request, _ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.customers)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let record = try await self.record(organizationID: organization.id, mode: mode, context: context)
        var values = self.customerValues(record, organization: organization, mode: mode, context: context)
        values["title"] = "Generate Cancel Link"
        values["frame"] = self.pages.frame(context, organization: organization, mode: mode, section: "customers")
        values["customerURL"] = "/dashboard/\(mode.rawValue)/customers/\(Self.escape(record.customer.id))"
        return self.pages.render("dash-generate", values)
    }

    /// Mints through `CancelLinkService.mint`, the API's own path (same checks, event and
    /// webhooks), with the expiry from the presets only. The form's nonce is claimed first, so a
    /// double click or a resubmitted form mints one link, never two.
    func generate(_ request: Request, _ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.customers)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let customerID = context.pathID()
        let form = context.form
        guard let seconds = form["expiresIn"].flatMap(Int.init).map(TimeInterval.init), Self.choices(organization).contains(seconds) else {
            throw CancelflowError.invalid("invalid_expiry", "Choose one of the offered expiry times.", param: "expiresIn")
        }
        let subscriptionID = form["subscriptionId"].flatMap { $0.isEmpty ? nil : $0 }
        let singleUse = form["singleUse"] == "true"
        let nonce = form["nonce"] ?? ""
        guard nonce.utf8.count == 26, nonce.utf8.allSatisfy(Base32.alphabetContains) else {
            throw CancelflowError.invalid("invalid_form", "The form could not be read.")
        }
        let now = self.time.now()
        let key = "dashboard:\(nonce)"
        let claim = try await self.idempotency.claimIdempotencyKey(
            organizationID: organization.id, mode: mode, key: key,
            fingerprint: Hex.sha256("\(customerID)|\(seconds)|\(subscriptionID ?? "")|\(singleUse)"),
            now: now, staleBefore: now.addingTimeInterval(-RetentionService.idempotencyWindow))
        switch claim {
        case .claimed:
            break
        case .completed(_, let body):
            return try await self.alreadyGenerated(
                linkID: String(decoding: body, as: UTF8.self), context: context, organization: organization, mode: mode)
        case .inProgress, .mismatch:
            return try await self.alreadyGenerated(linkID: nil, context: context, organization: organization, mode: mode)
        }
        let minted: CancelLinkService.MintedLink
        do {
            minted = try await self.links.mint(
                organization: organization, mode: mode,
                request: .init(
                    customerID: customerID, subscriptionID: subscriptionID, expiresAt: now.addingTimeInterval(seconds), singleUse: singleUse,
                    mintedByUserID: context.user.id))
        } catch {
            try? await self.idempotency.releaseIdempotencyKey(organizationID: organization.id, mode: mode, key: key)
            throw error
        }
        self.metrics.minted(mode)
        try await self.idempotency.completeIdempotencyKey(
            organizationID: organization.id, mode: mode, key: key, result: IdempotentResult(status: 201, sealedBody: Array(minted.link.id.utf8)))
        await self.audit.record(
            organizationID: organization.id, mode: mode, actor: context.actor, action: "link.generated", targetType: "cancel_link",
            targetID: minted.link.id,
            detail: [
                "customer_id": customerID, "expires_in": DashboardPages.duration(seconds), "single_use": String(singleUse),
                "subscription_id": subscriptionID ?? "",
            ])
        let name = try? await self.customers.customer(organizationID: organization.id, mode: mode, id: customerID).customer.name
        return self.pages.render(
            "dash-link-created",
            [
                "title": "Cancel Link generated", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "customers"),
                "name": (name ?? nil) ?? customerID, "url": minted.url, "id": minted.link.id, "singleUse": singleUse,
                "expires": DashboardPages.time(minted.link.expiresAt),
                "customerURL": "/dashboard/\(mode.rawValue)/customers/\(Self.escape(customerID))",
            ], status: .created)
    }

    func alreadyGenerated(linkID: String?, context: DashboardRequestContext, organization: Organization, mode: Mode) async throws -> Response {
        self.pages.render(
            "dash-message",
            [
                "title": "Already generated", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "customers"),
                "heading": "This form was already submitted",
                "message": (linkID.map { "It generated link \($0); its URL was shown once, when it was made." } ?? "The link is being generated.")
                    + " If you need another link, open the customer and generate a new one.",
            ], status: .conflict)
    }

    func revoke(_ request: Request, _ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.customers)
        let organizationID = context.user.organizationID
        let id = context.pathID()
        let link = try await self.links.revoke(organizationID: organizationID, mode: mode, id: id)
        await self.audit.record(
            organizationID: organizationID, mode: mode, actor: context.actor, action: "link.revoked", targetType: "cancel_link", targetID: link.id,
            detail: ["customer_id": link.customerID])
        return DashboardPages.redirect(
            "/dashboard/\(mode.rawValue)/customers/\(Self.escape(link.customerID))?revoked=1")
    }

    // MARK: - Helpers

    /// The customer the path names, from the mode's provider; another organization's or mode's is not found.
    func record(organizationID: String, mode: Mode, context: DashboardRequestContext) async throws -> CustomerService.CustomerRecord {
        let id = context.pathID()
        try CancelLinkService.validateIdentifier(id, param: "id")
        return try await self.customers.customer(organizationID: organizationID, mode: mode, id: id)
    }

    /// The expiry choices: the presets, plus the organization's own default when it is not one.
    static func choices(_ organization: Organization) -> [TimeInterval] {
        (Self.presets + [organization.sessionLinkExpiration]).reduce(into: [TimeInterval]()) { if !$0.contains($1) { $0.append($1) } }.sorted()
    }

    func customerValues(
        _ record: CustomerService.CustomerRecord, organization: Organization, mode: Mode, context: DashboardRequestContext
    )
        -> [String: Any]
    {
        let customerPath = "/dashboard/\(mode.rawValue)/customers/\(Self.escape(record.customer.id))"
        return [
            "name": record.customer.name ?? record.customer.email ?? record.customer.id, "email": record.customer.email as Any,
            "id": record.customer.id,
            "generate": [
                "action": customerPath + "/links", "nonce": Base32.encode(SecureRandom.bytes(16)), "suffix": "",
                "presets": Self.choices(organization).map { seconds -> [String: Any] in
                    [
                        "seconds": Int(seconds), "label": DashboardPages.duration(seconds), "selected": seconds == organization.sessionLinkExpiration,
                        "isDefault": seconds == organization.sessionLinkExpiration,
                    ]
                },
                "hasSubscriptions": !record.subscriptions.isEmpty,
                "subscriptions": record.subscriptions.filter(\.status.isCancelable).map { ["id": $0.id, "plan": $0.planName ?? "Subscription"] },
            ] as [String: Any],
        ]
    }

    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
