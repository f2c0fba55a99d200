import Crypto
import Foundation

/// What the cancel flow does to a subscription at its end.
public enum BillingAction: Sendable, Equatable {
    /// Cancel when the paid period ends.
    case cancelAtPeriodEnd
    /// Cancel at once.
    case cancelNow
    /// Stop billing for some months; billing resumes at `resumesAt`.
    case pause(months: Int, resumesAt: Date)
    /// A percentage off for some months.
    case discount(percent: Int, months: Int)
    /// Move to another plan: `planID` is the provider's price (or the built-in plan's id), the
    /// rest what the built-in subscription records.
    case changePlan(planID: String, name: String, amount: Int?, currency: String?)
    /// Free time: the next charge (the trial's end, or the period's) moves to `until`.
    case extendTrial(days: Int, until: Date)

    /// The stable text form recorded with the attempt and sent in `cancel_flow.completed`.
    public var name: String {
        switch self {
        case .cancelAtPeriodEnd: "cancel_at_period_end"
        case .cancelNow: "cancel_now"
        case .pause: "pause"
        case .discount: "discount"
        case .changePlan: "change_plan"
        case .extendTrial: "extend_trial"
        }
    }

    /// The text form with its parameters, part of the idempotency key: a different action on
    /// the same session is a different request.
    public var fingerprint: String {
        switch self {
        case .cancelAtPeriodEnd, .cancelNow: self.name
        case .pause(let months, _): "pause:\(months)"
        case .discount(let percent, let months): "discount:\(percent):\(months)"
        // The plan id last: it is the provider's and might hold a colon.
        case .changePlan(let planID, _, _, _): "change_plan:\(planID)"
        case .extendTrial(let days, let until): "extend_trial:\(days):\(Int(until.timeIntervalSince1970))"
        }
    }
}

/// A customer as a billing provider knows them, with their subscriptions (newest first).
public struct BillingCustomer: Sendable, Equatable {
    public var customer: Customer
    public var subscriptions: [Subscription]

    public init(customer: Customer, subscriptions: [Subscription]) {
        self.customer = customer
        self.subscriptions = subscriptions
    }
}

/// One action for a provider to carry out.
public struct BillingActionRequest: Sendable {
    /// What to do.
    public var action: BillingAction
    /// The subscription, as read fresh for this step.
    public var subscription: Subscription
    /// Derived from the flow session and the action: the provider sees the same key however
    /// often the step is retried, so a provider that honours it (Stripe) never acts twice.
    public var idempotencyKey: String
    /// The survey answer, for providers with a place for it (Stripe's `cancellation_details`).
    public var surveyReason: String?
    /// The survey's free text.
    public var surveyComment: String?

    public init(action: BillingAction, subscription: Subscription, idempotencyKey: String, surveyReason: String?, surveyComment: String?) {
        self.action = action
        self.subscription = subscription
        self.idempotencyKey = idempotencyKey
        self.surveyReason = surveyReason
        self.surveyComment = surveyComment
    }
}

/// What a provider did, reported in `cancel_flow.completed`.
public struct BillingReceipt: Sendable, Equatable {
    /// Which provider acted.
    public var provider: BillingProviderKind
    /// The provider's object that changed (the subscription).
    public var objectID: String
    /// What was done (`BillingAction.name`).
    public var action: String

    public init(provider: BillingProviderKind, objectID: String, action: String) {
        self.provider = provider
        self.objectID = objectID
        self.action = action
    }
}

