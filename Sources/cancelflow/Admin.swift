import ArgumentParser
import CancelflowAPI
import CancelflowApp
import CancelflowCore
import Foundation

/// `cancelflow orgs …`
struct Orgs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage organizations.",
        subcommands: [Create.self, VerifyDomain.self, ConfigureFlow.self, ConfigureBilling.self]
    )

    /// `cancelflow orgs create`
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an organization with a test and a live key pair.")

        @OptionGroup var options: CommonOptions
        @Option(help: "The organization's name.") var name: String
        @Option(help: "Its subdomain label under --subdomain-base.") var subdomain: String?
        @Option(help: "Its own domain for hosted pages (used once verified).") var customDomain: String?
        @Option(help: "Billing provider: builtin, stripe or paddle.") var billing: BillingProviderKind = .builtin
        @Option(help: "A host allowed as returnUrl; repeat for more.") var returnHost: [String] = []
        @Flag(help: "Print JSON.") var json = false

        struct Output: Encodable {
            let id: String
            let test: IssuedCredentials
            let live: IssuedCredentials
        }

        func run() async throws {
            let created = try await withServices(self.options) { services in
                try await services.credentials.createOrganization(
                    name: self.name,
                    subdomain: self.subdomain,
                    customDomain: self.customDomain,
                    billingProvider: self.billing,
                    returnURLAllowlist: self.returnHost
                )
            }
            if self.json {
                try printJSON(Output(id: created.organization.id, test: created.test, live: created.live))
            } else {
                print("Created \(created.organization.id) (\(created.organization.name)). The API keys are shown only now.")
                print("test: App ID \(created.test.appId)  API key \(created.test.apiKey)")
                print("live: App ID \(created.live.appId)  API key \(created.live.apiKey)")
            }
        }
    }

    /// `cancelflow orgs verify-domain`
    struct VerifyDomain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark an organization's custom domain as verified, so links use it."
        )

        @OptionGroup var options: CommonOptions
        @Option(help: "Organization id.") var org: String

        func run() async throws {
            try await withServices(self.options) { services in
                try await services.organizations.verifyCustomDomain(organizationID: self.org)
            }
            print("Custom domain of \(self.org) is verified; new links use it.")
        }
    }
}

extension Orgs {
    /// `cancelflow orgs configure-flow`: the hosted flow's settings, until the dashboard edits them.
    struct ConfigureFlow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set an organization's cancel-flow settings; options not given keep their current value."
        )

        @OptionGroup var options: CommonOptions
        @Option(help: "Organization id.") var org: String
        @Option(help: "A survey reason; repeat for each (replaces the list).") var reason: [String] = []
        @Option(help: "Retention offer: none, pause:MONTHS or discount:PERCENT:MONTHS.") var offer: String?
        @Option(help: "When a cancellation takes effect: period_end or immediately.") var cancelTiming: String?
        @Option(help: "Brand colour, #rrggbb.") var brandColor: String?
        @Option(help: "https URL of the logo.") var logoUrl: String?
        @Flag(help: "Print the resulting settings as JSON.") var json = false

        struct Output: Encodable {
            let surveyReasons: [String]
            let offer: String
            let cancelTiming: String
            let brandColor: String
            let logoUrl: String?
        }

        func run() async throws {
            let change = OrganizationService.FlowSettingsChange(
                surveyReasons: self.reason, offer: self.offer, cancelTiming: self.cancelTiming, brandColor: self.brandColor,
                logoURL: self.logoUrl
            )
            let settings = try await withServices(self.options) { services in
                try await services.organizations.updateFlowSettings(organizationID: self.org, change)
            }
            if self.json {
                try printJSON(
                    Output(
                        surveyReasons: settings.surveyReasons, offer: settings.offer.text,
                        cancelTiming: settings.cancelTiming.rawValue, brandColor: settings.brandColor, logoUrl: settings.logoURL))
            } else {
                print("Cancel-flow settings of \(self.org) saved.")
            }
        }
    }
}

