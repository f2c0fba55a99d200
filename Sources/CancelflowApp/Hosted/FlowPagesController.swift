import CancelflowCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `/flow`: the steps of a cancel flow (choose a subscription, survey, offer, confirm) and its
/// end. Every route sits behind `FlowSessionMiddleware`, so each handler has a session, and
/// every POST a form whose CSRF value matched it.
struct FlowPagesController: Sendable {
    let flow: FlowService
    let pages: Pages
    let metrics: AppMetrics

    func addRoutes(to group: RouterGroup<FlowRequestContext>) {
        group.get(use: self.show)
        group.post("subscription", use: self.chooseSubscription)
        group.post("survey", use: self.answerSurvey)
        group.post("offer", use: self.decideOffer)
        group.post("confirm", use: self.confirm)
        group.post("keep", use: self.keep)
    }

    /// `GET /flow`: the step the session is at.
    @Sendable func show(_ request: Request, context: FlowRequestContext) async throws -> Response {
        try await self.page(for: context.session, request, logger: context.logger, error: nil, status: .ok)
    }

    @Sendable func chooseSubscription(_ request: Request, context: FlowRequestContext) async throws -> Response {
        try await self.act(request, context) { session, form in
            try await self.flow.chooseSubscription(session, subscriptionID: form["subscriptionId"] ?? "")
            return nil
        }
    }

    @Sendable func answerSurvey(_ request: Request, context: FlowRequestContext) async throws -> Response {
        try await self.act(request, context) { session, form in
            try await self.flow.answerSurvey(session, reason: form["reason"] ?? "", comment: form["comment"])
            return nil
        }
    }

    @Sendable func decideOffer(_ request: Request, context: FlowRequestContext) async throws -> Response {
        try await self.act(request, context) { session, form in
            let accept = form["decision"] == "accept"
            let offer = try await self.flow.decideOffer(session, accept: accept)
            // A redirect offer sends the customer where the merchant said; a contact offer's last
            // page says how to reach support, so it is shown even with a return URL.
            if offer?.type == .redirect, let url = offer?.url { return url }
            if offer?.type == .contact { return nil }
            return accept ? Pages.returnTarget(session.returnURL) : nil
        }
    }

    @Sendable func confirm(_ request: Request, context: FlowRequestContext) async throws -> Response {
        try await self.act(request, context) { session, _ in
            try await self.flow.confirmCancellation(session)
            return Pages.returnTarget(session.returnURL)
        }
    }

    @Sendable func keep(_ request: Request, context: FlowRequestContext) async throws -> Response {
        try await self.act(request, context) { session, _ in
            try await self.flow.keep(session)
            return Pages.returnTarget(session.returnURL)
        }
    }

    /// Runs one step's action: on success a redirect (to the return URL when the flow ended and
    /// the link had one), on a refused answer the same step again with the reason.
    func act(
        _ request: Request, _ context: FlowRequestContext, _ action: (FlowSession, FormBody) async throws -> String?
    ) async throws
        -> Response
    {
        let session = context.session
        do {
            let returnURL = try await action(session, context.form)
            if let outcome = try await self.flow.session(key: context.sessionKey)?.outcome {
                context.logger.info(
                    "Cancel flow completed", metadata: ["flow_session_id": .string(session.id), "outcome": .string(outcome.rawValue)])
                self.metrics.flowOutcome(outcome.rawValue)
                if let returnURL { return Pages.redirect(returnURL) }
            }
            return Pages.redirect("/flow")
        } catch let error as CancelflowError where error.kind == .invalidRequest {
            let current = try await self.flow.session(key: context.sessionKey) ?? session
            return try await self.page(for: current, request, logger: context.logger, error: error, status: .badRequest)
        } catch let error as CancelflowError where error.kind == .upstream || error.kind == .conflict {
            // The provider failed (or another click is still being carried out): nothing was
            // done, the session is where it was, and the customer can try again from this page.
            context.logger.error(
                "Billing provider action failed", metadata: ["flow_session_id": .string(session.id), "error": .string(error.code)])
            // A refusal changed nothing; an unconfirmed try or one still running says so itself
            // (`Pages.message`).
            let current = try await self.flow.session(key: context.sessionKey) ?? session
            return try await self.page(
                for: current, request, logger: context.logger, error: error, status: error.kind == .conflict ? .conflict : .badGateway)
        }
    }

