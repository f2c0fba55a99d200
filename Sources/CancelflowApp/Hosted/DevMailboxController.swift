import CancelflowAPI
import CancelflowCore
import Hummingbird

/// `/dev/mailbox`: a developer's view of the test-mode emails the service would have sent.
struct DevMailboxController: Sendable {
    /// The kept messages; nil when the mailbox is off (a mail server is configured, or
    /// `--dev-mailbox false`).
    let mailbox: DevMailbox?
    let owners: PageOwners
    let pages: Pages

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("dev/mailbox", use: self.show)
    }

    /// `GET /dev/mailbox?org=TEST_APP_ID`: an organization's test-mode emails, when no mail
    /// server is configured and the mailbox is on (by default only when the public URL is a
    /// loopback address: a developer's own machine).
    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let appID = request.uri.queryParameters["org"].map(String.init)
        guard let mailbox = self.mailbox, let appID,
            let target = try await self.owners.target(request, context, appID: appID), target.mode == .test
        else {
            return self.pages.problemPage(
                heading: "Page not found", message: "There is no test mailbox here.", retryURL: nil, Phrases(.english, brand: ""), status: .notFound)
        }
        let messages = mailbox.messages(organizationID: target.organization.id).map { entry in
            MailboxMessageView(to: entry.message.to, subject: entry.message.subject, text: entry.message.text, sentAt: Timestamp.format(entry.sentAt))
        }
        // A developer's page: in English, whatever the browser asks for.
        return self.pages.render("mailbox", MailboxView(brand: .plain, messages: messages), Phrases(.english, brand: ""), status: .ok)
    }
}