extension Orgs {
    /// `cancelflow orgs configure-billing`: which billing provider a mode uses, and its key.
    struct ConfigureBilling: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the billing provider of an organization's test or live mode.",
            discussion: """
                The provider's API key is read from --secret-key-file, or else from standard input (never from the \
                command line, where other users and shell history could see it). It is stored encrypted under the \
                server secret and shown afterwards only as its prefix and last four characters. Leave standard input \
                empty to keep the key already stored for the same provider.
                """
        )

        @OptionGroup var options: CommonOptions
        @Option(help: "Organization id.") var org: String
        @Option(help: "test or live.") var mode: Mode
        @Option(help: "builtin, stripe or paddle.") var provider: BillingProviderKind
        @Option(help: "A file holding the provider's API key (Stripe sk_/rk_ key, Paddle API key).") var secretKeyFile: String?
        @Option(
            help:
                "The provider's API address, for a local stand-in or a staging proxy; kept when configuring the same provider again, '' for the provider's own."
        )
        var apiBase: String?
        @Option(help: "Stripe only: pause_collection behavior, mark_uncollectible (default), keep_as_draft or void.")
        var pauseBehavior: String?
        @Flag(help: "Print the result as JSON.") var json = false

        struct Output: Encodable {
            let organizationId: String
            let mode: String
            let provider: String
            let key: String?
            let apiBase: String?
        }

        func run() async throws {
            var key: String?
            if self.provider != .builtin {
                if let path = self.secretKeyFile {
                    guard let data = FileManager.default.contents(atPath: path) else {
                        throw CancelflowError.configuration("could not read the key file \(path)")
                    }
                    key = String(decoding: data, as: UTF8.self)
                } else if isatty(STDIN_FILENO) == 0 {
                    key = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                }
                key = key?.trimmingCharacters(in: .whitespacesAndNewlines)
                if key?.isEmpty == true { key = nil }
            }
            var behavior: StripePauseBehavior?
            if let text = self.pauseBehavior {
                guard let value = StripePauseBehavior(rawValue: text) else {
                    throw CancelflowError.configuration("--pause-behavior must be mark_uncollectible, keep_as_draft or void")
                }
                behavior = value
            }
            let change = BillingAccountService.Change(provider: self.provider, secretKey: key, apiBase: self.apiBase, pauseBehavior: behavior)
            let account = try await withServices(self.options) { services in
                try await services.billingAccounts.configure(organizationID: self.org, mode: self.mode, change)
            }
            if self.json {
                try printJSON(
                    Output(
                        organizationId: account.organizationID, mode: account.mode.rawValue, provider: account.provider.rawValue,
                        key: account.keyHint, apiBase: account.apiBase))
            } else {
                let key = account.keyHint.map { ", key \($0)" } ?? ""
                let base = account.apiBase.map { " at \($0)" } ?? ""
                print("\(self.org) \(self.mode.rawValue) mode: \(account.provider.rawValue)\(key)\(base).")
            }
        }
    }
}

/// `cancelflow keys …`
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage API keys.", subcommands: [Rotate.self])

    /// `cancelflow keys rotate`
    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a new API key; older keys keep working for the grace period, then stop."
        )

        @OptionGroup var options: CommonOptions
        @Option(help: "Organization id.") var org: String
        @Option(help: "test or live.") var mode: Mode
        @Option(help: "How long older keys keep working: 0, 30m, 24h, up to 7d.") var grace: String = "24h"
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            guard let grace = DurationText.parse(self.grace) else {
                throw CommandFailure(message: "--grace must be a duration such as 0, 30m, 24h or 7d.")
            }
            let issued = try await withServices(self.options) { services in
                try await services.credentials.rotateKey(organizationID: self.org, mode: self.mode, grace: grace)
            }
            if self.json {
                try printJSON(issued)
            } else {
                print("New \(self.mode.rawValue) API key for \(issued.appId): \(issued.apiKey)  (shown only now)")
            }
        }
    }
}

