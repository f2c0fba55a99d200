import CancelflowApp
import Configuration
import Foundation
import Testing

/// The settings table is the one place a configuration key is written; these tests hold the
/// README, the environment-variable names and the command-line parsing to it.
@Suite struct SettingsTableTests {
    /// The README's configuration table: flag → (environment cell, default cell).
    static func readmeRows() throws -> [String: (environment: String, defaultText: String)] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        var rows: [String: (String, String)] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `--") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 5 else { continue }
            let flag = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            rows[flag] = (cells[2], cells[3])
        }
        return rows
    }

    @Test func theReadmeListsEverySettingWithItsVariableAndDefault() throws {
        let rows = try Self.readmeRows()
        #expect(rows.count >= Settings.all.count)
        for setting in Settings.all {
            let row = try #require(rows[setting.flag], "README has no row for \(setting.flag)")
            let variable = "`\(setting.environmentVariable)`" + (setting.isSecret ? " (secret)" : "")
            #expect(row.environment == variable, "\(setting.flag)")
            #expect(row.defaultText == setting.documentedDefault, "\(setting.flag)")
        }
    }

    @Test func theReadmeListsNoSettingThatDoesNotExist() throws {
        let known = Set(Settings.all.map(\.flag))
        for flag in try Self.readmeRows().keys {
            #expect(known.contains(flag), "README documents \(flag), which is not in the settings table")
        }
    }

    @Test func environmentVariableNamesAreTheOnesTheConfigurationReaderLooksUp() {
        for setting in Settings.all {
            let provider = EnvironmentVariablesProvider(environmentVariables: [setting.environmentVariable: "probe"])
            let reader = ConfigReader(provider: provider).scoped(to: ConfigKey(AppConfiguration.scope))
            #expect(reader.string(forKey: ConfigKey(setting.key)) == "probe", "\(setting.environmentVariable)")
        }
    }

    @Test func everyFlagParsesToItsKey() throws {
        for setting in Settings.all {
            let arguments: [String] =
                switch setting.kind {
                case .flag: [setting.flag]
                case .boolean: [setting.flag, "true"]
                case .integer, .number: ["\(setting.flag)=7"]
                case .text: [setting.flag, "x"]
                }
            let values = try Settings.parse(arguments: arguments)
            #expect(values.keys.map(\.components) == [[AppConfiguration.scope, setting.key]], "\(setting.flag)")
            #expect(values.values.first?.isSecret == setting.isSecret)
        }
    }

    @Test(arguments: [
        (["--no-such-option", "1"], "Unknown option '--no-such-option'."),
        (["--port"], "Missing value for '--port'."),
        (["--port", "eighty"], "The value 'eighty' is invalid for '--port': a whole number."),
        (["--rate-limit", "nan"], "The value 'nan' is invalid for '--rate-limit': a number."),
        (["--dev-mailbox", "yes"], "The value 'yes' is invalid for '--dev-mailbox': true or false."),
        (["--metrics=on"], "--metrics takes no value."),
        (["stray"], "Unexpected argument 'stray'."),
    ])
    func badArgumentsAreRefusedWithTheReason(arguments: [String], message: String) {
        let error = #expect(throws: Settings.UsageError.self) { _ = try Settings.parse(arguments: arguments) }
        #expect(error?.description == message)
    }

    @Test func theCommandLineWinsOverTheEnvironment() async throws {
        let values = try Settings.parse(arguments: ["--port", "9001"])
        let reader = ConfigReader(providers: [
            InMemoryProvider(name: "command line", values: values),
            EnvironmentVariablesProvider(environmentVariables: ["CANCELFLOW_PORT": "9002", "CANCELFLOW_HOST": "0.0.0.0"]),
        ])
        let configuration = try AppConfiguration(reader: reader)
        #expect(configuration.port == 9001)
        #expect(configuration.host == "0.0.0.0")
    }

    @Test func unsetSettingsTakeTheTablesDefaults() throws {
        let configuration = try AppConfiguration(reader: ConfigReader(provider: InMemoryProvider(values: [:])))
        func literal(_ flag: String) throws -> String {
            let setting = try #require(Settings.all.first { $0.flag == flag })
            guard case .value(let value) = setting.defaultValue else { throw SettingsTestError.notLiteral(flag) }
            return value
        }
        #expect(String(configuration.port) == (try literal("--port")))
        #expect(configuration.host == (try literal("--host")))
        #expect(configuration.database == .sqlite(path: String(try literal("--database").dropFirst("sqlite:".count))))
        #expect(configuration.verifyOrganizationLimit == Int(try literal("--verify-organization-limit")))
        #expect(configuration.readTimeoutSeconds == Double(try literal("--read-timeout")))
        #expect(configuration.metrics == false)
    }

    enum SettingsTestError: Error {
        case notLiteral(String)
    }
}
