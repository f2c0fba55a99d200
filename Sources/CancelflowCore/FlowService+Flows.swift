import Foundation

extension FlowService {
    /// Adds the session's flow to its context, and the offer types the customer is cooling
    /// down from (read only when the flow has cooldowns).
    func addFlow(to context: inout Context, session: FlowSession, subscription: Subscription) async throws {
        let now = self.time.now()
        // The link's attributes matter only while the flow is still to be chosen (once a
        // session): a pinned session does not read its link again.
        var attributes: [String: String] = [:]
        if session.run == nil, let linkID = session.linkID {
            attributes = try await self.store.link(organizationID: session.organizationID, mode: session.mode, id: linkID)?.attributes ?? [:]
        }
        let audience = FlowAudience(subscription: subscription, attributes: attributes, now: now)
        let (flow, _) = try await self.flows.resolve(session, audience: audience)
        context.flow = flow
        let cooldowns = flow.document.cooldownDays.filter { $0.value > 0 }
        guard let longest = cooldowns.values.max() else { return }
        let accepted = try await self.store.acceptedOffers(
            organizationID: session.organizationID, mode: session.mode, customerID: session.customerID,
            since: now.addingTimeInterval(-Double(longest) * 86400))
        for type in OfferType.allCases {
            guard let days = cooldowns[type.rawValue], let at = accepted[type.outcome] else { continue }
            if now.timeIntervalSince(at) < Double(days) * 86400 { context.coolingDown.insert(type) }
        }
    }

    /// In click-to-cancel, the one offer shown beside the cancel button: the flow's fallback
    /// offer (there is no survey answer yet), as long as it has not been turned down.
    public func clickOffer(for session: FlowSession, context: Context) -> FlowOffer? {
        guard context.isClickToCancel, !session.offerDeclined,
            let subscription = self.subscription(of: session, context: context)
        else { return nil }
        return self.offer(for: session, context: context, subscription: subscription)
    }

    /// Whether a link's customer would get a click-to-cancel flow: its landing page then carries
    /// the cancel button itself.
    public func isClickToCancel(link: CancelLink, context: Context) async throws -> Bool {
        let subscription =
            link.subscriptionID.flatMap { id in context.subscriptions.first { $0.id == id } }
            ?? (context.subscriptions.count == 1 ? context.subscriptions.first : nil)
        guard let subscription else { return false }
        let audience = FlowAudience(subscription: subscription, attributes: link.attributes, now: self.time.now())
        if context.settings.clickToCancel { return true }
        return try await self.flows.choose(organizationID: link.organizationID, audience: audience).1.document.clickToCancel
    }

    /// The offer the survey answer leads to, if the provider can carry it out on this
    /// subscription and the customer is not cooling down from one of its type.
    func offer(for session: FlowSession, context: Context, subscription: Subscription) -> FlowOffer? {
        guard let flow = context.flow, let offer = flow.content.offer(forReason: session.reasonID ?? "") else { return nil }
        guard !context.coolingDown.contains(offer.type), context.provider.canMake(offer, on: subscription) else { return nil }
        return offer
    }
}

extension BillingProvider {
    /// Whether the provider can carry out a flow's offer on the subscription. Contact and
    /// redirect offers change nothing at the provider; a plan change needs a plan other than the
    /// customer's own; free time needs a provider that gives it without charging (`canExtendTrial`).
    public func canMake(_ offer: FlowOffer, on subscription: Subscription) -> Bool {
        switch offer.type {
        case .pause:
            return offer.months.map { self.supports(.pause(months: $0), on: subscription) } ?? false
        case .discount:
            guard let percent = offer.percent, let months = offer.months else { return false }
            return self.supports(.discount(percent: percent, months: months), on: subscription)
        case .contact, .redirect:
            return true
        case .planChange:
            // A price in another currency is refused by the providers; a subscription in arrears
            // would be billed the change at once.
            guard subscription.status == .active || subscription.status == .trialing, self.canChangePlan(of: subscription),
                let plan = offer.plan(for: subscription)
            else { return false }
            return plan.currency == nil || subscription.currency == nil || plan.currency?.lowercased() == subscription.currency?.lowercased()
        case .trialExtension:
            return (offer.days ?? 0) > 0 && self.canExtendTrial(of: subscription)
        }
    }
}

extension FlowService {
    /// Carries out an accepted offer: at the provider, or (contact, redirect) by ending the
    /// session with nothing changed.
    func carryOut(_ offer: FlowOffer, session: FlowSession, context: Context, subscription: Subscription) async throws {
        switch offer.type {
        case .pause:
            let months = offer.months ?? 1
            try await self.carryOut(session, context: context, subscription: subscription) { start in
                .pause(months: months, resumesAt: Self.adding(months: months, to: start))
            }
        case .discount:
            let (percent, months) = (offer.percent ?? 0, offer.months ?? 1)
            try await self.carryOut(session, context: context, subscription: subscription) { _ in .discount(percent: percent, months: months) }
        case .contact, .redirect:
            // Nothing changes at the provider: the customer chose to talk or read first.
            try await self.finish(session, offer.type.outcome, change: nil, billing: nil)
        case .planChange:
            guard let plan = offer.plan(for: subscription) else {
                throw CancelflowError.invalid("offer_unavailable", "There is no offer to answer at this step.")
            }
            try await self.carryOut(session, context: context, subscription: subscription) { _ in
                .changePlan(planID: plan.id, name: plan.name.text(for: "en"), amount: plan.amount, currency: plan.currency)
            }
        case .trialExtension:
            let days = offer.days ?? 1
            let until = (subscription.currentPeriodEnd ?? self.time.now()).addingTimeInterval(TimeInterval(days) * 86400)
            try await self.carryOut(session, context: context, subscription: subscription) { _ in .extendTrial(days: days, until: until) }
        }
    }
}
