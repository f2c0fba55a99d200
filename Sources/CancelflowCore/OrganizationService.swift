import Foundation

/// An organization's own settings: lookup, its custom domain and its hosted flow's settings, for
/// the CLI now and the dashboard later. (Keys are `CredentialService`'s.)
public struct OrganizationService: Sendable {
    let store: any OrganizationStore & FlowStore
    let time: any TimeSource

    public init(store: any OrganizationStore & FlowStore, time: any TimeSource) {
        self.store = store
        self.time = time
    }

    /// The organization; `organization_not_found` when there is none with that id.
    public func organization(id: String) async throws -> Organization {
        guard let organization = try await self.store.organization(id: id) else {
            throw CancelflowError.notFound("organization_not_found", "No organization \(id).")
        }
        return organization
    }

    /// The organization if there is one with that id.
    public func organizationIfAny(id: String) async throws -> Organization? {
        try await self.store.organization(id: id)
    }

    /// The organization a host belongs to (its custom domain or subdomain), if any.
    public func organization(host: DomainPicker.HostOwner) async throws -> Organization? {
        try await self.store.organization(host: host)
    }

    /// The organization and mode an App ID (public: pages carry it) names, while it has a key.
    public func owner(appID: String) async throws -> (Organization, Mode)? {
        guard appID.utf8.count <= 64, let record = try await self.store.credentials(appID: appID, now: self.time.now()),
            let organization = try await self.store.organization(id: record.organizationID)
        else { return nil }
        return (organization, record.mode)
    }

    /// The App ID of an organization's mode.
    public func appID(organizationID: String, mode: Mode) async throws -> String? {
        try await self.store.appID(organizationID: organizationID, mode: mode)
    }

    /// The organization's flow settings (the defaults until it sets its own).
    public func flowSettings(organizationID: String) async throws -> FlowSettings {
        try await self.store.flowSettings(organizationID: organizationID)
    }

    /// Marks the organization's custom domain verified, so new links use it;
    /// `custom_domain_not_found` when it has none.
    public func verifyCustomDomain(organizationID: String) async throws {
        guard try await self.store.setCustomDomainVerified(organizationID: organizationID, verified: true) else {
            throw CancelflowError.notFound("custom_domain_not_found", "No organization \(organizationID) with a custom domain.")
        }
    }

    /// The organization's own settings, as Hosted → Setup edits them. Empty text clears a domain.
    public struct SetupChange: Sendable {
        public var name: String
        public var subdomain: String
        public var customDomain: String
        public var sessionLinkExpiration: TimeInterval
        public var returnURLAllowlist: [String]

        public init(name: String, subdomain: String, customDomain: String, sessionLinkExpiration: TimeInterval, returnURLAllowlist: [String]) {
            self.name = name
            self.subdomain = subdomain
            self.customDomain = customDomain
            self.sessionLinkExpiration = sessionLinkExpiration
            self.returnURLAllowlist = returnURLAllowlist
        }
    }

    /// Checks and saves the organization's own settings. A new custom domain starts unverified:
    /// links use it only after the operator confirms its DNS (`cancelflow orgs verify-domain`).
    public func updateSetup(organizationID: String, _ change: SetupChange, flow: FlowSettingsChange? = nil) async throws -> Organization {
        var organization = try await self.organization(id: organizationID)
        let name = change.name.trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(name.count), InputText.isAcceptable(name) else {
            throw CancelflowError.invalid("name_invalid", "The display name must be 1 to 100 characters.", param: "name")
        }
        let subdomain = change.subdomain.trimmingCharacters(in: .whitespaces).lowercased()
        if !subdomain.isEmpty, !CredentialService.isDNSLabel(subdomain) {
            throw CancelflowError.invalid(
                "subdomain_invalid", "A subdomain is 1 to 63 letters, digits and hyphens, not starting or ending with a hyphen.",
                param: "subdomain")
        }
        var domain = change.customDomain.trimmingCharacters(in: .whitespaces).lowercased()
        if domain.hasSuffix(".") { domain.removeLast() }
        if !domain.isEmpty, !CredentialService.isHostName(domain) {
            throw CancelflowError.invalid(
                "custom_domain_invalid", "The custom domain must be a host name such as billing.example.com.", param: "customDomain")
        }
        guard (Organization.minimumSessionLinkExpiration...Organization.maximumSessionLinkExpiration).contains(change.sessionLinkExpiration)
        else {
            throw CancelflowError.invalid(
                "session_link_expiration_invalid", "Session link expiration must be between 1 hour and 7 days.", param: "sessionLinkExpiration")
        }
        let allowlist = change.returnURLAllowlist.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard allowlist.count <= 20 else {
            throw CancelflowError.invalid("return_url_allowlist_invalid", "At most 20 return-URL hosts.", param: "returnUrlAllowlist")
        }
        if let bad = allowlist.first(where: { StrictURL.AllowlistEntry.parse($0) == nil }) {
            throw CancelflowError.invalid(
                "return_url_allowlist_invalid", "\"\(bad)\" is not a host name or an https origin.", param: "returnUrlAllowlist")
        }
        let newDomain: String? = domain.isEmpty ? nil : domain
        if newDomain != organization.customDomain { organization.customDomainVerified = false }
        organization.name = name
        organization.subdomain = subdomain.isEmpty ? nil : subdomain
        organization.customDomain = newDomain
        organization.sessionLinkExpiration = change.sessionLinkExpiration
        organization.returnURLAllowlist = allowlist
        // Both halves checked before either is written; written in one transaction.
        var settings: FlowSettings?
        if let flow { settings = try await self.merged(organizationID: organizationID, flow) }
        try await self.store.updateOrganization(organization, flowSettings: settings, now: self.time.now())
        return organization
    }

