/// An http(s) URL we store and link to or post to — a link's `returnUrl`, a webhook endpoint —
/// parsed strictly and kept only in its re-serialised form.
///
/// Hand-written on purpose: Foundation's `URL` is lenient in the ways that make allow-lists
/// bypassable — in `https://evil.example\@app.acme.com/` it sees the host `app.acme.com`, while a
/// browser turns `\` into `/` and goes to `evil.example`. Rather than reproduce every browser
/// quirk, this parser accepts only the unambiguous subset a merchant needs (`http(s)://host[:port]`
/// then a path, query and fragment of plain printable ASCII) and refuses everything a browser
/// might read differently: userinfo, backslashes, whitespace, control characters, non-ASCII,
/// malformed escapes, a trailing dot, an empty label. What it returns is rebuilt from the parts it
/// checked, so the page links to exactly the host that was compared.
public struct StrictURL: Sendable, Equatable {
    /// `https` or `http`.
    public var scheme: String
    /// The host, lower-cased: a DNS name, a dotted IPv4 address or a bracketed IPv6 literal.
    public var host: String
    /// The port when it is not the scheme's default.
    public var port: Int?
    /// Path, query and fragment as given (always starting with `/`).
    public var rest: String

    /// The longest URL accepted.
    public static let maximumLength = 2048

    /// The re-serialised URL: what is stored and linked to.
    public var text: String { "\(self.scheme)://\(self.host)" + (self.port.map { ":\($0)" } ?? "") + self.rest }

    /// The origin, for the page's form-action.
    public var origin: String { "\(self.scheme)://\(self.host)" + (self.port.map { ":\($0)" } ?? "") }

    /// Whether the host is this machine (`localhost`, `127.0.0.0/8`, `[::1]`).
    public var isLoopback: Bool {
        self.host == "localhost" || self.host.hasSuffix(".localhost") || self.host == "[::1]"
            || (self.host.hasPrefix("127.") && Self.isIPv4(self.host))
    }

    /// Parses `text`, or nil when it is not a URL of the accepted form.
    public static func parse(_ text: String) -> StrictURL? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= Self.maximumLength,
            bytes.allSatisfy({ (0x21...0x7E).contains($0) && !Self.refused.contains($0) })
        else { return nil }
        let lower = String(decoding: bytes.prefix(8), as: UTF8.self).lowercased()
        let scheme: String
        if lower.hasPrefix("https://") {
            scheme = "https"
        } else if lower.hasPrefix("http://") {
            scheme = "http"
        } else {
            return nil
        }
        let afterScheme = bytes.dropFirst(scheme.utf8.count + 3)
        let authorityEnd =
            afterScheme.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }
            ?? afterScheme.endIndex
        let authority = String(decoding: afterScheme[..<authorityEnd], as: UTF8.self).lowercased()
        var rest = String(decoding: afterScheme[authorityEnd...], as: UTF8.self)
        guard !authority.contains("@"), Self.escapesAreWellFormed(rest) else { return nil }
        if !rest.hasPrefix("/") { rest = "/" + rest }

        var host = authority
        var port: Int?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = String(authority[...close])
            let tail = authority[authority.index(after: close)...]
            if !tail.isEmpty {
                guard tail.hasPrefix(":") else { return nil }
                guard let value = Self.port(tail.dropFirst()) else { return nil }
                port = value
            }
            let inner = host.dropFirst().dropLast()
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }), inner.contains(":") else { return nil }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                host = String(authority[..<colon])
                guard let value = Self.port(authority[authority.index(after: colon)...]) else { return nil }
                port = value
            }
            guard Self.isHostName(host) else { return nil }
        }
        if port == (scheme == "https" ? 443 : 80) { port = nil }
        return StrictURL(scheme: scheme, host: host, port: port, rest: rest)
    }

    /// A DNS name of letters, digits and hyphens (IDNs in their `xn--` form) or a dotted IPv4
    /// address; no empty label and no trailing dot.
    public static func isHostName(_ host: String) -> Bool {
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard !host.isEmpty, host.utf8.count <= 253, !labels.isEmpty else { return false }
        if labels.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) { return Self.isIPv4(host) }
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "-") }
        }
    }

    static func isIPv4(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber)
                    && (part == "0" || !part.hasPrefix("0")) && Int(part).map { $0 <= 255 } == true
            }
    }

    static func port(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text), (1...65535).contains(value)
        else { return nil }
        return value
    }

    /// Characters a browser may read differently from us, or that have no business in a URL
    /// we link to unescaped.
    static let refused: Set<UInt8> = Set("\\\"<>`{}|^".utf8)

    static func escapesAreWellFormed(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, InputText.hexValue(bytes[index + 1]) != nil, InputText.hexValue(bytes[index + 2]) != nil
                else { return false }
                index += 3
            } else {
                index += 1
            }
        }
        return true
    }

    /// An allow-list entry, normalised: a host (`app.acme.com`) or an origin
    /// (`https://app.acme.com:8443`). Nil when it is neither.
    public enum AllowlistEntry: Sendable, Equatable {
        case host(String)
        case origin(scheme: String, host: String, port: Int?)

        /// Parses an entry as the CLI or the dashboard takes it.
        public static func parse(_ text: String) -> AllowlistEntry? {
            let lowered = text.lowercased()
            if lowered.contains("://") {
                guard let url = StrictURL.parse(lowered), url.rest == "/" else { return nil }
                return .origin(scheme: url.scheme, host: url.host, port: url.port)
            }
            return StrictURL.isHostName(lowered) ? .host(lowered) : nil
        }

        /// Whether `url` is allowed by this entry: exact host (and for an origin, scheme and port).
        public func allows(_ url: StrictURL) -> Bool {
            switch self {
            case .host(let host): url.host == host
            case .origin(let scheme, let host, let port): url.scheme == scheme && url.host == host && url.port == port
            }
        }
    }
}
