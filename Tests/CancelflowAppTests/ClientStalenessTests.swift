import CancelflowTestSupport
import Foundation
import Testing

/// The generated client is committed, not built by the plugin: this fails when openapi.yaml, the
/// generator's settings or a generated file changed since `scripts/generate-client` last ran
/// (the stamp holds their hashes), so the SDK cannot silently drift from the document.
@Suite struct ClientStalenessTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let stamp = "Tools/OpenAPIGenerator/generated.sha256"

    @Test func theGeneratedClientMatchesOpenAPIYAML() async throws {
        let checked = try await runProcess("/usr/bin/env", ["sha256sum", "--check", "--strict", Self.stamp], directory: Self.root.path)
        #expect(checked.status == 0, "stale: run scripts/generate-client\n\(checked.stdout)\(checked.stderr)")
        // The folder holds exactly the stamped files: none added by hand, none lost.
        let stamped = try String(contentsOf: Self.root.appendingPathComponent(Self.stamp), encoding: .utf8)
        let prefix = "Sources/CancelflowClient/GeneratedSources/"
        let listed = Set(
            stamped.split(separator: "\n").compactMap { line in
                line.split(separator: " ", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
            }.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
        let generated = Set(try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent(prefix).path))
        #expect(generated == listed, "only in the folder: \(generated.subtracting(listed)); only stamped: \(listed.subtracting(generated))")
        // A file per operation and per schema (scripts/split-generated), besides the generator's own.
        #expect(generated.filter { $0.hasPrefix("Operation+") }.count == 28)
        #expect(generated.contains("Schema+CancelSession.swift"))
        for source in ["openapi.yaml", "scripts/split-generated"] {
            #expect(stamped.contains("  \(source)\n"), "\(source) is not in the stamp")
        }
    }

    /// The check can fail: a copy of the tree with openapi.yaml changed is reported stale.
    @Test func anEditedDocumentIsReportedStale() async throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("stamp-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        for path in ["openapi.yaml", "scripts/split-generated", "Tools/OpenAPIGenerator", "Sources/CancelflowClient/GeneratedSources"] {
            let target = copy.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Self.root.appendingPathComponent(path), to: target)
        }
        let fresh = try await runProcess("/usr/bin/env", ["sha256sum", "--check", "--strict", Self.stamp], directory: copy.path)
        #expect(fresh.status == 0)
        let handle = try FileHandle(forWritingTo: copy.appendingPathComponent("openapi.yaml"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("# an edit\n".utf8))
        try handle.close()
        let stale = try await runProcess("/usr/bin/env", ["sha256sum", "--check", "--strict", Self.stamp], directory: copy.path)
        #expect(stale.status != 0)
        #expect(stale.stdout.contains("openapi.yaml: FAILED"))
    }
}
