import Foundation
import NIOCore
import NIOExtras
import NIOPosix
import NIOSSL
import Synchronization

/// Where and how to send mail: `smtp://[user:pass@]host[:port]` (STARTTLS when the server offers
/// it; `?starttls=required` refuses to go on without it) or `smtps://…` (TLS from the first byte).
public struct SMTPConfiguration: Sendable, Equatable {
    public enum Security: String, Sendable, Equatable {
        /// Upgrade with STARTTLS when the server offers it.
        case opportunistic
        /// Fail unless the server offers STARTTLS.
        case startTLSRequired
        /// TLS from connection (port 465).
        case implicitTLS
        /// Never STARTTLS (`?starttls=never`): allowed with a password only for a server on
        /// this machine, for tests and local relays.
        case plaintext
    }

    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var security: Security
    /// Verify the server's certificate (only tests against a self-signed server turn it off).
    public var verifyCertificate: Bool
    /// The name given in EHLO.
    public var heloName: String
    /// The most any one step may take.
    public var timeout: Duration

    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        return host == "localhost" || host == "::1" || host == "[::1]" || (host.hasPrefix("127.") && host.split(separator: ".").count == 4)
    }

    /// Parses an `smtp://` or `smtps://` URL.
    public init(url: String, heloName: String = "cancelflow.localhost", timeout: Duration = .seconds(15)) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "smtp" || scheme == "smtps", let host = components.host, !host.isEmpty
        else { throw SMTPError.configuration("--smtp-url must look like smtp://user:pass@host:587 or smtps://host:465") }
        self.host = host
        self.port = components.port ?? (scheme == "smtps" ? 465 : 587)
        self.username = components.user?.removingPercentEncoding
        self.password = components.password?.removingPercentEncoding
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
        let credentials = self.username != nil || self.password != nil
        if scheme == "smtps" {
            self.security = .implicitTLS
        } else {
            switch query["starttls"] {
            case "required": self.security = .startTLSRequired
            case "never": self.security = .plaintext
            // A password never crosses the network in the clear: with credentials, a server
            // that does not offer STARTTLS (or a man in the middle who strips the offer) is an
            // error, not a reason to log in without encryption.
            case nil, "", "opportunistic": self.security = credentials ? .startTLSRequired : .opportunistic
            default: throw SMTPError.configuration("--smtp-url's starttls must be required, opportunistic or never")
            }
        }
        if credentials, self.security == .plaintext, !Self.isLoopback(host) {
            throw SMTPError.configuration(
                "--smtp-url with a user and password needs TLS (STARTTLS or smtps://); starttls=never is allowed only for a server on this machine"
            )
        }
        self.verifyCertificate = query["verify"] != "false"
        self.heloName = heloName
        self.timeout = timeout
    }
}

/// One email: a plain-text and an HTML part.
public struct EmailMessage: Sendable, Equatable {
    public var from: String
    public var to: String
    public var subject: String
    public var text: String
    public var html: String

    public init(from: String, to: String, subject: String, text: String, html: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
    }
}

/// What went wrong sending mail. Messages never contain the message body or the password.
public enum SMTPError: Error, Equatable, CustomStringConvertible {
    case configuration(String)
    case connection(String)
    case timeout(during: String)
    case rejected(code: Int, reply: String, during: String)
    case tlsUnavailable

    public var description: String {
        switch self {
        case .configuration(let text): text
        case .connection(let text): "Could not connect to the mail server: \(text)"
        case .timeout(let step): "The mail server did not answer in time (\(step))."
        case .rejected(let code, let reply, let step): "The mail server refused \(step): \(code) \(reply)"
        case .tlsUnavailable: "The mail server does not offer STARTTLS, which the configuration requires."
        }
    }
}

/// A small SMTP client on SwiftNIO: EHLO, STARTTLS, AUTH PLAIN, one message, QUIT. One connection
/// per message: verification codes are few, and a fresh connection never carries state over.
public struct SMTPClient: Sendable {
    let configuration: SMTPConfiguration

    public init(configuration: SMTPConfiguration) {
        self.configuration = configuration
    }

