import CancelflowCore
import Mustache

/// The verification emails: the code to a customer, a short note to an address that is not one
/// (so the mail itself does not tell an attacker which addresses are customers').
struct VerificationEmails: Sendable {
    let library: MustacheLibrary
    /// The sender address (`--mail-from`); the display name is the organization's.
    let mailFrom: String

    /// The email for an issued code: the code to a customer, a short note to anyone else, in
    /// the language of the page that asked for it.
    func message(_ issued: VerificationService.Issued, to address: String, target: VerifyTarget, _ t: Phrases) -> OutgoingEmail {
        let name = target.organization.name
        let from = "\(name) <\(self.mailFrom)>"
        let brand = EmailBrandView(name: name, logoUrl: target.settings.logoURL, color: target.settings.brandColor)
        guard let customer = issued.customer else {
            let subject = t("email.notice.subject")
            let text = [t("email.hello"), t("email.notice.body"), t("email.notice.ignore"), name].joined(separator: "\n\n") + "\n"
            let html =
                self.library.render(Localized(view: NoticeEmailView(subject: subject, brand: brand), phrases: t), withTemplate: "email-notice") ?? ""
            return OutgoingEmail(
                message: EmailMessage(from: from, to: address, subject: subject, text: text, html: html),
                mode: target.mode, organizationID: target.organization.id, secrets: [], logID: issued.id)
        }
        let subject = t("email.code.subject", ["code": issued.code])
        let greeting = customer.name.map { t("email.hi", ["name": $0]) } ?? t("email.hello")
        let text = [greeting, t("email.code.intro"), "    \(issued.code)", t("email.code.validity"), name].joined(separator: "\n\n") + "\n"
        let html =
            self.library.render(
                Localized(view: CodeEmailView(subject: subject, brand: brand, greeting: greeting, code: issued.code), phrases: t),
                withTemplate: "email-code"
            ) ?? ""
        return OutgoingEmail(
            message: EmailMessage(from: from, to: address, subject: subject, text: text, html: html),
            mode: target.mode, organizationID: target.organization.id,
            secrets: [issued.code] + (customer.name.map { [$0] } ?? []), logID: issued.id)
    }
}

struct VerifyView: PageView {
    let brand: BrandView
    let csrf: String
    let org: String?
    let email: String?
    let error: String?
}

struct VerifyCodeView: PageView {
    let brand: BrandView
    let csrf: String
    let org: String?
    let error: String?
    let restartUrl: String
    let mailboxUrl: String?
}

struct MailboxMessageView {
    let to: String
    let subject: String
    let text: String
    let sentAt: String
}

struct MailboxView: PageView {
    let brand: BrandView
    let messages: [MailboxMessageView]
}

struct EmailBrandView {
    let name: String
    let logoUrl: String?
    let color: String
}

/// The brand's fields are copied in: an email template reads them at its root.
struct CodeEmailView {
    let subject: String
    let name: String
    let logoUrl: String?
    let color: String
    let greeting: String
    let code: String

    init(subject: String, brand: EmailBrandView, greeting: String, code: String) {
        self.subject = subject
        self.name = brand.name
        self.logoUrl = brand.logoUrl
        self.color = brand.color
        self.greeting = greeting
        self.code = code
    }
}

struct NoticeEmailView {
    let subject: String
    let name: String
    let logoUrl: String?
    let color: String

    init(subject: String, brand: EmailBrandView) {
        self.subject = subject
        self.name = brand.name
        self.logoUrl = brand.logoUrl
        self.color = brand.color
    }
}
