import CancelflowCore
import Foundation

/// The provider of each organization mode, as configured (`cancelflow orgs configure-billing`):
/// built-in unless a Stripe or Paddle account was set. The configuration is cached for the same
/// time as API keys (`--api-key-cache`), so a change made on another instance is seen within that
/// time and this instance's own changes at once.
public final class ConfiguredBillingProviders: BillingProviders {
    let store: any BillingAccountStore & BillingDataStore & VerificationStore
    let box: SecretBox
    let timeouts: ProviderTimeouts
    let time: any TimeSource
    let observe: ProviderCallObserver
    /// The account of each `org:mode`, or `.none` when it was never configured.
    let accounts: ExpiringCache<BillingAccount?>

    public init(
        store: any BillingAccountStore & BillingDataStore & VerificationStore, box: SecretBox, timeouts: ProviderTimeouts, time: any TimeSource,
        cacheLifetime: TimeInterval, observe: @escaping ProviderCallObserver = { _, _, _ in }
    ) {
        self.observe = observe
        self.store = store
        self.box = box
        self.timeouts = timeouts
        self.time = time
        self.accounts = ExpiringCache(lifetime: cacheLifetime)
    }

    public func provider(for organization: Organization, mode: Mode) async throws -> any BillingProvider {
        let key = "\(organization.id):\(mode.rawValue)"
        let now = self.time.now()
        let account: BillingAccount?
        if let cached = self.accounts.value(key, now: now) {
            account = cached
        } else {
            account = try await self.store.billingAccount(organizationID: organization.id, mode: mode)
            self.accounts.store(account, key, now: now)
        }
        let kind = account?.provider ?? organization.billingProvider
        if kind == .builtin { return BuiltinBillingProvider(store: self.store, organizationID: organization.id, mode: mode) }
        guard let account, let sealed = account.sealedKey else { throw BillingErrors.notConfigured(kind, mode: mode) }
        let secret: String
        do {
            secret = try self.box.open(sealed)
        } catch {
            // Sealed under another server secret: the key must be configured again.
            throw CancelflowError(
                .configuration, code: "billing_key_unreadable",
                message: "The \(kind.displayName) key of this mode cannot be opened with this server's secret; configure it again.")
        }
        switch kind {
        case .builtin:
            return BuiltinBillingProvider(store: self.store, organizationID: organization.id, mode: mode)
        case .stripe:
            return StripeProvider(
                key: secret, base: account.apiBase, pauseBehavior: account.pauseBehavior, timeouts: self.timeouts, observe: self.observe)
        case .paddle:
            return PaddleProvider(key: secret, base: account.apiBase, mode: mode, timeouts: self.timeouts, observe: self.observe)
        }
    }

    /// Forgets an organization mode's cached account (after a change on this instance).
    public func forget(organizationID: String, mode: Mode) {
        self.accounts.remove(prefix: "\(organizationID):\(mode.rawValue)")
    }
}