/// Where a merchant's customers and subscriptions live and where the flow's outcome is carried
/// out. The built-in provider reads the data the merchant pushes; Stripe and Paddle are called
/// over their APIs. Every read is fresh: the flow shows the subscription as it is at the provider
/// on each page.
public protocol BillingProvider: Sendable {
    /// Which provider this is.
    var kind: BillingProviderKind { get }
    /// The customer a link's `customerId` names, with their subscriptions; nil when the provider
    /// has no such customer. (For Paddle the reference is a subscription id, per the seed, or a
    /// `ctm_` customer id for flows started by email.)
    func customer(reference: String) async throws -> BillingCustomer?
    /// The customer with this (lower-cased) email address, for email verification; nil when none.
    /// Of several, the first the provider lists (the newest, for Stripe; for the built-in store,
    /// the one with the newest cancelable subscription).
    func customerReference(email: String) async throws -> Customer?
    /// Whether a link may be minted for `reference` (and, if given, that subscription of it):
    /// nil when it may, else the error to answer with.
    func checkMint(reference: String, subscriptionID: String?) async throws -> CancelflowError?
    /// Whether the provider can make this offer on this subscription.
    func supports(_ offer: RetentionOffer, on subscription: Subscription) -> Bool
    /// Whether the provider can give this subscription free time (move its next charge later):
    /// a trial everywhere; a paying subscription where the provider allows it without a charge.
    func canExtendTrial(of subscription: Subscription) -> Bool
    /// Whether a plan change can be carried out on this subscription as it is.
    func canChangePlan(of subscription: Subscription) -> Bool
    /// Whether an action's effect is on the subscription and was made at or after `since` (when
    /// the session first tried it): a step retried after a timeout whose request did reach the
    /// provider completes without acting again, and a change someone made earlier (a discount
    /// from a flow months ago) is not taken for this one.
    func isApplied(_ action: BillingAction, to subscription: Subscription, since: Date) async throws -> Bool
    /// One cheap authenticated read, for the dashboard's "test connection": throws the same
    /// errors as any call (`billing_provider_auth_failed` for a refused key, …).
    func checkCredentials() async throws
    /// Carries the action out at the provider. The built-in provider does nothing here: its change
    /// is written in the same transaction that ends the flow session (`SubscriptionChange`).
    func apply(_ request: BillingActionRequest) async throws -> BillingReceipt
}

extension BillingProvider {
    public func supports(_ offer: RetentionOffer, on subscription: Subscription) -> Bool {
        offer.applies(to: subscription)
    }

    public func canChangePlan(of subscription: Subscription) -> Bool { true }

    public func canExtendTrial(of subscription: Subscription) -> Bool {
        (subscription.status == .trialing || subscription.status == .active) && subscription.currentPeriodEnd != nil
            && !subscription.cancelAtPeriodEnd
    }

    public func isApplied(_ action: BillingAction, to subscription: Subscription, since: Date) async throws -> Bool {
        BillingMatching.isApplied(action, to: subscription, since: since)
    }

    public func checkMint(reference: String, subscriptionID: String?) async throws -> CancelflowError? {
        guard let found = try await self.customer(reference: reference) else { return BillingErrors.customerNotFound }
        if let subscriptionID, !found.subscriptions.contains(where: { $0.id == subscriptionID }) {
            return BillingErrors.subscriptionNotFound
        }
        return nil
    }
}

/// The common reading of "is this action's effect on the subscription, made since then". A
/// timestamp the provider does not give is not held against the match.
public enum BillingMatching {
    /// Clocks differ a little between us and the provider.
    static let skew: TimeInterval = 60

    public static func isApplied(_ action: BillingAction, to subscription: Subscription, since: Date) -> Bool {
        let recent = { (date: Date?) in date.map { $0 >= since - Self.skew } ?? true }
        switch action {
        case .cancelAtPeriodEnd:
            return (subscription.cancelAtPeriodEnd || subscription.status == .canceled) && recent(subscription.canceledAt)
        case .cancelNow:
            return subscription.status == .canceled && recent(subscription.canceledAt)
        case .pause(_, let resumesAt):
            guard subscription.status == .paused || subscription.pauseResumesAt != nil else { return false }
            return subscription.pauseResumesAt.map { abs($0.timeIntervalSince(resumesAt)) <= Self.skew } ?? true
        case .discount(let percent, _):
            return subscription.discountPercent == percent && recent(subscription.discountStartsAt)
        case .changePlan(let planID, _, _, _):
            return subscription.planID == planID
        case .extendTrial(_, let until):
            return subscription.currentPeriodEnd.map { $0 >= until - Self.skew } ?? false
        }
    }
}

/// Finds the provider of an organization's mode.
public protocol BillingProviders: Sendable {
    /// The provider configured for the organization's mode (the built-in one unless configured).
    func provider(for organization: Organization, mode: Mode) async throws -> any BillingProvider
}

