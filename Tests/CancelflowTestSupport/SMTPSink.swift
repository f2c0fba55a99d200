import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real SMTP server (aiosmtpd, from PyPI) on loopback that keeps every message it accepts.
public final class SMTPSink: Sendable {
    public let port: Int
    let folder: URL
    let process: Process

    /// Starts the sink; with `starttls` it offers STARTTLS with a fresh self-signed certificate,
    /// with `auth` ("user:pass") it requires AUTH, with `reject` it refuses that recipient. A free
    /// port can be taken by another test between choosing it and binding it, so a failed start is
    /// tried again on another port.
    public init(starttls: Bool = false, auth: String? = nil, reject: String? = nil) async throws {
        self.folder = FileManager.default.temporaryDirectory.appendingPathComponent("smtp-sink-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.folder, withIntermediateDirectories: true)
        var options: [String] = []
        if starttls {
            let cert = self.folder.appendingPathComponent("cert.pem").path
            let key = self.folder.appendingPathComponent("key.pem").path
            let made = try await runProcess("/usr/bin/env", [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
            ])
            guard made.status == 0 else { throw TestSetupError("openssl could not make a certificate: \(made.stderr)") }
            options += ["--starttls", cert, key]
        }
        if let auth { options += ["--auth", auth] }
        if let reject { options += ["--reject", reject] }
        for attempt in 1...3 {
            let port = try freePort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", Self.script, String(port), self.folder.appendingPathComponent("mail").path] + options
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            // "ready" arrives once the server listens; end of output means it died (port taken).
            let handle = output.fileHandleForReading
            let ready: Bool = await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    let data = handle.availableData
                    continuation.resume(returning: String(decoding: data, as: UTF8.self).contains("ready"))
                }
            }
            if ready {
                self.port = port
                self.process = process
                return
            }
            Self.kill(process)
            if attempt == 3 { break }
        }
        try? FileManager.default.removeItem(at: self.folder)
        throw TestSetupError("the SMTP sink (aiosmtpd) did not start; scripts/test installs it")
    }

    static func kill(_ process: Process) {
        // SIGKILL and a short poll rather than waitUntilExit, which was seen to hang here.
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            for _ in 0..<200 where process.isRunning { usleep(10_000) }
        }
    }

    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("email/smtp_sink.py").path
    }

    /// The raw messages received so far, oldest first.
    public var messages: [String] {
        let mail = self.folder.appendingPathComponent("mail")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: mail.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
        return names.compactMap { try? String(contentsOf: mail.appendingPathComponent($0), encoding: .utf8) }
    }

    public func stop() {
        Self.kill(self.process)
        try? FileManager.default.removeItem(at: self.folder)
    }
}

/// The decoded text of a message's part of a MIME type (base64 parts).
public func mimePart(_ message: String, type: String) -> String? {
    let normalized = message.replacingOccurrences(of: "\r\n", with: "\n")
    guard let header = normalized.range(of: "Content-Type: \(type)") else { return nil }
    let rest = normalized[header.upperBound...]
    guard let bodyStart = rest.range(of: "\n\n") else { return nil }
    let body = rest[bodyStart.upperBound...].prefix { $0 != "-" }
    let base64 = body.split(separator: "\n").joined()
    return Data(base64Encoded: String(base64)).map { String(decoding: $0, as: UTF8.self) }
}
