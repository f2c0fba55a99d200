import CancelflowCore
import Foundation
import Logging
import Mustache
import ServiceLifecycle

/// Sends the confirmation emails flows owe (`FlowConfirmation`): every few seconds it takes
/// the due ones, renders each in the organization's branding and hands it to the mail path.
/// A failure is recorded and tried again later (`FlowConfirmation.retryDelays`), then marked
/// failed; it never touches the outcome. Every instance may run one: a claim is a conditional
/// update, so two senders never send the same email.
public struct ConfirmationSender: Service {
    let store: any CancelflowStorage
    let organizations: OrganizationService
    let mailer: any Mailer
    let emails: ConfirmationEmails
    let time: any TimeSource
    let logger: Logger
    var interval: Duration = .seconds(5)

    public init(services: AppServices, logger: Logger) throws {
        self.store = services.store
        self.organizations = services.organizations
        self.mailer = services.mailer
        self.emails = ConfirmationEmails(library: try Templates.library(), mailFrom: services.configuration.mailFrom)
        self.time = services.time
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                _ = try await self.runOnce()
            } catch {
                self.logger.error("Sending confirmation emails failed", metadata: ["error": .string(String(describing: error))])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }

    /// One pass; returns how many emails it tried.
    @discardableResult
    public func runOnce(limit: Int = 20) async throws -> Int {
        let now = self.time.now()
        let due = try await self.store.claimConfirmations(now: now, lockUntil: now.addingTimeInterval(120), limit: limit)
        for confirmation in due {
            await self.send(confirmation)
        }
        return due.count
    }

    func send(_ confirmation: FlowConfirmation) async {
        let metadata: Logger.Metadata = ["flow_session_id": .string(confirmation.sessionID)]
        do {
            let organization = try await self.organizations.organization(id: confirmation.organizationID)
            let settings = try await self.organizations.flowSettings(organizationID: confirmation.organizationID)
            let email = self.emails.message(confirmation, organization: organization, settings: settings)
            try await self.mailer.deliver(email, logger: self.logger)
            try await self.store.recordConfirmation(sessionID: confirmation.sessionID, sentAt: self.time.now(), error: nil, nextAttemptAt: nil)
            self.logger.info("Sent a confirmation email", metadata: metadata)
        } catch {
            // The reason, without the address (SMTP errors may quote it).
            let reason = (error as? SMTPError).map { redactingAddresses($0.description) } ?? String(describing: type(of: error))
            let delays = FlowConfirmation.retryDelays
            let next = confirmation.attempts < delays.count ? self.time.now().addingTimeInterval(delays[confirmation.attempts]) : nil
            try? await self.store.recordConfirmation(sessionID: confirmation.sessionID, sentAt: nil, error: reason, nextAttemptAt: next)
            self.logger.error(
                next == nil ? "A confirmation email could not be sent; giving up" : "A confirmation email could not be sent; trying again later",
                metadata: metadata.merging(["error": .string(reason)]) { $1 })
        }
    }
}

/// The confirmation email's words, in the organization's branding.
struct ConfirmationEmails: Sendable {
    let library: MustacheLibrary
    let mailFrom: String

    /// In the language the customer read the pages in, else the organization's default, with
    /// the organization's own wording.
    func message(_ c: FlowConfirmation, organization: Organization, settings: FlowSettings) -> OutgoingEmail {
        let name = organization.name
        let t = Phrases(
            PageLocale.choose(given: c.locale, acceptLanguage: nil, organizationDefault: settings.defaultLocale), brand: name,
            overrides: settings.texts.isEmpty ? [] : [settings.texts])
        let (subject, what) = Self.words(c, t)
        let greeting = c.customerName.map { t("email.hi", ["name": $0]) } ?? t("email.hello")
        let reference = t("email.reference", ["reference": c.reference])
        let text = "\(greeting)\n\n\(what)\n\n\(reference)\n\n\(name)\n"
        let brand = EmailBrandView(name: name, logoUrl: settings.logoURL, color: settings.brandColor)
        let html =
            self.library.render(
                Localized(
                    view: ConfirmationEmailView(subject: subject, brand: brand, greeting: greeting, what: what, reference: reference), phrases: t),
                withTemplate: "email-confirmation") ?? ""
        return OutgoingEmail(
            message: EmailMessage(from: "\(name) <\(self.mailFrom)>", to: c.to, subject: subject, text: text, html: html), mode: c.mode,
            organizationID: c.organizationID, secrets: c.customerName.map { [$0] } ?? [], logID: c.sessionID, logKey: "flow_session_id")
    }

    /// The subject, and the sentence saying what was done and from when.
    static func words(_ c: FlowConfirmation, _ t: Phrases) -> (String, String) {
        let plan = c.planName
        let date = ["date": t.day(c.effectiveAt)]
        switch c.outcome {
        case .canceled:
            // A cancellation at the period's end takes effect later than it was asked for.
            let later = c.effectiveAt > c.createdAt.addingTimeInterval(60)
            return (t("email.canceled.subject"), t.withPlan(later ? "email.canceled.until" : "email.canceled.now", plan: plan, date))
        case .paused:
            guard let until = c.endsAt else { return (t("email.paused.subject"), t.withPlan("email.paused.from", plan: plan, date)) }
            return (t("email.paused.subject"), t.withPlan("email.paused.until", plan: plan, date.merging(["until": t.day(until)]) { $1 }))
        case .discounted:
            let values = date.merging(["percent": String(c.percent ?? 0)]) { $1 }
            let key = plan == nil ? "email.discounted" : "email.discounted.plan"
            return (t("email.discounted.subject"), t.plural(key, count: c.months ?? 1, values.merging(["plan": plan ?? ""]) { $1 }))
        case .planChanged:
            return (t("email.plan_changed.subject"), t("email.plan_changed", date.merging(["plan": plan ?? ""]) { $1 }))
        case .trialExtended:
            return (t("email.trial_extended.subject"), t("email.trial_extended", ["date": t.day(c.endsAt ?? c.effectiveAt)]))
        default:
            return (t("email.changed.subject"), t.withPlan("email.changed", plan: plan, date))
        }
    }
}

/// The brand's fields are copied in: an email template reads them at its root.
struct ConfirmationEmailView {
    let subject: String
    let name: String
    let logoUrl: String?
    let color: String
    let greeting: String
    let what: String
    let reference: String

    init(subject: String, brand: EmailBrandView, greeting: String, what: String, reference: String) {
        self.subject = subject
        self.name = brand.name
        self.logoUrl = brand.logoUrl
        self.color = brand.color
        self.greeting = greeting
        self.what = what
        self.reference = reference
    }
}
