import CancelflowAPI
import CancelflowCore
import Foundation
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-06-04T12:00:00Z", 1_780_574_400.0),
        ("2026-06-04T12:00:00.250Z", 1_780_574_400.25),
        ("2026-06-04T14:00:00+02:00", 1_780_574_400.0),
        ("2026-06-04T07:30:00-04:30", 1_780_574_400.0),
        ("2026-06-04t12:00:00z", 1_780_574_400.0),
    ])
    func acceptsZonedTimestamps(text: String, expected: Double) {
        #expect(Timestamp.parse(text)?.timeIntervalSince1970 == expected)
    }

    @Test(arguments: [
        "2026-06-04T12:00:00", "2026-06-04", "2026-06-04 12:00:00Z", "2026-02-30T12:00:00Z", "2026-13-01T00:00:00Z",
        "2026-06-04T24:00:00Z", "tomorrow", "", "2026-06-04T12:00:00.Z", "2026-06-04T12:00:00+0200", "1780574400",
        "2026-06-04T12:00:00Zjunk",
    ])
    func refusesOtherForms(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test func formatsInUTCWithMillisecondsOnlyWhenPresent() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_780_574_400)) == "2026-06-04T12:00:00Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_780_574_400.5)) == "2026-06-04T12:00:00.500Z")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
    }

    @Test func durationsParse() {
        #expect(DurationText.parse("24h") == 86400)
        #expect(DurationText.parse("30m") == 1800)
        #expect(DurationText.parse("7d") == 604_800)
        #expect(DurationText.parse("90s") == 90)
        #expect(DurationText.parse("0") == 0)
        #expect(DurationText.parse("24") == nil)
        #expect(DurationText.parse("-1h") == nil)
        #expect(DurationText.parse("h") == nil)
    }
}

@Suite struct DomainPickerTests {
    let created = Date(timeIntervalSince1970: 0)

    @Test func customDomainWinsOnlyOnceVerified() {
        let picker = DomainPicker(publicURL: URL(string: "https://cancel.example.net")!, subdomainBase: "cancel.example.net")
        var org = Organization(id: "org_1", name: "Acme", subdomain: "acme", customDomain: "billing.acme.com", createdAt: self.created)
        #expect(picker.url(for: org, token: "cl_x") == "https://acme.cancel.example.net/cancel/cl_x")
        org.customDomainVerified = true
        #expect(picker.url(for: org, token: "cl_x") == "https://billing.acme.com/cancel/cl_x")
    }

    @Test func subdomainKeepsThePublicPortAndNeedsABase() {
        let org = Organization(id: "org_1", name: "Acme", subdomain: "acme", createdAt: self.created)
        let withBase = DomainPicker(publicURL: URL(string: "http://localhost:8080")!, subdomainBase: "localtest.me")
        #expect(withBase.url(for: org, token: "cl_x") == "http://acme.localtest.me:8080/cancel/cl_x")
        let withoutBase = DomainPicker(publicURL: URL(string: "http://localhost:8080/")!, subdomainBase: nil)
        #expect(withoutBase.url(for: org, token: "cl_x") == "http://localhost:8080/cancel/cl_x")
    }
}

@Suite struct LinkStatusTests {
    @Test func activeLinksExpireByTime() {
        let now = Date(timeIntervalSince1970: 1000)
        var link = CancelLink(
            id: "cs_1", organizationID: "org_1", mode: .test, customerID: "cus_1", subscriptionID: nil, singleUse: true,
            expiresAt: now.addingTimeInterval(10), createdAt: now
        )
        #expect(link.status(at: now) == .active)
        #expect(link.status(at: now.addingTimeInterval(9.999)) == .active)
        #expect(link.status(at: now.addingTimeInterval(10)) == .expired)
        link.storedStatus = .consumed
        #expect(link.status(at: now.addingTimeInterval(100)) == .consumed)
        link.storedStatus = .revoked
        #expect(link.status(at: now) == .revoked)
    }
}
