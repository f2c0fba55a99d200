import Crypto
import Foundation

/// The billing provider an organization's mode uses, and how to reach it.
public struct BillingAccount: Sendable, Equatable {
    /// The organization.
    public var organizationID: String
    /// The mode it applies to.
    public var mode: Mode
    /// Which provider.
    public var provider: BillingProviderKind
    /// The provider's API key, sealed (AES-GCM under a key derived from the server secret); nil
    /// for the built-in provider.
    public var sealedKey: [UInt8]?
    /// How the key is shown afterwards: its prefix and last four characters.
    public var keyHint: String?
    /// Where the provider's API is; nil for its real host.
    public var apiBase: String?
    /// Stripe's `pause_collection[behavior]` for pauses taken in the flow.
    public var pauseBehavior: StripePauseBehavior
    /// When it was last set.
    public var updatedAt: Date

    public init(
        organizationID: String, mode: Mode, provider: BillingProviderKind, sealedKey: [UInt8]?, keyHint: String?, apiBase: String?,
        pauseBehavior: StripePauseBehavior = .markUncollectible, updatedAt: Date
    ) {
        self.organizationID = organizationID
        self.mode = mode
        self.provider = provider
        self.sealedKey = sealedKey
        self.keyHint = keyHint
        self.apiBase = apiBase
        self.pauseBehavior = pauseBehavior
        self.updatedAt = updatedAt
    }
}

/// What Stripe does with invoices while collection is paused (`pause_collection[behavior]`).
public enum StripePauseBehavior: String, Sendable, Equatable, CaseIterable {
    case markUncollectible = "mark_uncollectible"
    case keepAsDraft = "keep_as_draft"
    case void
}

/// Billing accounts, one per organization and mode.
public protocol BillingAccountStore: Sendable {
    /// The account of an organization's mode; nil when never configured.
    func billingAccount(organizationID: String, mode: Mode) async throws -> BillingAccount?
    /// Creates or replaces the account of an organization's mode.
    func setBillingAccount(_ account: BillingAccount) async throws
}

/// Seals secrets that must be readable again (webhook signing secrets, provider API keys) under a
/// key derived from the server secret for one purpose, so one kind can never be opened as another.
public struct SecretBox: Sendable {
    let key: SymmetricKey

    public init(secret: ServerSecret, purpose: String) {
        self.key = secret.derivedKey(purpose: purpose)
    }

    public func seal(_ secret: String) throws -> [UInt8] {
        Array(try AES.GCM.seal(Array(secret.utf8), using: self.key).combined ?? Data())
    }

    public func open(_ sealed: [UInt8]) throws -> String {
        String(decoding: try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: self.key), as: UTF8.self)
    }

    /// The box provider API keys are sealed in.
    public static func billingKeys(_ secret: ServerSecret) -> SecretBox {
        SecretBox(secret: secret, purpose: "billing-provider-key-v1")
    }
}

/// Configures which billing provider each mode of an organization uses: the CLI today, the
/// dashboard later, both through `configure`.
public struct BillingAccountService: Sendable {
    let store: any BillingAccountStore & OrganizationStore
    let time: any TimeSource
    let box: SecretBox
    /// Called after a change, so this instance forgets what it cached (others within their
    /// cache lifetime).
    let changed: @Sendable (String, Mode) -> Void

    public init(
        store: any BillingAccountStore & OrganizationStore, time: any TimeSource, box: SecretBox,
        changed: @escaping @Sendable (String, Mode) -> Void = { _, _ in }
    ) {
        self.store = store
        self.time = time
        self.box = box
        self.changed = changed
    }

    /// What a caller asks to set.
    public struct Change: Sendable {
        public var provider: BillingProviderKind
        /// The API key; required for Stripe and Paddle unless one is already stored for the same
        /// provider (then the stored one is kept).
        public var secretKey: String?
        /// A stand-in's or a staging proxy's address. Nil keeps the stored one when the provider
        /// stays the same (else the provider's real API); an empty string returns to the real API.
        public var apiBase: String?
        /// Stripe only.
        public var pauseBehavior: StripePauseBehavior?

        public init(provider: BillingProviderKind, secretKey: String?, apiBase: String?, pauseBehavior: StripePauseBehavior? = nil) {
            self.provider = provider
            self.secretKey = secretKey
            self.apiBase = apiBase
            self.pauseBehavior = pauseBehavior
        }
    }

