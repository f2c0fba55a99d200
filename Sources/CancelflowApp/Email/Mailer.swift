import CancelflowCore
import Foundation
import Logging
import Synchronization

/// An email on its way out, with what the log may say about it.
struct OutgoingEmail: Sendable {
    /// The message.
    var message: EmailMessage
    /// The mode it belongs to: live messages never have their address or code logged.
    var mode: Mode
    /// Whose it is.
    var organizationID: String
    /// What is masked wherever the message is logged in live mode: the code, the customer's name.
    var secrets: [String]
    /// What it is for, to tie log lines together without the address: the id logged under
    /// `logKey` (a verification's, a flow session's, a dashboard user's).
    var logID: String
    var logKey = "verification_id"
}

/// Sends emails.
protocol Mailer: Sendable {
    /// Sends one email; throws when it could not be handed to the mail server.
    func deliver(_ email: OutgoingEmail, logger: Logger) async throws
    /// Where a developer can read test-mode messages, when the mailer keeps them.
    var mailbox: DevMailbox? { get }
}

/// Hands mail to the configured SMTP server.
struct SMTPMailer: Mailer {
    let client: SMTPClient

    func deliver(_ email: OutgoingEmail, logger: Logger) async throws {
        try await self.client.send(email.message)
        logger.info("Sent an email", metadata: [email.logKey: .string(email.logID)])
    }

    var mailbox: DevMailbox? { nil }
}

/// Without a mail server: writes the message to the log (in live mode with the address, code and
/// name masked, so the log never holds what would let someone in) and, when the mailbox is on,
/// keeps test-mode messages for `/dev/mailbox`, so a developer can finish the flow on their own
/// machine.
struct LogMailer: Mailer {
    let mailbox: DevMailbox?

    func deliver(_ email: OutgoingEmail, logger: Logger) async throws {
        switch email.mode {
        case .live:
            var text = email.message.text
            var subject = email.message.subject
            for secret in email.secrets where !secret.isEmpty {
                text = text.replacingOccurrences(of: secret, with: "••••••")
                subject = subject.replacingOccurrences(of: secret, with: "••••••")
            }
            logger.notice(
                "No mail server is configured (--smtp-url): a live email was not sent",
                metadata: [
                    email.logKey: .string(email.logID),
                    "subject": .string(subject),
                    "text": .string(redactingAddresses(oneLine(text))),
                ]
            )
        case .test:
            self.mailbox?.add(email.message, organizationID: email.organizationID)
            logger.notice(
                self.mailbox == nil
                    ? "No mail server is configured (--smtp-url): a test-mode email was not sent"
                    : "No mail server is configured (--smtp-url): a test-mode email is on /dev/mailbox",
                metadata: [
                    email.logKey: .string(email.logID),
                    "to": .string(email.message.to),
                    "subject": .string(email.message.subject),
                ]
            )
        }
    }
}

/// The newest test-mode messages, in memory: this process's own, for a developer's machine.
final class DevMailbox: Sendable {
    struct Entry: Sendable {
        let message: EmailMessage
        let organizationID: String
        let sentAt: Date
    }

    static let capacity = 50
    private let entries = Mutex<[Entry]>([])

    func add(_ message: EmailMessage, organizationID: String) {
        self.entries.withLock { entries in
            entries.append(Entry(message: message, organizationID: organizationID, sentAt: Date()))
            if entries.count > Self.capacity { entries.removeFirst(entries.count - Self.capacity) }
        }
    }

    /// An organization's messages, newest first.
    func messages(organizationID: String) -> [Entry] {
        self.entries.withLock { $0.reversed().filter { $0.organizationID == organizationID } }
    }
}

/// Replaces anything shaped like an email address: mail server replies quote the recipient, and
/// those replies end up in error logs.
func redactingAddresses(_ text: String) -> String {
    text.replacingOccurrences(of: #"[^\s<>"':;,()\[\]]+@[^\s<>"':;,()\[\]]+"#, with: "[address]", options: .regularExpression)
}

/// A message body on one log line.
func oneLine(_ text: String) -> String {
    text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
}