    /// `jane@example.com` → `j•••@example.com`: enough for the customer to recognise it, not
    /// enough to read it off a shared screen.
    static func masked(_ address: String, _ t: Phrases) -> String {
        guard let at = address.firstIndex(of: "@"), at > address.startIndex else { return t("done.your_address") }
        return String(address[address.startIndex]) + "•••" + address[at...]
    }

    /// Renders the page of the session's current step.
    func page(
        for session: FlowSession, _ request: Request, logger: Logger, error: CancelflowError?, status: HTTPResponse.Status
    ) async throws
        -> Response
    {
        var session = session
        var flowContext: FlowService.Context
        do {
            flowContext = try await self.flow.context(for: session)
            // An earlier try at the provider that took effect without our hearing back: show
            // its outcome, not the step before it.
            if let outcome = try await self.flow.settlePendingAction(session, context: flowContext) {
                session.outcome = outcome
                flowContext = try await self.flow.context(for: session)
            }
        } catch let error as CancelflowError {
            let t = Pages.phrases(request, given: session.locale, brand: BrandView.plain.name, settings: nil)
            return self.pages.problem(error, t, organization: nil, logger: logger)
        }
        let brand = BrandView(flowContext.organization, flowContext.settings)
        let t = Pages.phrases(
            request, given: session.locale, brand: brand.name, settings: flowContext.settings, flow: flowContext.flow?.content)
        let error = error.map { Pages.message(for: $0, t) }
        let csrf = self.pages.security.flowCSRF(sessionID: session.id)
        let keep = KeepView(formAction: "/flow/keep", csrf: csrf)
        var formTargets = session.returnURL.flatMap(Pages.origin).map { [$0] } ?? []
        let subscription = self.flow.subscription(of: session, context: flowContext)
        switch self.flow.step(for: session, context: flowContext) {
        case .chooseSubscription:
            let view = ChooseView(
                brand: brand, keep: keep, csrf: csrf, error: error,
                subscriptions: flowContext.subscriptions.enumerated().map { SubscriptionView($1, index: $0, t) }
            )
            return self.pages.render("choose", view, t, status: status, formTargets: formTargets)
        case .survey:
            let reasons = (flowContext.flow?.content.survey.reasons ?? []).enumerated().map {
                ReasonView(index: $0, id: $1.id, text: t.text($1.label))
            }
            let survey = flowContext.flow?.content.survey
            let view = SurveyView(
                brand: brand, keep: keep, csrf: csrf, error: error, reasons: reasons,
                question: survey?.question.map(t.text) ?? t("survey.question"), comment: survey?.comment ?? true)
            return self.pages.render("survey", view, t, status: status, formTargets: formTargets)
        case .offer(let offer):
            // The form's answer may redirect there.
            if offer.type == .redirect, let origin = offer.url.flatMap(Pages.origin) { formTargets.append(origin) }
            return self.pages.render(
                "offer", OfferView(brand: brand, keep: keep, csrf: csrf, offer: offer, subscription: subscription, t, error: error), t,
                status: status, formTargets: formTargets)
        case .confirm:
            var view = ConfirmView(
                brand: brand, keep: keep, csrf: csrf,
                summary: Pages.summary(subscription, timing: flowContext.cancelTiming, t), error: error)
            if let offer = self.flow.clickOffer(for: session, context: flowContext) {
                view.offer = OfferView(brand: brand, keep: keep, csrf: csrf, offer: offer, subscription: subscription, t)
                if offer.type == .redirect, let origin = offer.url.flatMap(Pages.origin) { formTargets.append(origin) }
            }
            return self.pages.render("confirm", view, t, status: status, formTargets: formTargets)
        case .nothingToCancel:
            return self.pages.render("nothing", NothingView(brand: brand), t, status: status, formTargets: formTargets)
        case .done(let outcome):
            var view = DoneView(
                brand: brand, outcome: outcome, subscription: subscription,
                timing: flowContext.cancelTiming, returnUrl: Pages.returnTarget(session.returnURL), t,
                offer: flowContext.flow?.content.offers.first { $0.id == session.offerID })
            if let confirmation = try? await self.flow.confirmation(sessionID: session.id) {
                view.confirmationNote =
                    confirmation.status == .failed
                    ? t("done.confirmation.failed", ["reference": confirmation.reference])
                    : t("done.confirmation.sent", ["email": Self.masked(confirmation.to, t), "reference": confirmation.reference])
            }
            return self.pages.render("done", view, t, status: status, formTargets: formTargets)
        }
    }
}
