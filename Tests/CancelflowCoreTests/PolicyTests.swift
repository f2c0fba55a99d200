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

    /// The arithmetic agrees with Foundation's Gregorian calendar (from 1600, where the two are
    /// the same calendar) on 20,000 instants, leap days and millisecond fractions included, and
    /// every formatted instant parses back to itself.
    @Test func formatAndParseAgreeWithFoundationsCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var generator = SystemRandomNumberGenerator()
        let first = calendar.date(from: DateComponents(year: 1600, month: 1, day: 1))!.timeIntervalSince1970
        let last = calendar.date(from: DateComponents(year: 9999, month: 12, day: 31))!.timeIntervalSince1970
        var instants = (0..<20_000).map { _ in Double(Int64.random(in: Int64(first)...Int64(last), using: &generator)) }
        instants += [951_782_400, 4_107_542_400, -1, 1_709_164_800.999]  // 2000-02-29, 2100-02-28's next day, 1969, a leap day
        for (index, seconds) in instants.enumerated() {
            let date = Date(timeIntervalSince1970: index.isMultiple(of: 3) ? seconds + Double(index % 1000) / 1000 : seconds)
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let text = Timestamp.format(date)
            let expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
            #expect(text.hasPrefix(expected), "\(date.timeIntervalSince1970): \(text), Foundation \(expected)")
            let parsed = Timestamp.parse(text)
            #expect(parsed.map(Timestamp.format) == text)
            #expect(abs((parsed?.timeIntervalSince1970 ?? 0) - date.timeIntervalSince1970) < 0.0011, "\(text)")
        }
        #expect(Timestamp.parse("2026-06-04T12:00:00.301Z").map(Timestamp.format) == "2026-06-04T12:00:00.301Z")
        #expect(Timestamp.parse("2024-02-29T00:00:00Z") != nil)
        #expect(Timestamp.parse("2100-02-29T00:00:00Z") == nil)
        #expect(Timestamp.parse("2000-02-29T00:00:00Z") != nil)
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
