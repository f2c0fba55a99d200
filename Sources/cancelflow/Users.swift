import ArgumentParser
import CancelflowApp
import CancelflowCore
import Foundation

extension DashboardRole: ExpressibleByArgument {}

/// `cancelflow users …`: dashboard accounts, from the machine the service runs on. No password
/// ever goes on a command line (shell history, `ps`): each command prints a one-time link where
/// the person chooses their own.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dashboard accounts: invite people, reset a password, list an organization's team.",
        subcommands: [Create.self, ResetLink.self, List.self]
    )

    /// `cancelflow users create`
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Invite a person to an organization's dashboard: prints a one-time set-up link (24 hours)."
        )

        @OptionGroup var options: CommonOptions
        @Option(help: "Organization id.") var org: String
        @Option(help: "Their email address (they sign in with it).") var email: String
        @Option(help: "owner, admin or support.") var role: DashboardRole
        @Flag(help: "Print JSON.") var json = false

        struct Output: Encodable {
            let organizationId: String
            let email: String
            let role: String
            let setupUrl: String
        }

        func run() async throws {
            let output = try await withServices(self.options) { services in
                _ = try await services.organizations.organization(id: self.org)
                let token = try await services.dashboardAuth.invite(
                    organizationID: self.org, email: self.email, role: self.role, by: .commandLine)
                return Output(
                    organizationId: self.org, email: try DashboardAuthService.normalizedEmail(self.email), role: self.role.rawValue,
                    setupUrl: "\(services.publicBase)/dashboard/setup/\(token)")
            }
            if self.json {
                try printJSON(output)
            } else {
                print("Set-up link for \(output.email) (\(output.role)); it works once, for 24 hours:")
                print(output.setupUrl)
            }
        }
    }

    /// `cancelflow users reset-link`
    struct ResetLink: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A one-time link (24 hours) to choose a new password; it also removes two-step sign-in, for a lost device."
        )

        @OptionGroup var options: CommonOptions
        @Option(help: "The account's email address.") var email: String

        func run() async throws {
            let url = try await withServices(self.options) { services in
                let (_, token) = try await services.dashboardAuth.operatorResetLink(email: self.email)
                return "\(services.publicBase)/dashboard/reset/\(token)"
            }
            print(url)
        }
    }

    /// `cancelflow users list`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organization's dashboard accounts.")

        @OptionGroup var options: CommonOptions
        @Option(help: "Organization id.") var org: String

        func run() async throws {
            let team = try await withServices(self.options) { services in
                try await services.dashboardAuth.team(organizationID: self.org)
            }
            for user in team {
                let state = user.disabledAt != nil ? "disabled" : (user.hasTOTP ? "two-step" : "password")
                print(
                    "\(user.id)  \(user.role.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))  \(state.padding(toLength: 9, withPad: " ", startingAt: 0))  \(user.email)"
                )
            }
        }
    }
}
