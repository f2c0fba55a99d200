import CancelflowCore
import Mustache

/// The verification emails: the code to a customer, a short note to an address that is not one
/// (so the mail itself does not tell an attacker which addresses are customers').
struct VerificationEmails: Sendable {
    let library: MustacheLibrary
    /// The sender address (`--mail-from`); the display name is the organization's.
    let mailFrom: String

    /// The email for an issued code: the code to a customer, a short note to anyone else.
    func message(_ issued: VerificationService.Issued, to address: String, target: VerifyTarget) -> OutgoingEmail {
        let name = target.organization.name
        let from = "\(name) <\(self.mailFrom)>"
        let brand = EmailBrandView(name: name, logoUrl: target.settings.logoURL, color: target.settings.brandColor)
        guard let customer = issued.customer else {
            let subject = "Your \(name) subscription"
            let text = """
                Hello,

                Someone, hopefully you, asked to manage a \(name) subscription with this email address, but we couldn't \
                find a subscription for it. If you subscribed with another address, try that one.

                If you didn't ask, ignore this email: nothing has changed.

                \(name)
                """
            let html = self.library.render(NoticeEmailView(subject: subject, brand: brand), withTemplate: "email-notice") ?? ""
            return OutgoingEmail(
                message: EmailMessage(from: from, to: address, subject: subject, text: text, html: html),
                mode: target.mode, organizationID: target.organization.id, secrets: [], logID: issued.id)
        }
        let subject = "\(issued.code) is your \(name) verification code"
        let greeting = customer.name.map { "Hi \($0)," } ?? "Hello,"
        let text = """
            \(greeting)

            Use this code to manage your \(name) subscription:

                \(issued.code)

            It works for 15 minutes. If you didn't ask for it, ignore this email: nothing changes without the code.

            \(name)
            """
        let html =
            self.library.render(
                CodeEmailView(subject: subject, brand: brand, greeting: greeting, code: issued.code), withTemplate: "email-code"
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

/// Mustache reads stored properties (through reflection), so the brand's fields are copied in.
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
