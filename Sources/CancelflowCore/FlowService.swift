import Foundation

/// The hosted cancel flow's rules: who the page is for, which step comes next, and what each
/// answer does. The HTTP layer only renders what this decides.
public struct FlowService: Sendable {
    /// How long a customer has, from the exchange, to reach a decision before the session is
    /// abandoned.
    public static let sessionLifetime: TimeInterval = 3600
    /// The longest free-text survey answer kept.
    public static let maximumComment = 1000

    let store: any CancelflowStorage
    let time: any TimeSource
    let events: any EventEncoder

    /// Creates the service.
    public init(store: any CancelflowStorage, time: any TimeSource, events: any EventEncoder) {
        self.store = store
        self.time = time
        self.events = events
    }

    /// Exchanges a link for a new flow session, emitting `cancel_link.exchanged` (and
    /// `cancel_link.consumed` for a single-use link) with the change.
    /// The flow session a browser's cookie key names (the key is stored only as its SHA-256).
    public func session(key: String) async throws -> FlowSession? {
        guard !key.isEmpty, key.utf8.count <= 128 else { return nil }
        return try await self.store.flowSession(sessionHash: Hex.sha256(key))
    }

    public func exchange(tokenHash: String, sessionHash: String) async throws -> (CancelLink, FlowSession)? {
        let now = self.time.now()
        let encoder = self.events
        return try await self.store.exchangeLink(
            tokenHash: tokenHash,
            now: now,
            sessionHash: sessionHash,
            sessionID: Identifier.make("fs_"),
            sessionExpiresAt: now.addingTimeInterval(Self.sessionLifetime)
        ) { link in
            var events = [encoder.outbox(.linkExchanged(link), organizationID: link.organizationID, mode: link.mode, at: now)]
            if link.storedStatus == .consumed {
                events.append(encoder.outbox(.linkConsumed(link), organizationID: link.organizationID, mode: link.mode, at: now))
            }
            return events
        }
    }

    /// Everything a page of the flow shows.
    public struct Context: Sendable {
        /// The merchant.
        public var organization: Organization
        /// Its flow settings.
        public var settings: FlowSettings
        /// The customer, when the billing data has one.
        public var customer: Customer?
        /// The subscriptions in play: the one named, or the customer's cancelable ones.
        public var subscriptions: [Subscription]
    }

    /// The next thing the customer is asked.
    public enum Step: Sendable, Equatable {
        /// Several active subscriptions and the link named none (seed).
        case chooseSubscription
        /// Why are you leaving?
        case survey
        /// Would this keep you?
        case offer(RetentionOffer)
        /// Cancel for real.
        case confirm
        /// Nothing left to cancel.
        case nothingToCancel
        /// Over.
        case done(FlowOutcome)
    }

    /// The customer and subscriptions a link (or session) is about. Built-in billing reads the
    /// pushed data; Stripe and Paddle adapters are not built yet, so their pages say the
    /// subscription cannot be loaded rather than pretend.
    public func context(organizationID: String, mode: Mode, customerID: String, subscriptionID: String?) async throws -> Context {
        guard let organization = try await self.store.organization(id: organizationID) else {
            throw CancelflowError.notFound("organization_not_found", "The organization no longer exists.")
        }
        return try await self.context(organization: organization, mode: mode, customerID: customerID, subscriptionID: subscriptionID)
    }

    /// The same, for a caller that has the organization already (one query fewer).
    public func context(organization: Organization, mode: Mode, customerID: String, subscriptionID: String?) async throws -> Context {
        let organizationID = organization.id
        let settings = try await self.store.flowSettings(organizationID: organizationID)
        guard organization.billingProvider == .builtin else {
            throw CancelflowError(
                .internal,
                code: "billing_provider_unavailable",
                message: "The \(organization.billingProvider.rawValue) adapter is not available in this build."
            )
        }
        let customer = try await self.store.customer(organizationID: organizationID, mode: mode, id: customerID)
        var subscriptions = try await self.store.subscriptions(organizationID: organizationID, mode: mode, customerID: customerID)
        if let subscriptionID {
            subscriptions = subscriptions.filter { $0.id == subscriptionID }
        } else {
            subscriptions = subscriptions.filter { $0.status.isCancelable && !$0.cancelAtPeriodEnd }
        }
        return Context(organization: organization, settings: settings, customer: customer, subscriptions: subscriptions)
    }

    /// The context of a session.
    public func context(for session: FlowSession) async throws -> Context {
        try await self.context(
            organizationID: session.organizationID,
            mode: session.mode,
            customerID: session.customerID,
            subscriptionID: session.subscriptionID
        )
    }

    /// The step a session is at.
    public func step(for session: FlowSession, context: Context) -> Step {
        if let outcome = session.outcome { return .done(outcome) }
        if !session.isOpen(at: self.time.now()) { return .done(.abandoned) }
        guard let subscription = self.subscription(of: session, context: context) else {
            return context.subscriptions.count > 1 ? .chooseSubscription : .nothingToCancel
        }
        guard subscription.status.isCancelable, !subscription.cancelAtPeriodEnd else { return .nothingToCancel }
        if session.surveyReason == nil { return .survey }
        if !session.offerDeclined, context.settings.offer.applies(to: subscription) { return .offer(context.settings.offer) }
        return .confirm
    }