    /// Sends a message; throws `SMTPError`. The whole conversation is under one deadline, and
    /// a timeout says which step it stopped at.
    public func send(_ message: EmailMessage) async throws {
        let progress = Progress()
        let timeout = self.configuration.timeout
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.converse(message, progress: progress) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw SMTPError.timeout(during: progress.step)
            }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    func converse(_ message: EmailMessage, progress: Progress) async throws {
        let configuration = self.configuration
        let tlsContext = try Self.tlsContext(verify: configuration.verifyCertificate)
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(Int64(configuration.timeout.components.seconds)))
                .connect(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if configuration.security == .implicitTLS {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: tlsContext, serverHostname: Self.sniName(configuration.host))
                            )
                        }
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw SMTPError.connection(String(describing: error))
        }
        try await channel.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            var session = Session(configuration: configuration, outbound: outbound, progress: progress)
            func expect(_ codes: ClosedRange<Int>, _ step: String) async throws -> [String] {
                try await session.reply(from: &lines, expecting: codes, step: step)
            }
            _ = try await expect(220...220, "the greeting")
            var capabilities = try await session.command("EHLO \(configuration.heloName)", &lines, 250...250, "EHLO")
            var encrypted = configuration.security == .implicitTLS
            if configuration.security == .opportunistic || configuration.security == .startTLSRequired {
                let offered = capabilities.contains { $0.uppercased().hasPrefix("STARTTLS") }
                if offered {
                    _ = try await session.command("STARTTLS", &lines, 220...220, "STARTTLS")
                    // The handler is made on the channel's event loop: it is not Sendable.
                    let serverName = Self.sniName(configuration.host)
                    try await channel.channel.eventLoop.submit {
                        try channel.channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: tlsContext, serverHostname: serverName),
                            position: .first
                        )
                    }.get()
                    capabilities = try await session.command("EHLO \(configuration.heloName)", &lines, 250...250, "EHLO after STARTTLS")
                    encrypted = true
                } else if configuration.security == .startTLSRequired {
                    throw SMTPError.tlsUnavailable
                }
            }
            if let username = configuration.username, let password = configuration.password {
                // The configuration already insists on TLS with credentials; this is the last
                // line of defence against sending them in the clear.
                guard encrypted || configuration.security == .plaintext else { throw SMTPError.tlsUnavailable }
                let token = Data("\u{0}\(username)\u{0}\(password)".utf8).base64EncodedString()
                _ = try await session.command("AUTH PLAIN \(token)", &lines, 235...235, "the login")
            }
            _ = try await session.command("MAIL FROM:<\(Self.address(message.from))>", &lines, 250...250, "the sender")
            _ = try await session.command("RCPT TO:<\(Self.address(message.to))>", &lines, 250...251, "the recipient")
            _ = try await session.command("DATA", &lines, 354...354, "DATA")
            _ = try await session.command(Self.render(message) + "\r\n.", &lines, 250...250, "the message")
            try? await session.write("QUIT")
        }
    }

    static func tlsContext(verify: Bool) throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        if !verify { tls.certificateVerification = .none }
        return try NIOSSLContext(configuration: tls)
    }

    /// SNI takes names, not IP literals.
    static func sniName(_ host: String) -> String? {
        host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? nil : host
    }

    /// The bare address of `Name <address>` or `address`, stripped of anything that could
    /// smuggle a command (CR, LF, angle brackets).
    static func address(_ text: String) -> String {
        var inner = Substring(text)
        if let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close {
            inner = text[text.index(after: open)..<close]
        }
        return String(inner.filter { $0 != "\r" && $0 != "\n" && $0 != "<" && $0 != ">" }).trimmingCharacters(in: .whitespaces)
    }

    /// The MIME message: multipart/alternative with a plain and an HTML part, dot-stuffed.
    static func render(_ message: EmailMessage) -> String {
        let boundary = "cf-" + UUID().uuidString
        func header(_ value: String) -> String {
            let clean = value.filter { $0 != "\r" && $0 != "\n" }
            return clean.allSatisfy(\.isASCII) ? clean : "=?UTF-8?B?\(Data(clean.utf8).base64EncodedString())?="
        }
        func part(_ type: String, _ body: String) -> String {
            let encoded = Data(body.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
            return "--\(boundary)\r\nContent-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n\(encoded)\r\n"
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        /// `Name <address>`: only the name may be encoded; an ASCII name is quoted, so a comma
        /// or quote in a merchant's name cannot split the header into several addresses.
        func mailbox(_ value: String) -> String {
            let bare = Self.address(value)
            guard let open = value.lastIndex(of: "<") else { return bare }
            var name = value[..<open].trimmingCharacters(in: .whitespaces).filter { $0 != "\r" && $0 != "\n" }
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 { name = String(name.dropFirst().dropLast()) }
            guard !name.isEmpty else { return bare }
            let quoted =
                name.allSatisfy(\.isASCII)
                ? "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
                : header(name)
            return "\(quoted) <\(bare)>"
        }
        let lines = [
            "From: \(mailbox(message.from))",
            "To: \(mailbox(message.to))",
            "Subject: \(header(message.subject))",
            "Date: \(formatter.string(from: Date()))",
            "Message-ID: <\(UUID().uuidString)@cancelflow>",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            "",
            part("text/plain", message.text) + part("text/html", message.html) + "--\(boundary)--",
        ].joined(separator: "\r\n")
        // Base64 bodies never start a line with a dot, but headers could: stuff them anyway.
        return lines.split(separator: "\r\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
            .joined(separator: "\r\n")
    }

    /// The step the conversation is at, for the timeout's message.
    final class Progress: Sendable {
        private let current = Mutex("connecting")
        var step: String {
            get { self.current.withLock { $0 } }
            set { self.current.withLock { $0 = newValue } }
        }
    }

    /// The conversation: commands out, replies in.
    struct Session {
        let configuration: SMTPConfiguration
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        let progress: Progress

        func write(_ line: String) async throws {
            try await self.outbound.write(ByteBuffer(string: line + "\r\n"))
        }

        mutating func command(
            _ line: String,
            _ lines: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
            _ codes: ClosedRange<Int>,
            _ step: String
        ) async throws -> [String] {
            try await self.write(line)
            return try await self.reply(from: &lines, expecting: codes, step: step)
        }

        /// Reads one (possibly multi-line) reply; returns its text lines.
        func reply(
            from lines: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
            expecting codes: ClosedRange<Int>,
            step: String
        ) async throws -> [String] {
            self.progress.step = step
            var texts: [String] = []
            while true {
                guard let buffer = try await lines.next() else {
                    throw SMTPError.connection("the server closed the connection during \(step)")
                }
                let line = String(buffer: buffer).trimmingCharacters(in: .whitespacesAndNewlines)
                guard line.count >= 3, let code = Int(line.prefix(3)) else {
                    throw SMTPError.rejected(code: 0, reply: String(line.prefix(200)), during: step)
                }
                texts.append(String(line.dropFirst(4)))
                // "250-…" continues the reply; "250 …" ends it.
                if line.count > 3, line[line.index(line.startIndex, offsetBy: 3)] == "-" { continue }
                guard codes.contains(code) else {
                    throw SMTPError.rejected(code: code, reply: String(texts.joined(separator: " ").prefix(300)), during: step)
                }
                return texts
            }
        }
    }
}
