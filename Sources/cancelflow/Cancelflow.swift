import ArgumentParser
import CancelflowAPI
import CancelflowApp
import CancelflowCore
import Configuration
import Foundation
import Logging

/// `cancelflow`: serve the API and hosted pages, or manage organizations, keys and links.
@main
struct Cancelflow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancelflow",
        abstract: "Cancel Links: signed, single-use URLs that land a customer on their cancel flow.",
        subcommands: [
            Serve.self, Worker.self, Migrate.self, Backup.self, Orgs.self, Keys.self, Links.self, Webhooks.self, Users.self, SettingsList.self,
        ],
        defaultSubcommand: Serve.self
    )
}

/// The settings every command shares (`--database`, `--port`, …), parsed by the table in
/// `Settings` rather than declared here one by one: each falls back to its `CANCELFLOW_*`
/// environment variable, then to `.env` in the working directory, then to its default.
struct CommonOptions: ParsableArguments {
    @Argument(
        parsing: .allUnrecognized,
        help: ArgumentHelp("Settings, e.g. --database sqlite:app.sqlite --port 8080 (`cancelflow settings` lists them all).", valueName: "setting")
    )
    var settings: [String] = []

    func validate() throws {
        do {
            _ = try Settings.parse(arguments: self.settings)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The configuration reader: flags, then environment, then `.env`.
    func reader() async throws -> ConfigReader {
        let values: [AbsoluteConfigKey: ConfigValue]
        do {
            values = try Settings.parse(arguments: self.settings)
        } catch {
            throw ValidationError(error.description)
        }
        return try await Settings.reader(commandLine: values)
    }

    /// The parsed configuration.
    func configuration() async throws -> AppConfiguration {
        do {
            return try AppConfiguration(reader: try await self.reader())
        } catch {
            throw CommandFailure(error)
        }
    }
}

/// `cancelflow settings`: every setting with its environment variable and default.
struct SettingsList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "List every setting: its flag, environment variable and default (every command takes them)."
    )

    func run() {
        print(Settings.helpText)
    }
}

/// A failure shown to the person at the terminal as one readable line.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String

    init(_ error: any Error) {
        if let error = error as? CancelflowError {
            self.description = error.message
        } else if let error = error as? CommandFailure {
            self.description = error.description
        } else {
            self.description = String(describing: error)
        }
    }

    init(message: String) {
        self.description = message
    }
}

/// A logger for the commands: to standard error, so standard output stays clean for `--json`.
func commandLogger(level: Logger.Level = .warning) -> Logger {
    var logger = Logger(label: "cancelflow") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = level
    return logger
}

/// Runs a command body against the configured database, turning errors into one line.
func withServices<Result: Sendable>(
    _ options: CommonOptions,
    _ body: @Sendable (CommandServices) async throws -> Result
) async throws -> Result {
    let configuration = try await options.configuration()
    do {
        return try await AppServices.withCommandServices(configuration: configuration, logger: commandLogger(), body)
    } catch {
        throw CommandFailure(error)
    }
}

/// Writes JSON to standard output.
func printJSON<Value: Encodable>(_ value: Value) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

extension Mode: ExpressibleByArgument {}
extension BillingProviderKind: ExpressibleByArgument {}
