import Foundation

/// The email a customer gets after a flow changed their subscription: what was done, when it
/// takes effect, and a reference. It is written in the same transaction as the outcome, so an
/// outcome never goes without it, and sent afterwards by `ConfirmationSender`: a failure to
/// send never undoes the outcome, it is retried and recorded.
public struct FlowConfirmation: Sendable, Equatable {
    public enum Status: String, Sendable, Equatable {
        case pending, sent, failed
    }

    public var sessionID: String
    public var organizationID: String
    public var mode: Mode
    /// Where it goes: the customer's address at the billing provider.
    public var to: String
    /// Quoted to the merchant's support: `CF-` and the session's id, upper case.
    public var reference: String
    public var outcome: FlowOutcome
    public var customerName: String?
    public var planName: String?
    /// When the change takes effect (a cancellation at the period's end: that end).
    public var effectiveAt: Date
    /// When a pause or a discount ends.
    public var endsAt: Date?
    /// A discount's percent and months.
    public var percent: Int?
    public var months: Int?
    /// The customer's language, when known (the link's `locale`).
    public var locale: String?
    public var status: Status = .pending
    public var attempts = 0
    public var lastError: String?
    public var nextAttemptAt: Date?
    public var sentAt: Date?
    public var createdAt: Date

    public init(
        sessionID: String, organizationID: String, mode: Mode, to: String, outcome: FlowOutcome, customerName: String?, planName: String?,
        effectiveAt: Date, endsAt: Date? = nil, percent: Int? = nil, months: Int? = nil, locale: String? = nil, createdAt: Date
    ) {
        self.sessionID = sessionID
        self.organizationID = organizationID
        self.mode = mode
        self.to = to
        self.reference = Self.reference(sessionID: sessionID)
        self.outcome = outcome
        self.customerName = customerName
        self.planName = planName
        self.effectiveAt = effectiveAt
        self.endsAt = endsAt
        self.percent = percent
        self.months = months
        self.locale = locale
        self.nextAttemptAt = createdAt
        self.createdAt = createdAt
    }

    /// `fs_a5z2xtpcljxwd6jg` → `CF-A5Z2XTPCLJXWD6JG`.
    public static func reference(sessionID: String) -> String {
        "CF-" + (sessionID.split(separator: "_").last.map(String.init) ?? sessionID).uppercased()
    }

    /// The waits between tries: a minute, then five, thirty, two hours and six; then it is
    /// marked failed.
    public static let retryDelays: [TimeInterval] = [60, 300, 1800, 7200, 21600]
}

/// Confirmation emails waiting to be sent.
public protocol ConfirmationStore: Sendable {
    /// Takes up to `limit` due confirmations for one try each, locked until `lockUntil` so that
    /// another instance's sender does not take them meanwhile.
    func claimConfirmations(now: Date, lockUntil: Date, limit: Int) async throws -> [FlowConfirmation]
    /// Records a try: sent, or failed with when to try again (nil: no more tries).
    func recordConfirmation(sessionID: String, sentAt: Date?, error: String?, nextAttemptAt: Date?) async throws
    /// A session's confirmation, if one is owed.
    func confirmation(sessionID: String) async throws -> FlowConfirmation?
}

extension FlowService {
    /// A session's confirmation email, for its last page to mention.
    public func confirmation(sessionID: String) async throws -> FlowConfirmation? {
        try await self.store.confirmation(sessionID: sessionID)
    }

    /// The confirmation a change owes the customer, when the provider knows their address.
    func confirmation(
        for session: FlowSession, context: Context, subscription: Subscription, action: BillingAction, now: Date
    ) async -> FlowConfirmation? {
        guard let email = context.customer?.email, !email.isEmpty else { return nil }
        // The language the customer read the pages in; nil leaves it to the organization's
        // default when the email is sent.
        let locale = session.locale
        var confirmation = FlowConfirmation(
            sessionID: session.id, organizationID: session.organizationID, mode: session.mode, to: email, outcome: action.outcome,
            customerName: context.customer?.name, planName: subscription.planName, effectiveAt: now, locale: locale, createdAt: now)
        switch action {
        case .cancelAtPeriodEnd:
            confirmation.effectiveAt = max(now, subscription.currentPeriodEnd ?? now)
        case .cancelNow:
            break
        case .pause(_, let resumesAt):
            confirmation.endsAt = resumesAt
        case .discount(let percent, let months):
            // From the next bill.
            confirmation.effectiveAt = max(now, subscription.currentPeriodEnd ?? now)
            confirmation.percent = percent
            confirmation.months = months
        case .changePlan(let planID, let name, _, _):
            // The plan moved to, named in the customer's language as the flow names it (a try
            // read back after a timeout knows only the id).
            let option = context.flow?.content.offers.lazy.flatMap { $0.plans ?? [] }.first { $0.id == planID }
            confirmation.planName = option.map { $0.name.text(for: session.locale ?? "en") } ?? name
        case .extendTrial(_, let until):
            confirmation.endsAt = until
        }
        return confirmation
    }
}
