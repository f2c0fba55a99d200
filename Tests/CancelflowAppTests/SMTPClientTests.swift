import CancelflowApp
import CancelflowTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The SMTP client against a real SMTP server (aiosmtpd) on loopback.
@Suite struct SMTPClientTests {
    /// The exchanges below are not about speed: a loaded two-core machine (browsers and servers
    /// of other suites starting at once) once kept the sink from answering within the client's
    /// default 15 seconds. The timeout itself is tested apart, with a server that never answers.
    static let patient: Duration = .seconds(90)

    static let message = EmailMessage(
        from: "Acme <no-reply@acme.test>",
        to: "ada@example.com",
        subject: "Your code: 123456 — Acme",
        text: "Your verification code is 123456.\n.A line that starts with a dot.",
        html: "<p>Your verification code is <strong>123456</strong>.</p>"
    )

    @Test func aMessageArrivesWithATextAndAnHTMLPart() async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await SMTPClient(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:\(sink.port)", timeout: Self.patient)).send(Self.message)
        let received = try #require(sink.messages.first)

        #expect(received.contains("To: ada@example.com"))
        #expect(received.contains("Subject: =?UTF-8?B?"), "a non-ASCII subject is encoded")
        #expect(mimePart(received, type: "text/plain")?.contains("Your verification code is 123456.") == true)
        #expect(mimePart(received, type: "text/plain")?.contains("\n.A line that starts with a dot.") == true)
        #expect(mimePart(received, type: "text/html")?.contains("<strong>123456</strong>") == true)
    }

    @Test func startTLSAndAuthentication() async throws {
        let sink = try await SMTPSink(starttls: true, auth: "mailer:s3cret")
        defer { sink.stop() }
        let url = "smtp://mailer:s3cret@127.0.0.1:\(sink.port)?starttls=required&verify=false"
        try await SMTPClient(configuration: try SMTPConfiguration(url: url, timeout: Self.patient)).send(Self.message)
        #expect(sink.messages.count == 1)
        let wrong = "smtp://mailer:nope@127.0.0.1:\(sink.port)?starttls=required&verify=false"
        do {
            try await SMTPClient(configuration: try SMTPConfiguration(url: wrong, timeout: Self.patient)).send(Self.message)
            Issue.record("a wrong password must fail")
        } catch let error as SMTPError {
            #expect(error == .rejected(code: 535, reply: "5.7.8 Authentication credentials invalid", during: "the login"))
            #expect(!error.description.contains("nope"))
        }
        // Verifying the self-signed certificate fails, as it should.
        let verifying = "smtp://mailer:s3cret@127.0.0.1:\(sink.port)?starttls=required"
        let loginsBefore = sink.logins.count
        do {
            try await SMTPClient(configuration: try SMTPConfiguration(url: verifying, timeout: Self.patient)).send(Self.message)
            Issue.record("a self-signed certificate must not be accepted")
        } catch {
            // (NIO reports the refused certificate as the channel closing under the client.)
            #expect(!String(describing: error).contains("s3cret"))
            #expect(sink.logins.count == loginsBefore, "the password never reached the server")
        }
        #expect(sink.messages.count == 1)
    }

    /// A server (or a man in the middle) that does not offer STARTTLS never gets the password:
    /// the login is not sent and nothing is delivered, unless the operator opted out for a
    /// server on this machine.
    @Test func aPasswordIsNeverSentInTheClear() async throws {
        let sink = try await SMTPSink(auth: "mailer:s3cret")
        defer { sink.stop() }
        let url = "smtp://mailer:s3cret@127.0.0.1:\(sink.port)"
        await #expect(throws: SMTPError.tlsUnavailable) {
            try await SMTPClient(configuration: try SMTPConfiguration(url: url, timeout: Self.patient)).send(Self.message)
        }
        let opportunistic = "smtp://mailer:s3cret@127.0.0.1:\(sink.port)?starttls=opportunistic"
        await #expect(throws: SMTPError.tlsUnavailable) {
            try await SMTPClient(configuration: try SMTPConfiguration(url: opportunistic, timeout: Self.patient)).send(Self.message)
        }
        #expect(sink.logins.isEmpty, "no login reached the server")
        #expect(sink.messages.isEmpty)
        // The explicit opt-out, for a loopback test server.
        try await SMTPClient(configuration: try SMTPConfiguration(url: url + "?starttls=never", timeout: Self.patient)).send(Self.message)
        #expect(sink.logins == ["plain"])
        #expect(sink.messages.count == 1)
    }

    @Test func requiredSTARTTLSIsNotSkipped() async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        let url = "smtp://127.0.0.1:\(sink.port)?starttls=required"
        await #expect(throws: SMTPError.tlsUnavailable) {
            try await SMTPClient(configuration: try SMTPConfiguration(url: url, timeout: Self.patient)).send(Self.message)
        }
        #expect(sink.messages.isEmpty)
    }

    @Test func aRejectedRecipientIsAClearError() async throws {
        let sink = try await SMTPSink(reject: "ada@example.com")
        defer { sink.stop() }
        do {
            try await SMTPClient(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:\(sink.port)", timeout: Self.patient)).send(Self.message)
            Issue.record("the send should have failed")
        } catch let error as SMTPError {
            guard case .rejected(let code, _, let step) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(code == 550)
            #expect(step == "the recipient")
        }
        #expect(sink.messages.isEmpty)
    }

    @Test func aServerThatIsDownOrSilentFailsInTime() async throws {
        let refused = try RefusedPort()
        defer { refused.close() }
        let closed = refused.port
        await #expect(throws: SMTPError.self) {
            try await SMTPClient(configuration: try SMTPConfiguration(url: "smtp://127.0.0.1:\(closed)", timeout: Self.patient)).send(Self.message)
        }
        // A socket that accepts connections but never greets.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listen(fd, 4)
        let port = Int(UInt16(bigEndian: address.sin_port))
        // Long enough for the connection to be set up on a loaded machine, so the deadline is
        // met while waiting for the greeting.
        let silent = try SMTPConfiguration(url: "smtp://127.0.0.1:\(port)", timeout: .seconds(3))
        await #expect(throws: SMTPError.timeout(during: "the greeting")) { try await SMTPClient(configuration: silent).send(Self.message) }
    }

    @Test func configurationURLs() throws {
        let plain = try SMTPConfiguration(url: "smtp://user%40x:p%3Ass@mail.example.com")
        // With a password, TLS is required unless asked otherwise.
        #expect(plain.port == 587 && plain.username == "user@x" && plain.password == "p:ss" && plain.security == .startTLSRequired)
        #expect(try SMTPConfiguration(url: "smtp://mail.example.com").security == .opportunistic)
        #expect(throws: SMTPError.self) { try SMTPConfiguration(url: "smtp://u:p@mail.example.com?starttls=never") }
        #expect(throws: SMTPError.self) { try SMTPConfiguration(url: "smtp://u:p@mail.example.com?starttls=sometimes") }
        #expect(try SMTPConfiguration(url: "smtp://u:p@127.0.0.1:2525?starttls=never").security == .plaintext)
        #expect(try SMTPConfiguration(url: "smtp://mail.example.com?starttls=never").security == .plaintext)
        #expect(try SMTPConfiguration(url: "smtps://mail.example.com").port == 465)
        #expect(try SMTPConfiguration(url: "smtps://mail.example.com").security == .implicitTLS)
        #expect(throws: SMTPError.self) { try SMTPConfiguration(url: "http://mail.example.com") }
        #expect(!SMTPError.rejected(code: 535, reply: "bad", during: "the login").description.contains("s3cret"))
    }
}
