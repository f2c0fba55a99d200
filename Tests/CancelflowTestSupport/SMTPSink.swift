import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real SMTP server (aiosmtpd, from PyPI) on loopback that keeps every message it accepts.
public final class SMTPSink: Sendable {
    public let port: Int
    let folder: URL
    let child: ChildProcess

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
            let made = try await runProcess(
                "/usr/bin/env",
                [
                    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
                ])
            guard made.status == 0 else { throw TestSetupError("openssl could not make a certificate: \(made.stderr)") }
            options += ["--starttls", cert, key]
        }
        if let auth { options += ["--auth", auth] }
        if let reject { options += ["--reject", reject] }
        for _ in 1...3 {
            let port = try freePort()
            // Only stdout: a failed start's traceback on stderr quotes aiosmtpd's `ready_timeout`,
            // and was once taken for the sink's "ready" (then nothing listened on the port).
            let child = try ChildProcess(
                "/usr/bin/env", ["python3", Self.script, String(port), self.folder.appendingPathComponent("mail").path] + options,
                captureErrors: false
            )
            // "ready" arrives once the server listens; an exit means it died (port taken).
            let deadline = ContinuousClock.now + .seconds(20)
            while child.printed != "ready\n" && !child.hasExited && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            if child.printed == "ready\n" && !child.hasExited {
                self.port = port
                self.child = child
                return
            }
            child.killNow()
        }
        try? FileManager.default.removeItem(at: self.folder)
        throw TestSetupError("the SMTP sink (aiosmtpd) did not start; scripts/test installs it")
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

    /// The logins that reached the server, each "tls" or "plain".
    public var logins: [String] {
        let mail = self.folder.appendingPathComponent("mail")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: mail.path)) ?? []).filter { $0.hasSuffix(".auth") }
        return names.compactMap { try? String(contentsOf: mail.appendingPathComponent($0), encoding: .utf8) }
    }

    /// Kills the sink without waiting for it (this runs in `defer`, on the cooperative pool).
    public func stop() {
        self.child.killNow()
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

/// A message's `Subject`, decoded when it is an RFC 2047 encoded word (`=?UTF-8?B?…?=`), as a
/// mail client shows it.
public func mimeSubject(_ message: String) -> String? {
    let normalized = message.replacingOccurrences(of: "\r\n", with: "\n")
    guard let line = normalized.split(separator: "\n").first(where: { $0.hasPrefix("Subject: ") }) else { return nil }
    let value = line.dropFirst("Subject: ".count)
    guard value.hasPrefix("=?UTF-8?B?"), value.hasSuffix("?=") else { return String(value) }
    let base64 = value.dropFirst("=?UTF-8?B?".count).dropLast(2)
    return Data(base64Encoded: String(base64)).map { String(decoding: $0, as: UTF8.self) }
}