/// The errors every provider answers with, so the API and the pages say the same thing whoever
/// the provider is.
public enum BillingErrors {
    public static let customerNotFound = CancelflowError.notFound(
        "customer_not_found", "No customer with that id exists at the billing provider in this mode.", param: "customerId")
    public static let subscriptionNotFound = CancelflowError.notFound(
        "subscription_not_found", "No subscription with that id belongs to this customer.", param: "subscriptionId")

    /// The provider refused our credentials.
    public static func authenticationFailed(_ provider: BillingProviderKind) -> CancelflowError {
        CancelflowError(
            .upstream, code: "billing_provider_auth_failed",
            message: "\(provider.displayName) refused the API key configured for this mode; configure a valid key.")
    }

    /// The provider did not answer usefully in time (or at all).
    public static func unavailable(_ provider: BillingProviderKind, _ detail: String) -> CancelflowError {
        CancelflowError(.upstream, code: "billing_provider_unavailable", message: "\(provider.displayName) could not be reached: \(detail)")
    }

    /// The provider answered with an error we cannot do anything about.
    public static func refused(_ provider: BillingProviderKind, _ detail: String) -> CancelflowError {
        CancelflowError(.upstream, code: "billing_provider_error", message: "\(provider.displayName) refused the request: \(detail)")
    }

    /// A try without a clear answer, as the customer hears it.
    public static func unconfirmed(_ provider: BillingProviderKind) -> CancelflowError {
        CancelflowError(
            .upstream, code: "billing_provider_unconfirmed",
            message:
                "\(provider.displayName) did not confirm the change in time. We'll check what happened before doing anything more; please try again in a minute."
        )
    }

    /// Whether an error means the provider refused, so nothing changed (rather than an answer
    /// that never came, after which the change may have been made).
    public static func isDefiniteRefusal(_ error: CancelflowError) -> Bool {
        ["billing_provider_error", "billing_provider_auth_failed", "subscription_not_found", "customer_not_found"].contains(error.code)
    }

    /// A mode whose provider needs a key that was never configured.
    public static func notConfigured(_ provider: BillingProviderKind, mode: Mode) -> CancelflowError {
        CancelflowError(
            .upstream, code: "billing_provider_not_configured",
            message:
                "This organization's \(mode.rawValue) mode uses \(provider.displayName) but has no API key configured (cancelflow orgs configure-billing)."
        )
    }
}

extension BillingProviderKind {
    /// The provider's name as people write it.
    public var displayName: String {
        switch self {
        case .builtin: "The built-in billing store"
        case .stripe: "Stripe"
        case .paddle: "Paddle"
        }
    }
}

/// Derives the provider idempotency key of a session's action: a MAC under the server secret, so
/// the key tells the provider nothing and cannot be predicted from the session id.
public struct BillingIdempotency: Sendable {
    let key: SymmetricKey

    public init(secret: ServerSecret) {
        self.key = secret.derivedKey(purpose: "billing-idempotency-v1")
    }

    /// One key per try (`attempt`): retries within a try (HTTP-level, after a timeout) reuse it,
    /// so the provider replays rather than repeats; a new try comes only after the earlier one
    /// was found not to have taken effect, and Stripe replays a stored 500 to a reused key.
    public func key(sessionID: String, subscriptionID: String, action: BillingAction, attempt: Int) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("\(sessionID):\(subscriptionID):\(action.fingerprint):\(attempt)".utf8), using: self.key)
        return "cf_" + Hex.encode(Array(mac).prefix(24))
    }
}

/// How far a session's provider action got.
public enum BillingAttemptStatus: String, Sendable, Equatable {
    /// A request holds the claim and is talking to the provider (or died doing so; the claim lapses).
    case pending
    /// The provider refused, so nothing changed; the customer may try again at once.
    case failed
    /// No clear answer (a timeout, a 5xx, an unreadable reply): the change may have been made.
    /// Nothing may be tried until the claim's quiet period is over and the subscription, read
    /// back, shows the change was not made.
    case unknown
    /// Done, and the session ended with it.
    case succeeded
}