/// `cancelflow links …`
struct Links: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel Links for support staff.", subcommands: [Create.self])

    /// `cancelflow links create`: mints through the same code path as the API.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mint a Cancel Link for a customer.")

        @OptionGroup var options: CommonOptions
        @Option(help: "Organization id.") var org: String
        @Option(help: "test or live.") var mode: Mode
        @Option(help: "The billing provider's customer id.") var customer: String
        @Option(help: "Narrow the flow to one subscription.") var subscription: String?
        @Option(help: "Lifetime, 1h to 30d (default: the organization's session link expiration).") var expiresIn: String?
        @Flag(help: "Allow the link to be used more than once until it expires.") var reusable = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            var lifetime: TimeInterval?
            if let text = self.expiresIn {
                guard let value = DurationText.parse(text), value > 0 else {
                    throw CommandFailure(message: "--expires-in must be a duration such as 1h, 24h or 30d.")
                }
                lifetime = value
            }
            let requestedLifetime = lifetime
            let body = try await withServices(self.options) { services -> CancelSession in
                let organization = try await services.organizations.organization(id: self.org)
                let now = services.time.now()
                let minted = try await services.links.mint(
                    organization: organization,
                    mode: self.mode,
                    request: .init(
                        customerID: self.customer,
                        subscriptionID: self.subscription,
                        expiresAt: now.addingTimeInterval(requestedLifetime ?? organization.sessionLinkExpiration),
                        singleUse: !self.reusable
                    )
                )
                return cancelSessionBody(minted.link, now: now, url: minted.url, token: minted.token)
            }
            if self.json {
                try printJSON(body)
            } else {
                print(body.url ?? "")
            }
        }
    }
}

/// `cancelflow webhooks …`
struct Webhooks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage webhook endpoints.",
        subcommands: [Add.self, List.self, Delete.self, RotateSecret.self, Test.self]
    )

    /// Options naming one endpoint.
    struct EndpointOptions: ParsableArguments {
        @Option(help: "Organization id.") var org: String
        @Option(help: "test or live.") var mode: Mode
        @Option(help: "Endpoint id (we_…).") var endpoint: String
    }

    /// `cancelflow webhooks delete`
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an endpoint; its pending deliveries stop.")
        @OptionGroup var options: CommonOptions
        @OptionGroup var target: EndpointOptions

        func run() async throws {
            try await withServices(self.options) { services in
                try await services.webhooks.deleteEndpoint(organizationID: self.target.org, mode: self.target.mode, id: self.target.endpoint)
            }
            print("Deleted \(self.target.endpoint).")
        }
    }

    /// `cancelflow webhooks rotate-secret`
    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A new signing secret; the old one signs alongside for 24 hours.")
        @OptionGroup var options: CommonOptions
        @OptionGroup var target: EndpointOptions

        func run() async throws {
            let secret = try await withServices(self.options) { services in
                try await services.webhooks.rotateSecret(organizationID: self.target.org, mode: self.target.mode, id: self.target.endpoint)
            }
            print(secret)
        }
    }

    /// `cancelflow webhooks test`
    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a ping event for an endpoint.")
        @OptionGroup var options: CommonOptions
        @OptionGroup var target: EndpointOptions

        func run() async throws {
            let eventID = try await withServices(self.options) { services in
                try await services.webhooks.ping(organizationID: self.target.org, mode: self.target.mode, id: self.target.endpoint)
            }
            print("Queued ping \(eventID); a running serve or worker delivers it.")
        }
    }

    /// `cancelflow webhooks add`
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an endpoint; prints its signing secret once.")

        @OptionGroup var options: CommonOptions
        @Option(help: "Organization id.") var org: String
        @Option(help: "test or live.") var mode: Mode
        @Option(help: "The endpoint URL.") var url: String
        @Option(help: "An event type to send; repeat for more (default: all).") var event: [String] = []

        func run() async throws {
            let secret = try await withServices(self.options) { services -> String in
                try await services.webhooks.createEndpoint(organizationID: self.org, mode: self.mode, url: self.url, events: self.event).1
            }
            print(secret)
        }
    }

    /// `cancelflow webhooks list`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organization's endpoints.")

        @OptionGroup var options: CommonOptions
        @Option(help: "Organization id.") var org: String
        @Option(help: "test or live.") var mode: Mode

        func run() async throws {
            let endpoints = try await withServices(self.options) { services in
                try await services.webhooks.endpoints(organizationID: self.org, mode: self.mode)
            }
            for endpoint in endpoints {
                print("\(endpoint.id)  \(endpoint.disabledAt == nil ? "enabled " : "disabled")  \(endpoint.url)")
            }
        }
    }
}
