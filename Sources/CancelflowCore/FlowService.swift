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
    let providers: any BillingProviders
    let idempotency: BillingIdempotency
    /// Chooses each session's flow and variant.
    let flows: FlowResolver
    /// The longest one provider action may take, all its calls together; it is cut off then.
    let actionDeadline: TimeInterval
    /// How long a request holds a session's provider action: longer than the action can take,
    /// so a live call is never doubled.
    var actionClaim: TimeInterval { self.actionDeadline + 30 }
    /// After a try with no clear answer, how long before anything may be tried again: a request
    /// the provider is still working on lands meanwhile, and the read-back then sees it.
    public static let quietPeriod: TimeInterval = 60
    /// How long after its expiry a session with an unsettled provider action is kept open for
    /// the sweeper to read it back, before it is abandoned anyway.
    public static let settleWindow: TimeInterval = 24 * 3600

    /// What an external provider last said about a customer, kept briefly for the landing page
    /// (see `context(…, recent:)`); shared by the instance.
    let previews: ExpiringCache<BillingCustomer?>
    /// How long the landing page may show what a provider said before.
    public static let previewLifetime: TimeInterval = 15

    /// Creates the service.
    public init(
        store: any CancelflowStorage, time: any TimeSource, events: any EventEncoder, providers: any BillingProviders,
        idempotency: BillingIdempotency, flows: FlowResolver, actionDeadline: TimeInterval = 60,
        previews: ExpiringCache<BillingCustomer?> = ExpiringCache(lifetime: FlowService.previewLifetime)
    ) {
        self.store = store
        self.time = time
        self.events = events
        self.providers = providers
        self.idempotency = idempotency
        self.flows = flows
        self.actionDeadline = actionDeadline
        self.previews = previews
    }

    /// Exchanges a link for a new flow session, emitting `cancel_link.exchanged` (and
    /// `cancel_link.consumed` for a single-use link) with the change.
    /// The flow session a browser's cookie key names (the key is stored only as its SHA-256).
    public func session(key: String) async throws -> FlowSession? {
        guard !key.isEmpty, key.utf8.count <= 128 else { return nil }
        return try await self.store.flowSession(sessionHash: Hex.sha256(key))
    }

    public func exchange(tokenHash: String, sessionHash: String, locale: String? = nil) async throws -> (CancelLink, FlowSession)? {
        let now = self.time.now()
        let encoder = self.events
        return try await self.store.exchangeLink(
            tokenHash: tokenHash,
            now: now,
            sessionHash: sessionHash,
            sessionID: Identifier.make("fs_"),
            sessionExpiresAt: now.addingTimeInterval(Self.sessionLifetime),
            locale: locale
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
        /// Where they live.
        public var provider: any BillingProvider
        /// The flow the session runs, once its subscription is known.
        public var flow: ResolvedFlow?
        /// Offer types the customer accepted too recently to be offered again.
        public var coolingDown: Set<OfferType> = []

        /// When a cancellation takes effect: as the session's flow says.
        public var cancelTiming: CancelTiming { self.flow?.document.cancelTiming ?? self.settings.cancelTiming }
        /// The organization's switch, or the flow's own.
        public var isClickToCancel: Bool { self.settings.clickToCancel || self.flow?.document.clickToCancel == true }
    }

    /// The next thing the customer is asked.
    public enum Step: Sendable, Equatable {
        /// Several active subscriptions and the link named none (seed).
        case chooseSubscription
        /// Why are you leaving?
        case survey
        /// Would this keep you?
        case offer(FlowOffer)
        /// Cancel for real.
        case confirm
        /// Nothing left to cancel.
        case nothingToCancel
        /// Over.
        case done(FlowOutcome)
    }

    /// The customer and subscriptions a link (or session) is about, read fresh from the
    /// organization's billing provider.
    public func context(organizationID: String, mode: Mode, customerID: String, subscriptionID: String?) async throws -> Context {
        guard let organization = try await self.store.organization(id: organizationID) else {
            throw CancelflowError.notFound("organization_not_found", "The organization no longer exists.")
        }
        return try await self.context(organization: organization, mode: mode, customerID: customerID, subscriptionID: subscriptionID)
    }

    /// The same, for a caller that has the organization already (one query fewer). With
    /// `recent`, what an external provider said in the last `previewLifetime` seconds will do:
    /// the landing page, which mail scanners and anyone holding the link may fetch any number
    /// of times, must not turn each fetch into calls to the merchant's provider account. The
    /// steps of the flow always read afresh.
    public func context(
        organization: Organization, mode: Mode, customerID: String, subscriptionID: String?, recent: Bool = false
    ) async throws -> Context {
        let settings = try await self.store.flowSettings(organizationID: organization.id)
        let provider = try await self.providers.provider(for: organization, mode: mode)
        let key = "\(organization.id):\(mode.rawValue):\(customerID)"
        let now = self.time.now()
        let found: BillingCustomer?
        if provider.kind != .builtin, recent, let cached = self.previews.value(key, now: now) {
            found = cached
        } else {
            found = try await provider.customer(reference: customerID)
            if provider.kind != .builtin { self.previews.store(found, key, now: now) }
        }
        var subscriptions = found?.subscriptions ?? []
        if let subscriptionID {
            subscriptions = subscriptions.filter { $0.id == subscriptionID }
        } else {
            subscriptions = subscriptions.filter { $0.status.isCancelable && !$0.cancelAtPeriodEnd }
        }
        return Context(
            organization: organization, settings: settings, customer: found?.customer, subscriptions: subscriptions, provider: provider)
    }

    /// The context of a session, with its flow once the subscription in play is known.
    public func context(for session: FlowSession) async throws -> Context {
        var context = try await self.context(
            organizationID: session.organizationID,
            mode: session.mode,
            customerID: session.customerID,
            subscriptionID: session.subscriptionID
        )
        if let subscription = self.subscription(of: session, context: context) {
            try await self.addFlow(to: &context, session: session, subscription: subscription)
        }
        return context
    }

    /// The step a session is at.
    public func step(for session: FlowSession, context: Context) -> Step {
        if let outcome = session.outcome { return .done(outcome) }
        if !session.isOpen(at: self.time.now()) { return .done(.abandoned) }
        guard let subscription = self.subscription(of: session, context: context) else {
            return context.subscriptions.count > 1 ? .chooseSubscription : .nothingToCancel
        }
        guard subscription.status.isCancelable, !subscription.cancelAtPeriodEnd else { return .nothingToCancel }
        // Click-to-cancel: no survey first; the cancel button is on the first page, with at most
        // one offer beside it (see `clickOffer`).
        if context.isClickToCancel { return .confirm }
        if session.surveyReason == nil { return .survey }
        if !session.offerDeclined, let offer = self.offer(for: session, context: context, subscription: subscription) {
            return .offer(offer)
        }
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

    /// Records the survey answer: a reason's id (or, from older pages, its text).
    public func answerSurvey(_ session: FlowSession, reason: String, comment: String?) async throws {
        let context = try await self.openContext(session)
        guard let flow = context.flow,
            let chosen = flow.content.survey.reasons.first(where: { $0.id == reason })
                ?? flow.content.survey.reasons.first(where: { $0.label.values.values.contains(reason) })
        else {
            throw CancelflowError.invalid("reason_invalid", "Choose one of the reasons shown.", param: "reason")
        }
        // A flow that asks for no comment keeps none, even one posted by hand.
        let comment = flow.content.survey.comment ? comment?.trimmingCharacters(in: .whitespacesAndNewlines) : nil
        guard (comment?.count ?? 0) <= Self.maximumComment else {
            throw CancelflowError.invalid("comment_too_long", "Please keep the comment under 1000 characters.", param: "comment")
        }
        var session = session
        session.subscriptionID = session.subscriptionID ?? self.subscription(of: session, context: context)?.id
        session.reasonID = chosen.id
        session.surveyReason = chosen.label.text(for: "en")
        session.surveyComment = (comment?.isEmpty ?? true) ? nil : comment
        try await self.store.updateFlowSession(session)
    }

    /// Accepts or declines the offer; accepting carries it out and ends the flow. Returns the
    /// offer accepted.
    @discardableResult
    public func decideOffer(_ session: FlowSession, accept: Bool) async throws -> FlowOffer? {
        let context = try await self.openContext(session)
        if try await self.settlePendingAction(session, context: context) != nil { return nil }
        let step = self.step(for: session, context: context)
        var shown: FlowOffer?
        if case .offer(let offer) = step { shown = offer }
        if step == .confirm { shown = self.clickOffer(for: session, context: context) }
        guard let offer = shown, let subscription = self.subscription(of: session, context: context) else {
            throw CancelflowError.invalid("offer_unavailable", "There is no offer to answer at this step.")
        }
        var session = session
        guard accept else {
            session.offerDeclined = true
            try await self.store.updateFlowSession(session)
            return nil
        }
        session.subscriptionID = subscription.id
        session.offerID = offer.id
        try await self.store.updateFlowSession(session)
        try await self.carryOut(offer, session: session, context: context, subscription: subscription)
        return offer
    }

    /// Cancels the subscription, as the organization's timing says.
    public func confirmCancellation(_ session: FlowSession) async throws {
        let context = try await self.openContext(session)
        if try await self.settlePendingAction(session, context: context) != nil { return }
        guard self.step(for: session, context: context) == .confirm, let subscription = self.subscription(of: session, context: context) else {
            throw CancelflowError.invalid("not_ready", "Answer the earlier steps first.")
        }
        var session = session
        session.subscriptionID = subscription.id
        try await self.store.updateFlowSession(session)
        let action: BillingAction = context.cancelTiming == .periodEnd ? .cancelAtPeriodEnd : .cancelNow
        try await self.carryOut(session, context: context, subscription: subscription) { _ in action }
    }

    /// Ends a session whose earlier try at the provider did take effect although the answer
    /// never came back (a timeout): the subscription, read fresh, already shows the change.
    /// Returns the outcome the session ended with, if it did. Pages call it before showing a
    /// step, so the customer sees the outcome rather than "nothing to cancel". A try with no
    /// clear answer whose quiet period is over and whose change is not there is marked failed,
    /// so that it may be tried again.
    public func settlePendingAction(_ session: FlowSession, context: Context) async throws -> FlowOutcome? {
        guard context.provider.kind != .builtin, session.outcome == nil,
            let attempt = try await self.store.billingAction(sessionID: session.id), attempt.status != .succeeded,
            let action = BillingAction(fingerprint: attempt.action, start: attempt.createdAt),
            let subscription = context.subscriptions.first(where: { $0.id == attempt.subscriptionID })
        else { return nil }
        guard try await context.provider.isApplied(action, to: subscription, since: attempt.createdAt) else {
            if attempt.status == .unknown || attempt.status == .pending, attempt.claimedUntil < self.time.now() {
                try await self.store.dismissBillingAction(sessionID: session.id, attempt: attempt.attempts, now: self.time.now())
            }
            return nil
        }
        let receipt = BillingReceipt(provider: context.provider.kind, objectID: subscription.id, action: action.name)
        // Another request may be settling it at the same moment; either way it has ended.
        let confirmation = await self.confirmation(for: session, context: context, subscription: subscription, action: action, now: self.time.now())
        _ = try await self.complete(session, action.outcome, change: nil, billing: receipt, providerActed: true, confirmation: confirmation)
        return action.outcome
    }

    /// Carries an action out at the provider and ends the session with it. The built-in
    /// provider's change is written in the same transaction as the outcome. An external
    /// provider is called first, under a claim only one request at a time can hold, with an
    /// idempotency key per try, and within `actionDeadline`. A refusal is recorded as `failed`
    /// (nothing changed; try again). No clear answer is recorded as `unknown`: nothing more is
    /// tried until the quiet period is over and the subscription, read back, shows whether the
    /// change was made.
    func carryOut(
        _ session: FlowSession, context: Context, subscription: Subscription, action makeAction: (_ start: Date) -> BillingAction
    ) async throws {
        let now = self.time.now()
        let provider = context.provider
        if provider.kind == .builtin {
            let action = makeAction(now)
            let receipt = BillingReceipt(provider: .builtin, objectID: subscription.id, action: action.name)
            try await self.finish(
                session, action.outcome, change: BuiltinBillingProvider.change(for: action, now: now), billing: receipt,
                confirmation: await self.confirmation(for: session, context: context, subscription: subscription, action: action, now: now))
            return
        }
        let provisional = makeAction(now)
        let claim = BillingAttempt(
            sessionID: session.id, organizationID: session.organizationID, mode: session.mode, provider: provider.kind,
            subscriptionID: subscription.id, action: provisional.fingerprint, status: .pending, attempts: 1, lastError: nil,
            createdAt: Millis.date(Millis.from(now)), claimedUntil: now.addingTimeInterval(self.actionClaim))
        guard let claimed = try await self.store.claimBillingAction(claim, now: now, claimUntil: now.addingTimeInterval(self.actionClaim)) else {
            throw Self.inProgress(provider.kind)
        }
        let action = makeAction(claimed.createdAt)
        let request = BillingActionRequest(
            action: action, subscription: subscription,
            idempotencyKey: self.idempotency.key(sessionID: session.id, subscriptionID: subscription.id, action: action, attempt: claimed.attempts),
            surveyReason: session.surveyReason, surveyComment: session.surveyComment)
        let receipt: BillingReceipt
        do {
            let kind = provider.kind
            receipt = try await Deadline.run(
                within: .milliseconds(Int64(self.actionDeadline * 1000)),
                onTimeout: { BillingErrors.unavailable(kind, "no answer in time.") },
                { try await provider.apply(request) })
        } catch {
            let failure = (error as? CancelflowError) ?? BillingErrors.unavailable(provider.kind, "the request failed.")
            let definite = BillingErrors.isDefiniteRefusal(failure)
            let failedAt = self.time.now()
            try? await self.store.failBillingAction(
                sessionID: session.id, attempt: claimed.attempts, error: failure.code, status: definite ? .failed : .unknown, now: failedAt,
                quietUntil: failedAt.addingTimeInterval(Self.quietPeriod))
            throw definite ? failure : BillingErrors.unconfirmed(provider.kind)
        }
        try await self.finish(
            session, action.outcome, change: nil, billing: receipt, providerActed: true,
            confirmation: await self.confirmation(for: session, context: context, subscription: subscription, action: action, now: self.time.now()))
    }

    static func inProgress(_ provider: BillingProviderKind) -> CancelflowError {
        CancelflowError(
            .conflict, code: "action_in_progress",
            message:
                "We're still confirming your last request with \(provider.displayName). Nothing more will be done until that is settled; please reload this page in a minute."
        )
    }

    /// The customer keeps the subscription; nothing changes.
    public func keep(_ session: FlowSession) async throws {
        let context = try await self.openContext(session)
        if try await self.settlePendingAction(session, context: context) != nil { return }
        try await self.finish(session, .kept, change: nil, billing: nil)
    }

    /// Marks undecided sessions that ran out as abandoned. First, expired sessions whose provider
    /// action never got a clear answer are read back: one whose change was made ends with that
    /// outcome, so nothing the provider did is reported as abandoned. Those the provider cannot
    /// answer for now stay open, for up to `settleWindow` after expiry.
    public func abandonExpired() async throws -> Int {
        let now = self.time.now()
        for session in try await self.store.unsettledExpiredSessions(now: now, limit: 100) {
            do {
                let context = try await self.context(for: session)
                _ = try await self.settlePendingAction(session, context: context)
            } catch {
                // The provider cannot say now; the next sweep asks again.
                continue
            }
        }
        let encoder = self.events
        return try await self.store.abandonExpiredFlowSessions(now: now, settleBefore: now.addingTimeInterval(-Self.settleWindow)) {
            session, metadata in
            [
                encoder.outbox(
                    .flowCompleted(session, offerAccepted: false, metadata: metadata, billing: nil),
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

    func finish(
        _ session: FlowSession, _ outcome: FlowOutcome, change: SubscriptionChange?, billing: BillingReceipt?, providerActed: Bool = false,
        confirmation: FlowConfirmation? = nil
    ) async throws {
        guard
            try await self.complete(
                session, outcome, change: change, billing: billing, providerActed: providerActed, confirmation: confirmation)
        else {
            throw CancelflowError.invalid("session_closed", "This cancel session has ended.")
        }
    }

    /// Ends the session; false when it had already ended. Once a provider has acted, the session
    /// ends with that outcome even if it expired during the call: the record must say what the
    /// provider did.
    func complete(
        _ session: FlowSession, _ outcome: FlowOutcome, change: SubscriptionChange?, billing: BillingReceipt?, providerActed: Bool,
        confirmation: FlowConfirmation? = nil
    ) async throws -> Bool {
        let now = self.time.now()
        let encoder = self.events
        let accepted = outcome.acceptedOffer
        return try await self.store.completeFlowSession(
            id: session.id, outcome: outcome, now: now, change: change, providerActed: providerActed, confirmation: confirmation
        ) { session, metadata in
            [
                encoder.outbox(
                    .flowCompleted(session, offerAccepted: accepted, metadata: metadata, billing: billing),
                    organizationID: session.organizationID, mode: session.mode, at: now)
            ]
        }
    }

    public static func adding(months: Int, to date: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(byAdding: .month, value: months, to: date) ?? date.addingTimeInterval(Double(months) * 30 * 86400)
    }
}
