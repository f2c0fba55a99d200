import Testing

@testable import CancelflowCore

/// The return-URL rules: what a browser could read as another host is refused, and what is
/// accepted is stored in the form that was compared.
@Suite struct StrictURLTests {
    static let allowlist = ["app.acme.com", "https://portal.acme.com:8443"]

    /// Each of these either names another host to a browser, or is too odd to be sure it doesn't.
    @Test(arguments: [
        #"https://evil.example\@app.acme.com/"#,
        #"https://evil.example/\@app.acme.com/"#,
        #"https://app.acme.com\evil.example/"#,
        "https://user@app.acme.com/",
        "https://user:pass@app.acme.com/",
        "https://app.acme.com@evil.example/",
        "https://app.acme.com./",
        "https://app..acme.com/",
        "https://app.acme.com /x",
        "https://app.acme.com/x y",
        " https://app.acme.com/",
        "https://app.acme.com/\tx",
        "https://app.acme.com/\u{0}",
        "https://app.acme.com/%zz",
        "https://app.acme.com%2eevil.example/",
        "https://аpp.acme.com/",  // Cyrillic а
        "https://app.acme.com:0/",
        "https://app.acme.com:99999/",
        "https://app.acme.com:80x/",
        "//app.acme.com/",
        "https:/app.acme.com/",
        "https:app.acme.com",
        "javascript:alert(1)//app.acme.com",
        "ftp://app.acme.com/",
        "https://-app.acme.com/",
        "https://[::1/",
        "https:///",
        "",
    ])
    func refused(_ text: String) throws {
        #expect(throws: CancelflowError.self) { try CancelLinkService.validateReturnURL(text, allowlist: Self.allowlist, mode: .live) }
    }

    @Test func acceptedURLsAreStoredReserialised() throws {
        let cases: [(String, Mode, String)] = [
            ("https://APP.ACME.COM:443/Path?q=1#frag", .live, "https://app.acme.com/Path?q=1#frag"),
            ("https://app.acme.com", .live, "https://app.acme.com/"),
            ("HTTPS://app.acme.com?x=%20y", .live, "https://app.acme.com/?x=%20y"),
            ("https://portal.acme.com:8443/billing", .live, "https://portal.acme.com:8443/billing"),
            ("http://localhost:3000/account", .test, "http://localhost:3000/account"),
            ("http://127.0.0.1:3000/", .test, "http://127.0.0.1:3000/"),
        ]
        for (text, mode, stored) in cases {
            let allowlist = Self.allowlist + ["localhost", "127.0.0.1"]
            #expect(try CancelLinkService.validateReturnURL(text, allowlist: allowlist, mode: mode) == stored, "\(text)")
        }
    }

    @Test func hostsAreComparedExactlyAndSchemesByMode() throws {
        let allowlist = Self.allowlist + ["localhost"]
        for (text, mode) in [
            ("https://evil-app.acme.com/", Mode.live), ("https://app.acme.com.evil.example/", .live), ("https://acme.com/", .live),
            ("https://portal.acme.com/", .live), ("http://portal.acme.com:8443/", .test), ("http://app.acme.com/", .test),
            ("http://localhost:3000/", .live),
        ] {
            #expect(throws: CancelflowError.self, "\(text) in \(mode)") {
                try CancelLinkService.validateReturnURL(text, allowlist: allowlist, mode: mode)
            }
        }
    }

    @Test func allowlistEntriesAreHostsOrOrigins() {
        #expect(StrictURL.AllowlistEntry.parse("App.Acme.com") == .host("app.acme.com"))
        #expect(StrictURL.AllowlistEntry.parse("https://app.acme.com:443") == .origin(scheme: "https", host: "app.acme.com", port: nil))
        for bad in ["app.acme.com.", "https://app.acme.com/path", "*.acme.com", "app acme", "https://u@app.acme.com", ""] {
            #expect(StrictURL.AllowlistEntry.parse(bad) == nil, "\(bad)")
        }
    }
}

/// Settings an operator types (through the CLI today, the dashboard later) follow the same text
/// and URL rules as the API.
@Suite struct SettingsTextTests {
    @Test func controlCharactersAndLenientURLsAreRefused() throws {
        var settings = FlowSettings.defaults
        settings.surveyReasons = ["Too pricey", "Other\u{1b}[31m"]
        #expect(throws: CancelflowError.self) { try settings.validated() }
        settings.surveyReasons = ["Too pricey"]
        for logo in [#"https://cdn.example\@evil.example/logo.png"#, "http://cdn.example/logo.png", "https://cdn.example/a b.png"] {
            settings.logoURL = logo
            #expect(throws: CancelflowError.self, "\(logo)") { try settings.validated() }
        }
        settings.logoURL = "https://CDN.Example:443/logo.png"
        #expect(try settings.validated().logoURL == "https://cdn.example/logo.png")
    }
}