    /// The subscription the session acts on: the chosen or named one, or the only one there is.
    public func subscription(of session: FlowSession, context: Context) -> Subscription? {
        if let id = session.subscriptionID { return context.subscriptions.first { $0.id == id } }
        return context.subscriptions.count == 1 ? context.subscriptions[0] : nil
    }

    /// Records the customer's choice among several subscriptions.
    public func chooseSubscription(_ session: FlowSession, subscriptionID: String) async throws {
        let context = try await self.openContext(session)
        guard session.subscriptionID == nil, context.subscriptions.contains(where: { $0.id == subscriptionID }) else {
            throw CancelflowError.invalid("subscription_invalid", "Choose one of the subscriptions shown.", param: "subscriptionId")
        }
        var session = session
        session.subscriptionID = subscriptionID
        try await self.store.updateFlowSession(session)
    }

    /// Records the survey answer.
    public func answerSurvey(_ session: FlowSession, reason: String, comment: String?) async throws {
        let context = try await self.openContext(session)
        guard context.settings.surveyReasons.contains(reason) else {
            throw CancelflowError.invalid("reason_invalid", "Choose one of the reasons shown.", param: "reason")
        }
        let comment = comment?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (comment?.count ?? 0) <= Self.maximumComment else {
            throw CancelflowError.invalid("comment_too_long", "Please keep the comment under 1000 characters.", param: "comment")
        }
        var session = session
        session.subscriptionID = session.subscriptionID ?? self.subscription(of: session, context: context)?.id
        session.surveyReason = reason
        session.surveyComment = (comment?.isEmpty ?? true) ? nil : comment
        try await self.store.updateFlowSession(session)
    }

    /// Accepts or declines the offer; accepting carries it out and ends the flow.
    public func decideOffer(_ session: FlowSession, accept: Bool) async throws {
        let context = try await self.openContext(session)
        guard case .offer(let offer) = self.step(for: session, context: context),
            let subscription = self.subscription(of: session, context: context)
        else {
            throw CancelflowError.invalid("offer_unavailable", "There is no offer to answer at this step.")
        }
        guard accept else {
            var session = session
            session.offerDeclined = true
            try await self.store.updateFlowSession(session)
            return
        }
        let now = self.time.now()
        var session = session
        session.subscriptionID = subscription.id
        try await self.store.updateFlowSession(session)
        switch offer {
        case .pause(let months):
            try await self.finish(session, .paused, change: .pause(until: Self.adding(months: months, to: now)))
        case .discount(let percent, let months):
            try await self.finish(session, .discounted, change: .discount(percent: percent, until: Self.adding(months: months, to: now)))
        case .none:
            throw CancelflowError.invalid("offer_unavailable", "There is no offer to answer at this step.")
        }
    }

    /// Cancels the subscription, as the organization's timing says.
    public func confirmCancellation(_ session: FlowSession) async throws {
        let context = try await self.openContext(session)
        guard self.step(for: session, context: context) == .confirm, let subscription = self.subscription(of: session, context: context) else {
            throw CancelflowError.invalid("not_ready", "Answer the earlier steps first.")
        }
        var session = session
        session.subscriptionID = subscription.id
        try await self.store.updateFlowSession(session)
        try await self.finish(session, .canceled, change: .cancel(timing: context.settings.cancelTiming))
    }

    /// The customer keeps the subscription; nothing changes.
    public func keep(_ session: FlowSession) async throws {
        _ = try await self.openContext(session)
        try await self.finish(session, .kept, change: nil)
    }

    /// Marks undecided sessions that ran out as abandoned.
    public func abandonExpired() async throws -> Int {
        let now = self.time.now()
        let encoder = self.events
        return try await self.store.abandonExpiredFlowSessions(now: now) { session, metadata in
            [
                encoder.outbox(
                    .flowCompleted(session, offerAccepted: false, metadata: metadata),
                    organizationID: session.organizationID, mode: session.mode, at: now)
            ]
        }
    }

    func openContext(_ session: FlowSession) async throws -> Context {
        guard session.isOpen(at: self.time.now()) else {
            throw CancelflowError.invalid("session_closed", "This cancel session has ended.")
        }
        return try await self.context(for: session)
    }

    func finish(_ session: FlowSession, _ outcome: FlowOutcome, change: SubscriptionChange?) async throws {
        let now = self.time.now()
        let encoder = self.events
        let accepted = outcome == .paused || outcome == .discounted
        let completed = try await self.store.completeFlowSession(id: session.id, outcome: outcome, now: now, change: change) { session, metadata in
            [
                encoder.outbox(
                    .flowCompleted(session, offerAccepted: accepted, metadata: metadata),
                    organizationID: session.organizationID, mode: session.mode, at: now)
            ]
        }
        guard completed else {
            throw CancelflowError.invalid("session_closed", "This cancel session has ended.")
        }
    }

    static func adding(months: Int, to date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(byAdding: .month, value: months, to: date) ?? date.addingTimeInterval(Double(months) * 30 * 86400)
    }
}
