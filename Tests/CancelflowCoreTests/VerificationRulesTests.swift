import CancelflowCore
import Foundation
import Testing

/// The pure rules of email verification: codes, addresses, windows, and whose host a request is on.
@Suite struct VerificationRulesTests {
    @Test func codesAreSixDigitsAndSpreadOverTheWholeRange() {
        let codes = (0..<2000).map { _ in VerificationService.makeCode() }
        #expect(codes.allSatisfy { $0.count == 6 && $0.allSatisfy(\.isNumber) })
        #expect(Set(codes).count > 1990, "2000 draws from a million rarely collide more than a few times")
        // Leading digits cover 0-9 (zero-padded small numbers included).
        #expect(Set(codes.map(\.first)).count == 10)
    }

    @Test func addressesAreNormalisedAndNonsenseIsRefused() throws {
        #expect(try VerificationService.normalizedAddress("  Ada@Example.COM ") == "ada@example.com")
        for bad in [
            "", "ada", "ada@", "@example.com", "ada@example", "a b@example.com", "ada@example.com>", "ada@.com",
            String(repeating: "a", count: 250) + "@example.com", "ada@exa\nmple.com",
        ] {
            #expect(throws: CancelflowError.self, "\(bad)") { try VerificationService.normalizedAddress(bad) }
        }
    }

    @Test func aClientIsAnIPv4AddressOrAnIPv6Slash64() throws {
        #expect(VerificationService.clientKey("203.0.113.7") == "203.0.113.7")
        #expect(VerificationService.clientKey("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64")
        #expect(VerificationService.clientKey("2001:0db8:0001:0002:ffff:ffff:ffff:ffff") == "2001:db8:1:2::/64")
        #expect(VerificationService.clientKey("2001:db8::") == "2001:db8:0:0::/64")
        #expect(VerificationService.clientKey("::ffff:198.51.100.4") == "198.51.100.4")
        #expect(VerificationService.clientKey("fe80::1%eth0") == "fe80:0:0:0::/64")
        #expect(VerificationService.clientKey("not:an:address::zz") == "not:an:address::zz", "unparsable text is its own client")
        #expect(try VerificationService.normalizedAddress("ada@example.com") == "ada@example.com")
        #expect(throws: CancelflowError.self) { try VerificationService.normalizedAddress("adä@example.com") }
    }

    @Test func windowsAreWholeHours() {
        let date = Date(timeIntervalSince1970: 1_790_001_234)
        #expect(VerificationService.windowStart(date) == Date(timeIntervalSince1970: 1_789_999_200))
        #expect(VerificationService.windowStart(Date(timeIntervalSince1970: 1_789_999_200)) == Date(timeIntervalSince1970: 1_789_999_200))
    }

    @Test func aRequestHostIsTheServiceOrASubdomainOrACustomDomain() {
        let picker = DomainPicker(publicURL: URL(string: "https://cancel.example.com")!, subdomainBase: "cancel.example.com")
        #expect(picker.owner(ofHost: "cancel.example.com") == .service)
        #expect(picker.owner(ofHost: "CANCEL.example.com:443") == .service)
        #expect(picker.owner(ofHost: "acme.cancel.example.com") == .subdomain("acme"))
        #expect(picker.owner(ofHost: "a.b.cancel.example.com") == .customDomain("a.b.cancel.example.com"))
        #expect(picker.owner(ofHost: "billing.acme.test.") == .customDomain("billing.acme.test"))
        let local = DomainPicker(publicURL: URL(string: "http://127.0.0.1:8080")!, subdomainBase: nil)
        #expect(local.owner(ofHost: "127.0.0.1:8080") == .service)
        #expect(local.owner(ofHost: "127.0.0.1:9090") == .customDomain("127.0.0.1:9090"))
    }
}