    /// A change to the flow settings: what is nil keeps its current value.
    public struct FlowSettingsChange: Sendable {
        /// Replaces the survey's reasons (when not empty).
        public var surveyReasons: [String] = []
        /// `none`, `pause:MONTHS` or `discount:PERCENT:MONTHS`.
        public var offer: String?
        /// `period_end` or `immediately`.
        public var cancelTiming: String?
        /// `#rrggbb`.
        public var brandColor: String?
        /// An https URL; empty removes the logo.
        public var logoURL: String?
        /// `en`, `fr`, `de` or `es` (a region may follow); empty goes back to English.
        public var defaultLocale: String?
        /// Every flow click-to-cancel, or each as its document says.
        public var clickToCancel: Bool?
        /// Sets phrases of the organization's wording in one language; a blank one goes back
        /// to the standard phrase. Phrases not named keep theirs.
        public var texts: (language: String, phrases: [String: String])?

        public init(
            surveyReasons: [String] = [], offer: String? = nil, cancelTiming: String? = nil, brandColor: String? = nil,
            logoURL: String? = nil, defaultLocale: String? = nil, clickToCancel: Bool? = nil,
            texts: (language: String, phrases: [String: String])? = nil
        ) {
            self.surveyReasons = surveyReasons
            self.offer = offer
            self.cancelTiming = cancelTiming
            self.brandColor = brandColor
            self.logoURL = logoURL
            self.defaultLocale = defaultLocale
            self.clickToCancel = clickToCancel
            self.texts = texts
        }
    }

    /// Applies a change to an organization's flow settings after checking all of it; returns the
    /// settings now in force. A refused change stores nothing.
    public func updateFlowSettings(organizationID: String, _ change: FlowSettingsChange) async throws -> FlowSettings {
        let validated = try await self.merged(organizationID: organizationID, change)
        try await self.store.setFlowSettings(organizationID: organizationID, validated, now: self.time.now())
        return validated
    }

    /// The current settings with the change applied, validated.
    func merged(organizationID: String, _ change: FlowSettingsChange) async throws -> FlowSettings {
        var offer: RetentionOffer?
        if let text = change.offer {
            guard let parsed = RetentionOffer(text: text) else {
                throw CancelflowError.invalid(
                    "offer_invalid", "The offer must be none, pause:MONTHS (1-12) or discount:PERCENT:MONTHS (1-100, 1-36).", param: "offer"
                )
            }
            offer = parsed
        }
        var timing: CancelTiming?
        if let text = change.cancelTiming {
            guard let parsed = CancelTiming(rawValue: text) else {
                throw CancelflowError.invalid("cancel_timing_invalid", "The cancel timing must be period_end or immediately.", param: "cancelTiming")
            }
            timing = parsed
        }
        _ = try await self.organization(id: organizationID)
        var settings = try await self.store.flowSettings(organizationID: organizationID)
        if !change.surveyReasons.isEmpty { settings.surveyReasons = change.surveyReasons }
        if let offer { settings.offer = offer }
        if let timing { settings.cancelTiming = timing }
        if let color = change.brandColor { settings.brandColor = color }
        if let logo = change.logoURL { settings.logoURL = logo.isEmpty ? nil : logo }
        if let locale = change.defaultLocale { settings.defaultLocale = locale.isEmpty ? nil : locale }
        if let clickToCancel = change.clickToCancel { settings.clickToCancel = clickToCancel }
        if let (language, phrases) = change.texts {
            var own = settings.texts[language] ?? [:]
            for (key, value) in phrases {
                // A blank phrase means "the standard wording": only real overrides are kept.
                own[key] = value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : value
            }
            settings.texts[language] = own.isEmpty ? nil : own
        }
        return try settings.validated()
    }
}
