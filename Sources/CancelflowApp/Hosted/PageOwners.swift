import CancelflowCore
import Hummingbird

/// Whose page a verification or mailbox request is for: from `?org=APP_ID` (which must be
/// served on one of that organization's hosts), else from the merchant's custom domain or
/// subdomain, in live mode.
struct PageOwners: Sendable {
    let organizations: OrganizationService
    let site: HostedSite

    /// The organization and mode the request is for, or nil when it names none.
    func target(_ request: Request, _ context: AppRequestContext, appID: String?) async throws -> VerifyTarget? {
        let host = self.site.host(of: request, peer: context.remoteIP)
        let organization: Organization
        let mode: Mode
        if let appID, !appID.isEmpty {
            guard let (found, foundMode) = try await self.organizations.owner(appID: appID), self.site.picker.accepts(host: host, for: found)
            else { return nil }
            organization = found
            mode = foundMode
        } else {
            guard let found = try await self.organizations.organization(host: self.site.picker.owner(ofHost: host)) else { return nil }
            organization = found
            mode = .live
        }
        let settings = try await self.organizations.flowSettings(organizationID: organization.id)
        return VerifyTarget(organization: organization, mode: mode, settings: settings, appID: appID?.isEmpty == false ? appID : nil)
    }
}

/// Whose hosted page (verification, mailbox) a request is for.
struct VerifyTarget: Sendable {
    let organization: Organization
    let mode: Mode
    let settings: FlowSettings
    /// The App ID the page carries in `?org=`; nil on the merchant's own host in live mode.
    let appID: String?

    var brand: BrandView { BrandView(self.organization, self.settings) }
    /// What the email form's CSRF value is bound to.
    var key: String { "\(self.organization.id)|\(self.mode.rawValue)" }
    var query: String { self.appID.map { "?org=\($0)" } ?? "" }
}
