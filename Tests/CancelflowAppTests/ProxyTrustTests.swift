import CancelflowCore
import CancelflowTestSupport
import Configuration
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import CancelflowApp

/// Forwarded headers are believed only from the proxies the operator names; by default from
/// nobody, spoofed ones included.
@Suite struct ProxyTrustTests {
    @Test func networksAndTheWalkFromTheRight() throws {
        let trust = try #require(ProxyTrust.parse("10.0.0.0/8, 192.168.1.7,2001:db8::/32"))
        #expect(trust.networks.map(\.description) == ["10.0.0.0/8", "192.168.1.7/32", "2001:db8::/32"])
        #expect(trust.trusts("10.200.3.4") && trust.trusts("192.168.1.7") && trust.trusts("2001:db8:1::5"))
        #expect(!trust.trusts("11.0.0.1") && !trust.trusts("192.168.1.8") && !trust.trusts("2001:db9::1") && !trust.trusts(nil))
        #expect(trust.trusts("::ffff:10.1.1.1"), "an IPv4-mapped peer is judged as its IPv4 address")
        // A client that sends its own X-Forwarded-For cannot choose its address: the walk stops
        // at the first entry that is not one of our proxies.
        #expect(trust.client(peer: "10.0.0.2", forwardedFor: ["1.2.3.4, 203.0.113.9, 10.0.0.3"]) == "203.0.113.9")
        #expect(trust.client(peer: "10.0.0.2", forwardedFor: ["1.2.3.4", "203.0.113.9"]) == "203.0.113.9", "repeated headers")
        #expect(trust.client(peer: "10.0.0.2", forwardedFor: ["garbage, 10.0.0.9"]) == "10.0.0.9")
        #expect(trust.client(peer: "10.0.0.2", forwardedFor: []) == "10.0.0.2")
        #expect(trust.client(peer: "198.51.100.1", forwardedFor: ["1.2.3.4"]) == "198.51.100.1", "an untrusted peer is the client")
        #expect(trust.host(peer: "10.0.0.2", forwardedHost: "evil.test, cancel.test", authority: "10.0.0.1") == "cancel.test")
        #expect(trust.host(peer: "198.51.100.1", forwardedHost: "cancel.test", authority: "origin.test") == "origin.test")
        #expect(ProxyTrust.none.client(peer: "127.0.0.1", forwardedFor: ["1.2.3.4"]) == "127.0.0.1")
        for bad in ["10.0.0.0/33", "10.0.0/8", "example.com", "::1/129", "10.0.0.0/-1", "10.0.0.0/8/8"] {
            #expect(ProxyTrust.parse(bad) == nil, "\(bad)")
        }
        #expect(throws: CancelflowError.self) { try testConfiguration(["trustedProxies": .string("10.0.0.0/99")]) }
        let both = try testConfiguration(["trustProxy": .bool(true), "trustedProxies": .string("10.0.0.0/8")])
        #expect(both.proxyTrust.trusts("127.0.0.1") && both.proxyTrust.trusts("::1") && both.proxyTrust.trusts("10.1.1.1"))
    }

    /// Over a real socket (peer 127.0.0.1): without trust, X-Forwarded-For and X-Forwarded-Host
    /// are ignored — every spoofed address shares the one allowance, and a link is not served on
    /// a host only the header claims; trusting another network changes nothing for this peer.
    @Test(arguments: [nil, "10.0.0.0/8"] as [String?])
    func forwardedHeadersFromAnUntrustedPeerAreIgnored(trusted: String?) async throws {
        var config: [String: ConfigContent] = ["verifyClientLimit": .int(2)]
        if let trusted { config["trustedProxies"] = .string(trusted) }
        // The live test client says `Host: localhost`: make that the public URL, so the pages
        // are served and only the client address is in question.
        var local = config
        local["publicUrl"] = .string("http://localhost")
        try await withTestApp(.sqlite, configuration: local, testing: .live) { client, ctx in
            let app = ctx.test.appId
            var statuses: [HTTPResponse.Status] = []
            for index in 1...3 {
                let browser = TestBrowser(client, clientIP: "203.0.113.\(index)")
                #expect(try await browser.get("/verify?org=\(app)").status == .ok)
                statuses.append(try await browser.post("/verify", ["email": "p\(index)@example.com", "org": app]).status)
            }
            #expect(statuses == [.seeOther, .seeOther, .tooManyRequests], "spoofed addresses share the peer's allowance")
        }
        // On the default public URL (https://cancel.test), a request to localhost that claims
        // the right host in a header still gets the wrong-host answer.
        try await withTestApp(.sqlite, configuration: config, testing: .live) { client, ctx in
            try await ctx.seedCustomer()
            let token = try #require(try await client.mint(ctx).json["token"] as? String)
            let spoofedHost = try await TestBrowser(client, host: "cancel.test").get("/cancel/\(token)")
            #expect(spoofedHost.status == .gone, "the link's host is only claimed by a header")
        }
    }

    /// A trusted proxy's forwarded headers are believed: each client address has its own
    /// allowance and the forwarded host serves the link.
    @Test func forwardedHeadersFromATrustedProxyAreBelieved() async throws {
        try await withTestApp(.sqlite, configuration: ["verifyClientLimit": .int(1), "trustedProxies": .string("127.0.0.1")]) { client, ctx in
            try await ctx.seedCustomer()
            let app = ctx.test.appId
            for index in 1...3 {
                let browser = TestBrowser(client, host: "cancel.test", clientIP: "203.0.113.\(index), 127.0.0.1")
                _ = try await browser.get("/verify?org=\(app)")
                #expect(try await browser.post("/verify", ["email": "p\(index)@example.com", "org": app]).status == .seeOther, "client \(index)")
            }
            let again = TestBrowser(client, host: "cancel.test", clientIP: "203.0.113.1")
            _ = try await again.get("/verify?org=\(app)")
            #expect(try await again.post("/verify", ["email": "q@example.com", "org": app]).status == .tooManyRequests)
            let token = try #require(try await client.mint(ctx).json["token"] as? String)
            #expect(try await TestBrowser(client, host: "cancel.test").get("/cancel/\(token)").status == .ok)
        }
    }
}