/// The record of a flow session's call to its provider: there is at most one per session, so two
/// clicks of the final button cannot both act, and a failure is kept for the operator.
public struct BillingAttempt: Sendable, Equatable {
    public var sessionID: String
    public var organizationID: String
    public var mode: Mode
    public var provider: BillingProviderKind
    public var subscriptionID: String
    /// `BillingAction.fingerprint` of what is being done.
    public var action: String
    public var status: BillingAttemptStatus
    /// How many times it was claimed.
    public var attempts: Int
    /// The error code of the last failure (never a provider's message, which may quote input).
    public var lastError: String?
    /// When this action was first tried: a pause's resume date counts from here, so a retry sends
    /// the provider the same parameters under the same idempotency key.
    public var createdAt: Date
    /// Until when the current claim (or an unknown try's quiet period) holds.
    public var claimedUntil: Date

    public init(
        sessionID: String, organizationID: String, mode: Mode, provider: BillingProviderKind, subscriptionID: String, action: String,
        status: BillingAttemptStatus, attempts: Int, lastError: String?, createdAt: Date, claimedUntil: Date
    ) {
        self.claimedUntil = claimedUntil
        self.sessionID = sessionID
        self.organizationID = organizationID
        self.mode = mode
        self.provider = provider
        self.subscriptionID = subscriptionID
        self.action = action
        self.status = status
        self.attempts = attempts
        self.lastError = lastError
        self.createdAt = createdAt
    }
}

/// Flow sessions' provider actions.
public protocol BillingActionStore: Sendable {
    /// Claims a session's provider action: records it, or takes over one that failed, or one
    /// pending or unknown whose claim ran out before `now` (replacing its action, and its start
    /// when the action differs). Nil when another request holds a live claim, an unknown try is
    /// in its quiet period, or the action already succeeded.
    func claimBillingAction(_ attempt: BillingAttempt, now: Date, claimUntil: Date) async throws -> BillingAttempt?
    /// A session's provider action, if it has one.
    func billingAction(sessionID: String) async throws -> BillingAttempt?
    /// Records the end of try number `attempt` without success: `failed`, or `unknown` with a
    /// claim until `quietUntil`. A try that is no longer the current one changes nothing.
    func failBillingAction(
        sessionID: String, attempt: Int, error: String, status: BillingAttemptStatus, now: Date, quietUntil: Date
    ) async throws
    /// Marks a try that the subscription shows was not made as `failed`, so it may be retried.
    func dismissBillingAction(sessionID: String, attempt: Int, now: Date) async throws
    /// Expired, undecided sessions whose provider action is unsettled (pending or unknown, its
    /// claim run out): the sweeper reads each back before abandoning.
    func unsettledExpiredSessions(now: Date, limit: Int) async throws -> [FlowSession]
}

extension BillingAction {
    /// Reads `fingerprint` back; a pause resumes `months` after `start`.
    public init?(fingerprint: String, start: Date) {
        if fingerprint.hasPrefix("change_plan:") {
            // Only the id is kept: reading an attempt back is for matching it at the provider.
            let id = String(fingerprint.dropFirst("change_plan:".count))
            guard !id.isEmpty else { return nil }
            self = .changePlan(planID: id, name: id, amount: nil, currency: nil)
            return
        }
        let parts = fingerprint.split(separator: ":").map(String.init)
        switch parts.first {
        case "cancel_at_period_end" where parts.count == 1: self = .cancelAtPeriodEnd
        case "cancel_now" where parts.count == 1: self = .cancelNow
        case "pause" where parts.count == 2:
            guard let months = Int(parts[1]) else { return nil }
            self = .pause(months: months, resumesAt: FlowService.adding(months: months, to: start))
        case "discount" where parts.count == 3:
            guard let percent = Int(parts[1]), let months = Int(parts[2]) else { return nil }
            self = .discount(percent: percent, months: months)
        case "extend_trial" where parts.count == 3:
            guard let days = Int(parts[1]), let until = Int(parts[2]) else { return nil }
            self = .extendTrial(days: days, until: Date(timeIntervalSince1970: TimeInterval(until)))
        default: return nil
        }
    }

    /// The flow outcome the action stands for.
    public var outcome: FlowOutcome {
        switch self {
        case .cancelAtPeriodEnd, .cancelNow: .canceled
        case .pause: .paused
        case .discount: .discounted
        case .changePlan: .planChanged
        case .extendTrial: .trialExtended
        }
    }
}
