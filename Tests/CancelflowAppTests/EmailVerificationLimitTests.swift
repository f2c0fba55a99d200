import CancelflowApp
import CancelflowCore
import CancelflowStore
import CancelflowTestSupport
import Configuration
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import SQLKit
import Testing

/// Email verification's limits and failures: rate limits per address, client and organization,
/// across instances, and what a mail-server failure leaves behind.
extension EmailVerificationTests {
    @Test(arguments: TestEngine.allCases)
    func rateLimitsPerAddressAndPerClientTellNoAddressesApart(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await withTestApp(engine, configuration: Self.config(smtp: sink, ["verifyClientLimit": .int(14)])) { client, ctx in
            try await ctx.seedCustomer()
            var refusals: [String: TestResponse] = [:]
            for address in [Self.known, Self.unknown] {
                for attempt in 1...6 {
                    let (_, response) = try await Self.requestCode(client, ctx, email: address, ip: "198.51.100.\(attempt)")
                    if attempt <= 5 {
                        #expect(response.status == .seeOther, "\(address) request \(attempt)")
                    } else {
                        #expect(response.status == .tooManyRequests, "\(address) request \(attempt)")
                        #expect(response.text.contains("Too many codes have been requested."))
                        refusals[address] = response
                    }
                }
            }
            let knownRefusal = try #require(refusals[Self.known])
            let unknownRefusal = try #require(refusals[Self.unknown])
            #expect(
                Self.comparable(knownRefusal).replacingOccurrences(of: Self.known, with: "ADDRESS")
                    == Self.comparable(unknownRefusal).replacingOccurrences(of: Self.unknown, with: "ADDRESS"))
            #expect(sink.messages.count == 10, "no email over the limit")

            // One client: 14 requests or tries an hour, whatever the addresses.
            for index in 1...14 {
                let (_, response) = try await Self.requestCode(client, ctx, email: "person\(index)@example.com", ip: "192.0.2.1")
                #expect(response.status == .seeOther, "client request \(index)")
            }
            let (_, blocked) = try await Self.requestCode(client, ctx, email: "person15@example.com", ip: "192.0.2.1")
            #expect(blocked.status == .tooManyRequests)
            let (_, other) = try await Self.requestCode(client, ctx, email: "person15@example.com", ip: "192.0.2.2")
            #expect(other.status == .seeOther, "another client is not held back")

            // The next hour starts over.
            ctx.time.advance(by: 3600)
            #expect(try await Self.requestCode(client, ctx, email: Self.known, ip: "192.0.2.1").1.status == .seeOther)
        }
    }

    /// One client spraying addresses is stopped by its own limit before it touches any
    /// address's allowance or the organization's email budget: refused requests write no
    /// counter and use up nothing, so a customer elsewhere still gets a code.
    @Test(arguments: TestEngine.allCases)
    func oneClientSprayingAddressesCannotLockTheOrganizationOut(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        let limits: [String: ConfigContent] = ["verifyClientLimit": .int(5), "verifyOrganizationLimit": .int(8)]
        try await withTestApp(engine, configuration: Self.config(smtp: sink, limits)) { client, ctx in
            try await ctx.seedCustomer()
            func counters() async throws -> Int {
                try await ctx.services.pool.read { db in
                    try await db.raw("SELECT COUNT(*) AS n FROM rate_limit_counters").first()?.decode(column: "n", as: Int.self) ?? -1
                }
            }
            var rowsAfterAllowance = 0
            for index in 1...30 {
                let (_, response) = try await Self.requestCode(client, ctx, email: "spray\(index)@example.com", ip: "192.0.2.66")
                if index <= 5 {
                    #expect(response.status == .seeOther, "request \(index)")
                    if index == 5 { rowsAfterAllowance = try await counters() }
                } else {
                    #expect(response.status == .tooManyRequests, "request \(index)")
                    let retryAfter = try #require(response.headers[.retryAfter].flatMap(Int.init), "a 429 says when to come back")
                    #expect((1...3600).contains(retryAfter))
                }
            }
            #expect(try await counters() == rowsAfterAllowance, "refused requests wrote no counter")
            #expect(sink.messages.count == 5)
            let (_, customer) = try await Self.requestCode(client, ctx, email: Self.known, ip: "198.51.100.9")
            #expect(customer.status == .seeOther, "a customer from another address still gets a code")
            #expect(Self.code(in: sink, to: Self.known) != nil)
            // The organization's budget counted the six emails sent, nothing more: two are left.
            for index in 1...2 {
                #expect(
                    try await Self.requestCode(client, ctx, email: "late\(index)@example.com", ip: "198.51.100.\(20 + index)").1.status == .seeOther)
            }
            let (_, over) = try await Self.requestCode(client, ctx, email: "late3@example.com", ip: "198.51.100.30")
            #expect(over.status == .tooManyRequests, "the organization's hourly budget is spent")
            #expect(over.headers[.retryAfter] != nil)
        }
    }

    @Test func limitsAndCodesHoldAcrossTwoInstancesOnOnePostgreSQL() async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        let config = Self.config(smtp: sink)
        try await withTestApp(.postgres, configuration: config) { first, ctx in
            guard case .postgres(let url) = ctx.location else {
                Issue.record("the test app did not run on PostgreSQL")
                return
            }
            try await ctx.seedCustomer()
            let pool = try PostgresDatabasePool(url: url, logger: Logger(label: "second", factory: { _ in SwiftLogNoOpLogHandler() }))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await pool.run() }
                defer { group.cancelAll() }
                let services = AppServices(
                    configuration: try testConfiguration(config), pool: pool, time: ctx.time,
                    secret: ctx.services.secret)
                let app = try buildApplication(services: services, logger: Logger(label: "second", factory: { _ in SwiftLogNoOpLogHandler() }))
                // Live, like the first: forwarded headers count only from a trusted (loopback) peer.
                try await app.test(.live) { second in
                    // Alternate instances: the address's five codes an hour are five in all.
                    for attempt in 1...6 {
                        let client = attempt.isMultiple(of: 2) ? second : first
                        let (_, response) = try await Self.requestCode(client, ctx, email: Self.known, ip: "198.51.100.\(attempt)")
                        #expect(response.status == (attempt <= 5 ? .seeOther : .tooManyRequests), "request \(attempt)")
                    }
                    // A code asked for on one instance is entered on the other.
                    ctx.time.advance(by: 3600)
                    let (onFirst, _) = try await Self.requestCode(first, ctx, email: Self.known)
                    let code = try #require(Self.code(in: sink, to: Self.known))
                    let onSecond = TestBrowser(second, host: "cancel.test", clientIP: "203.0.113.7")
                    onSecond.setCookie("cf_verify", onFirst.cookieJar["cf_verify"])
                    #expect(try await Self.enter(onSecond, ctx, code: code).headers[.location] == "/flow")
                }
            }
        }
    }

    @Test(arguments: TestEngine.allCases)
    func smtpFailuresAskForARetryLogAnErrorAndKeepTheAddress(engine: TestEngine) async throws {
        // Server down: a port nothing listens on.
        let refused = try RefusedPort()
        defer { refused.close() }
        let closed = refused.port
        let logs = CapturedLogs()
        let down: [String: ConfigContent] = ["smtpUrl": .string("smtp://127.0.0.1:\(closed)"), "verifyAddressLimit": .int(2)]
        try await withTestApp(engine, configuration: Self.config(smtp: nil, down), logger: logs.logger()) { client, ctx in
            try await ctx.seedCustomer()
            var pages: [String] = []
            for address in [Self.known, Self.unknown] {
                // Three tries with a limit of two: a failed send does not use up the address's codes.
                for _ in 1...3 {
                    let (_, response) = try await Self.requestCode(client, ctx, email: address)
                    #expect(response.status == .serviceUnavailable)
                    #expect(response.text.contains("send the email just now. Please try again in a few minutes."))
                    #expect(response.text.contains(#"value="\#(address)""#), "the address is kept in the form")
                    pages.append(Self.comparable(response).replacingOccurrences(of: address, with: "ADDRESS"))
                }
            }
            #expect(Set(pages).count == 1, "known and unknown addresses fail alike")
            #expect(logs.text.contains("Could not send a verification email"))
            #expect(logs.text.contains("Could not connect to the mail server"))
            #expect(!logs.text.contains(Self.known) && !logs.text.contains(Self.unknown))
        }

        // Rejected recipient.
        let sink = try await SMTPSink(reject: Self.known)
        defer { sink.stop() }
        let rejectedLogs = CapturedLogs()
        try await withTestApp(engine, configuration: Self.config(smtp: sink), logger: rejectedLogs.logger()) { client, ctx in
            try await ctx.seedCustomer()
            let (_, response) = try await Self.requestCode(client, ctx, email: Self.known)
            #expect(response.status == .serviceUnavailable)
            #expect(rejectedLogs.text.contains("The mail server refused the recipient: 550"))
            #expect(!rejectedLogs.text.contains(Self.known))
            // Another address still goes through.
            #expect(try await Self.requestCode(client, ctx, email: Self.unknown).1.status == .seeOther)
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aFailedSendLeavesTheEarlierCodeWorking(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await withTestApp(engine, configuration: Self.config(smtp: sink)) { client, ctx in
            try await ctx.seedCustomer()
            let (first, _) = try await Self.requestCode(client, ctx, email: Self.known)
            let code = try #require(Self.code(in: sink, to: Self.known))
            sink.stop()
            let (_, failed) = try await Self.requestCode(client, ctx, email: Self.known)
            #expect(failed.status == .serviceUnavailable)
            #expect(try await Self.enter(first, ctx, code: code).headers[.location] == "/flow")
        }
    }

    @Test(arguments: TestEngine.allCases)
    func aCodeWorksOnlyOnThePageOfItsOrganizationAndMode(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await withTestApp(engine, configuration: Self.config(smtp: sink)) { client, ctx in
            try await ctx.seedCustomer()
            let (browser, _) = try await Self.requestCode(client, ctx, email: Self.known)
            let code = try #require(Self.code(in: sink, to: Self.known))
            // The same browser, the live page of the same organization: not this code's.
            let live = try await Self.enter(browser, ctx, code: code, mode: .live)
            #expect(live.status == .badRequest)
            #expect(live.text.contains("This code has expired or was already used."))
            #expect(try await Self.enter(browser, ctx, code: code).headers[.location] == "/flow")
        }
    }

    @Test(arguments: TestEngine.allCases)
    func codeTriesCountAgainstTheClientsLimit(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await withTestApp(engine, configuration: Self.config(smtp: sink, ["verifyClientLimit": .int(3)])) { client, ctx in
            try await ctx.seedCustomer()
            let (browser, _) = try await Self.requestCode(client, ctx, email: Self.known, ip: "192.0.2.50")
            let code = try #require(Self.code(in: sink, to: Self.known))
            let wrong = code == "000000" ? "111111" : "000000"
            #expect(try await Self.enter(browser, ctx, code: wrong).status == .badRequest)
            #expect(try await Self.enter(browser, ctx, code: wrong).status == .badRequest)
            let limited = try await Self.enter(browser, ctx, code: code)
            #expect(limited.status == .tooManyRequests, "the client's fourth request or try in the hour")
            #expect(limited.text.contains("Too many tries."))
        }
    }

    /// Without a proxy in front, the peer's address is the client: over a real socket every
    /// request here comes from 127.0.0.1 and shares one allowance.
    @Test(arguments: TestEngine.allCases)
    func withoutAProxyThePeerAddressIsTheClient(engine: TestEngine) async throws {
        let sink = try await SMTPSink()
        defer { sink.stop() }
        try await withTestApp(engine, configuration: Self.config(smtp: sink, ["verifyClientLimit": .int(2)]), testing: .live) { client, ctx in
            for (index, address) in ["one@example.com", "two@example.com", "three@example.com"].enumerated() {
                let browser = TestBrowser(client, host: "cancel.test")
                let (_, response) = try await Self.requestCode(client, ctx, email: address, browser: browser)
                #expect(response.status == (index < 2 ? .seeOther : .tooManyRequests), "\(address)")
            }
        }
    }
}