    /// Sets the provider of an organization's mode after checking the key belongs to that mode.
    @discardableResult
    public func configure(organizationID: String, mode: Mode, _ change: Change) async throws -> BillingAccount {
        guard try await self.store.organization(id: organizationID) != nil else {
            throw CancelflowError.notFound("organization_not_found", "No organization \(organizationID).")
        }
        let existing = try await self.store.billingAccount(organizationID: organizationID, mode: mode)
        var account = BillingAccount(
            organizationID: organizationID, mode: mode, provider: change.provider, sealedKey: nil, keyHint: nil, apiBase: nil,
            pauseBehavior: change.pauseBehavior ?? existing?.pauseBehavior ?? .markUncollectible,
            updatedAt: Millis.date(Millis.from(self.time.now())))
        if change.provider != .builtin {
            var keptKey = false
            if let key = change.secretKey?.trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty {
                try Self.checkKey(key, provider: change.provider, mode: mode)
                account.sealedKey = try self.box.seal(key)
                account.keyHint = Self.hint(key)
            } else if let existing, existing.provider == change.provider, existing.sealedKey != nil {
                account.sealedKey = existing.sealedKey
                account.keyHint = existing.keyHint
                keptKey = true
            } else {
                throw CancelflowError.invalid(
                    "secret_key_missing", "\(change.provider.displayName) needs an API key for \(mode.rawValue) mode.", param: "secretKey")
            }
            if let base = change.apiBase {
                account.apiBase = base.isEmpty ? nil : try Self.checkAPIBase(base, mode: mode)
            } else if let existing, existing.provider == change.provider {
                account.apiBase = existing.apiBase
            }
            // The key is sent wherever the API address points: a stored key never follows a new
            // address unless whoever changes it types the key again (else anyone allowed to edit
            // the setting could read the key off their own server). Back to the provider's own
            // API needs no key.
            if keptKey, let base = account.apiBase, base != existing?.apiBase {
                throw CancelflowError.invalid(
                    "secret_key_required", "Enter the API key again to change the API address: the key is sent to it.", param: "secretKey")
            }
        } else if change.secretKey != nil || !(change.apiBase ?? "").isEmpty {
            throw CancelflowError.invalid(
                "parameter_unexpected", "The built-in provider takes no API key or API base.",
                param: change.secretKey != nil ? "secretKey" : "apiBase")
        }
        try await self.store.setBillingAccount(account)
        self.changed(organizationID, mode)
        return account
    }

    /// The account of a mode, or what an unconfigured mode means: the organization's provider
    /// from its creation, without a key.
    public func account(organizationID: String, mode: Mode) async throws -> BillingAccount {
        if let account = try await self.store.billingAccount(organizationID: organizationID, mode: mode) { return account }
        guard let organization = try await self.store.organization(id: organizationID) else {
            throw CancelflowError.notFound("organization_not_found", "No organization \(organizationID).")
        }
        return BillingAccount(
            organizationID: organizationID, mode: mode, provider: organization.billingProvider, sealedKey: nil, keyHint: nil, apiBase: nil,
            updatedAt: organization.createdAt)
    }

    /// A test-mode organization must not act on live billing data, nor live mode on test data:
    /// keys whose prefix names the other mode are refused. (Paddle's older keys carry no prefix
    /// and cannot be told apart; they are accepted in either mode.)
    static func checkKey(_ key: String, provider: BillingProviderKind, mode: Mode) throws {
        guard key.count <= 500, key.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw CancelflowError.invalid("secret_key_invalid", "The API key must be printable ASCII without spaces.", param: "secretKey")
        }
        switch provider {
        case .builtin:
            return
        case .stripe:
            let prefixes = mode == .test ? ["sk_test_", "rk_test_"] : ["sk_live_", "rk_live_"]
            guard prefixes.contains(where: key.hasPrefix) else {
                let other = mode == .test ? "live" : "test"
                let isOther = ["sk_\(other)_", "rk_\(other)_"].contains(where: key.hasPrefix)
                throw CancelflowError.invalid(
                    "secret_key_mode_mismatch",
                    isOther
                        ? "That is a \(other)-mode Stripe key; \(mode.rawValue) mode needs an sk_\(mode == .test ? "test" : "live")_ or rk_\(mode == .test ? "test" : "live")_ key."
                        : "A Stripe secret key starts with sk_\(mode == .test ? "test" : "live")_ (or rk_ for a restricted key).",
                    param: "secretKey")
            }
        case .paddle:
            let own = mode == .test ? "pdl_sdbx_" : "pdl_live_"
            let other = mode == .test ? "pdl_live_" : "pdl_sdbx_"
            if key.hasPrefix(other) || (key.hasPrefix("pdl_") && !key.hasPrefix(own)) {
                throw CancelflowError.invalid(
                    "secret_key_mode_mismatch",
                    "That Paddle key is not a \(mode == .test ? "sandbox" : "live") key; \(mode.rawValue) mode needs \(own)….",
                    param: "secretKey")
            }
        }
    }

    /// The provider's API address: https, or in test mode also http to a loopback host (a local
    /// stand-in). Kept without a trailing slash.
    static func checkAPIBase(_ text: String, mode: Mode) throws -> String {
        guard let url = StrictURL.parse(text), url.scheme == "https" || (mode == .test && url.scheme == "http" && url.isLoopback) else {
            throw CancelflowError.invalid(
                "api_base_invalid",
                "The API base must be an https URL (in test mode http is allowed to a loopback host).",
                param: "apiBase")
        }
        var base = url.text
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }

    /// The providers' documented key prefixes; only these are shown.
    static let knownPrefixes = ["pdl_sdbx_apikey_", "pdl_live_apikey_", "pdl_sdbx_", "pdl_live_", "sk_test_", "sk_live_", "rk_test_", "rk_live_"]

    /// A key's documented prefix and last four: enough to tell keys apart, never enough to use
    /// one. A key without a known prefix shows only its last four.
    public static func hint(_ key: String) -> String {
        let prefix = Self.knownPrefixes.first(where: key.hasPrefix) ?? ""
        return "\(prefix)…\(key.suffix(4))"
    }
}
