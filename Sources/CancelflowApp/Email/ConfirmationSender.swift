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

    func message(_ c: FlowConfirmation, organization: Organization, settings: FlowSettings) -> OutgoingEmail {
        let name = organization.name
        let plan = c.planName.map { "\($0) subscription" } ?? "subscription"
        let (subject, what): (String, String) =
            switch c.outcome {
            case .canceled:
                (
                    "Your \(name) subscription is cancelled",
                    c.effectiveAt > c.createdAt.addingTimeInterval(60)
                        ? "Your \(plan) is cancelled. You keep access until \(Pages.day(c.effectiveAt)), and you won't be charged again."
                        : "Your \(plan) is cancelled as of \(Pages.day(c.effectiveAt)). You won't be charged again."
                )
            case .paused:
                (
                    "Your \(name) subscription is paused",
                    "Your \(plan) is paused from \(Pages.day(c.effectiveAt))" + (c.endsAt.map { " until \(Pages.day($0))" } ?? "")
                        + ". You won't be charged while it is paused."
                )
            case .discounted:
                (
                    "Your \(name) discount is applied",
                    "\(c.percent ?? 0)% off your \(plan) for \(c.months ?? 1) month\((c.months ?? 1) == 1 ? "" : "s"), from your bill on \(Pages.day(c.effectiveAt))."
                )
            default:
                ("Your \(name) subscription has changed", "Your \(plan) has changed as of \(Pages.day(c.effectiveAt)).")
            }
        let greeting = c.customerName.map { "Hi \($0)," } ?? "Hello,"
        let reference = "Reference: \(c.reference). Quote it if you contact \(name)."
        let text = "\(greeting)\n\n\(what)\n\n\(reference)\n\n\(name)\n"
        let brand = EmailBrandView(name: name, logoUrl: settings.logoURL, color: settings.brandColor)
        let html =
            self.library.render(
                ConfirmationEmailView(subject: subject, brand: brand, greeting: greeting, what: what, reference: reference),
                withTemplate: "email-confirmation") ?? ""
        return OutgoingEmail(
            message: EmailMessage(from: "\(name) <\(self.mailFrom)>", to: c.to, subject: subject, text: text, html: html), mode: c.mode,
            organizationID: c.organizationID, secrets: c.customerName.map { [$0] } ?? [], logID: c.sessionID, logKey: "flow_session_id")
    }
}

/// Mustache reads stored properties (through reflection), so the brand's fields are copied in.
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
