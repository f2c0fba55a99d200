import Crypto
import Foundation

/// A one-time code sent to an email address, as stored: the code itself only as an HMAC.
///
/// Every request for a code stores one of these, whether or not the address belongs to a
/// customer: for an unknown address `customerID` is nil and the code is one nobody was sent, so
/// the request does the same database work and the later code check takes the same path either
/// way. That is what keeps the pages from telling an attacker which addresses are customers.
public struct EmailVerification: Sendable, Equatable {
    /// `ev_…`
    public var id: String
    /// The organization.
    public var organizationID: String
    /// The mode, from the App ID the page was opened with (live on the merchant's own host).
    public var mode: Mode
    /// The customer the address belongs to; nil when it belongs to none.
    public var customerID: String?
    /// Wrong codes entered so far.
    public var attempts: Int
    /// When it was issued.
    public var createdAt: Date
    /// When it stops working.
    public var expiresAt: Date
    /// When it was used to start a flow.
    public var usedAt: Date?

    /// Creates a value.
    public init(
        id: String, organizationID: String, mode: Mode, customerID: String?, attempts: Int, createdAt: Date, expiresAt: Date,
        usedAt: Date?
    ) {
        self.id = id
        self.organizationID = organizationID
        self.mode = mode
        self.customerID = customerID
        self.attempts = attempts
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
    }
}

/// What became of a code the customer typed.
public enum VerificationRedemption: Sendable, Equatable {
    /// Right code: the flow session it started.
    case redeemed(FlowSession)
    /// Wrong code; this many tries are left.
    case wrongCode(attemptsLeft: Int)
    /// Too many wrong codes: this code is burnt.
    case exhausted
    /// The code ran out, was used already, or this browser never asked for one (here).
    case expired
    /// The address has had too many wrong tries today, across all its codes.
    case tooManyTries
}

/// Counters over fixed time windows, kept in the database so that every instance sees the same
/// counts.
public struct RateLimitBucket: Sendable, Equatable {
    /// What is counted, e.g. `verify-address:<hmac>`; never a raw address or IP.
    public var key: String
    /// How many hits the window allows.
    public var limit: Int

    /// Creates a bucket.
    public init(key: String, limit: Int) {
        self.key = key
        self.limit = limit
    }
}

/// Email verification codes and the counters that limit them.
public protocol VerificationStore: RateLimitStore {
    /// The customer an address identifies: of several with the address, the newest with a
    /// subscription that can be cancelled, else the newest.
    func customer(organizationID: String, mode: Mode, email: String) async throws -> Customer?
    /// Stores a new code, replacing any earlier one for the same address in the organization's
    /// mode, so only the newest code works.
    func saveVerification(_ verification: EmailVerification, addressHash: String, browserHash: String, codeHash: String) async throws
    /// Checks a code in one transaction: counts the try first (so parallel guesses cannot exceed
    /// the limit), then, when `matches` accepts the stored code hash and the code belongs to a
    /// customer, uses it up and starts the flow session.
    /// Every try also counts against the address's daily allowance (`dailyTries`, in the window
    /// starting `dayStart`), which no new code resets. Only a code of the organization's mode
    /// the page belongs to is considered.
    func redeemVerification(
        organizationID: String, mode: Mode, browserHash: String, now: Date, maximumAttempts: Int, dailyTries: Int, dayStart: Date,
        session: @escaping @Sendable (EmailVerification) -> FlowSession, sessionHash: String,
        matches: @escaping @Sendable (EmailVerification, _ codeHash: String) -> Bool
    ) async throws -> VerificationRedemption
}

/// Email verification's rules: codes, their lifetime and tries, and the rate limits.
public struct VerificationService: Sendable {
    /// Limits, configurable per deployment.
    public struct Limits: Sendable, Equatable {
        /// Codes one address may be sent per hour.
        public var perAddressPerHour: Int
        /// Code requests and code tries one client (IPv4 address, IPv6 /64) may make per hour.
        public var perClientPerHour: Int
        /// Emails one organization's mode may send per hour: a ceiling on how much mail anyone
        /// can make the service send in the merchant's name.
        public var perOrganizationPerHour: Int
        /// Wrong tries one address may have per day, across all its codes.
        public var triesPerAddressPerDay: Int

        /// Creates limits.
        public init(perAddressPerHour: Int = 5, perClientPerHour: Int = 30, perOrganizationPerHour: Int = 1000, triesPerAddressPerDay: Int = 20) {
            self.perAddressPerHour = perAddressPerHour
            self.perClientPerHour = perClientPerHour
            self.perOrganizationPerHour = perOrganizationPerHour
            self.triesPerAddressPerDay = triesPerAddressPerDay
        }
    }

    /// How long a code works.
    public static let codeLifetime: TimeInterval = 15 * 60
    /// Wrong tries that burn a code.
    public static let maximumAttempts = 5
    /// The counting window of the rate limits.
    public static let window: TimeInterval = 3600
    /// The longest address accepted (RFC 5321's path limit).
    public static let maximumAddressLength = 254

    let store: any VerificationStore
    let time: any TimeSource
    let limits: Limits
    let providers: any BillingProviders
    let codeKey: SymmetricKey
    let addressKey: SymmetricKey

    /// Creates the service.
    public init(store: any VerificationStore, time: any TimeSource, secret: ServerSecret, limits: Limits, providers: any BillingProviders) {
        self.store = store
        self.time = time
        self.limits = limits
        self.providers = providers
        self.codeKey = secret.derivedKey(purpose: "verification-code-v1")
        self.addressKey = secret.derivedKey(purpose: "verification-address-v1")
    }

    /// A code ready to send: the browser's key (the cookie), the code, and the customer when the
    /// address is one. It is stored (`save`) only once the email is out, so a failed send leaves
    /// the address's earlier code working.
    public struct Issued: Sendable {
        /// The verification's id, for logs.
        public var id: String
        /// The browser's key; only its hash is stored.
        public var browserKey: String
        /// The six digits. Sent by email when `customer` is set, never shown otherwise.
        public var code: String
        /// The customer; nil when the address belongs to none.
        public var customer: Customer?
        /// When the code stops working.
        public var expiresAt: Date
        /// The address's and the organization's rate-limit buckets, to refund when the email
        /// could not be sent.
        public var refundBuckets: [String]
        /// The window the hit was counted in.
        public var windowStart: Date
        let verification: EmailVerification
        let addressHash: String
        let codeHash: String
    }

    /// The outcome of asking for a code.
    public enum RequestOutcome: Sendable {
        /// A code was stored (and, for a customer, is to be sent).
        case issued(Issued)
        /// Over a rate limit: nothing was stored and no budget used; try again in this many
        /// seconds (the end of the window).
        case rateLimited(retryAfter: Int)
    }

    /// Asks for a code for an address: counts the request against the limits, finds the
    /// customer and makes a code, but stores nothing yet. The same statements run whether or not
    /// the address is a customer's.
    public func request(organization: Organization, mode: Mode, email: String, clientIP: String) async throws -> RequestOutcome {
        let organizationID = organization.id
        let address = try Self.normalizedAddress(email)
        let now = self.time.now()
        let addressHash = Self.hash(address, key: self.addressKey)
        let windowStart = Self.windowStart(now)
        // Per organization and mode: another organization's (or test mode's) page cannot use up
        // a live customer's codes.
        let addressBucket = "verify-address:\(organizationID):\(mode.rawValue):\(addressHash)"
        let organizationBucket = "verify-organization:\(organizationID):\(mode.rawValue)"
        // The client first: a client spraying addresses is stopped there, before it touches any
        // address's allowance or the organization's email budget. Every email sent (a code or
        // the "no subscription" note) counts against the organization; a failed send is given
        // back (`refund`), so the budget counts emails that actually went out.
        let within = try await self.store.hit(
            [
                RateLimitBucket(key: self.clientBucket(clientIP), limit: self.limits.perClientPerHour),
                RateLimitBucket(key: addressBucket, limit: self.limits.perAddressPerHour),
                RateLimitBucket(key: organizationBucket, limit: self.limits.perOrganizationPerHour),
            ],
            windowStart: windowStart
        )
        guard within else { return .rateLimited(retryAfter: Self.secondsLeft(in: windowStart, length: Self.window, now: now)) }
        // The provider is asked about every address alike. If it cannot answer, the address's
        // hit is given back (nothing was sent to it) and the caller shows the same "try again
        // later" whatever the address. The organization's hit stays: each request still cost a
        // call to the merchant's provider, and the organization's budget is what bounds those.
        let customer: Customer?
        do {
            customer = try await self.providers.provider(for: organization, mode: mode).customerReference(email: address)
        } catch {
            try? await self.store.refund(bucketKey: addressBucket, windowStart: windowStart)
            throw error
        }
        let id = Identifier.make("ev_")
        let code = Self.makeCode()
        let browserKey = Base32.encode(SecureRandom.bytes(32))
        let verification = EmailVerification(
            id: id, organizationID: organizationID, mode: mode, customerID: customer?.id, attempts: 0,
            createdAt: Millis.date(Millis.from(now)), expiresAt: Millis.date(Millis.from(now.addingTimeInterval(Self.codeLifetime))), usedAt: nil
        )
        return .issued(
            Issued(
                id: id, browserKey: browserKey, code: code, customer: customer, expiresAt: verification.expiresAt,
                refundBuckets: [addressBucket, organizationBucket], windowStart: windowStart, verification: verification, addressHash: addressHash,
                codeHash: self.codeHash(id: id, code: code))
        )
    }

    /// Stores a code whose email went out, replacing the address's earlier one.
    public func save(_ issued: Issued) async throws {
        try await self.store.saveVerification(
            issued.verification, addressHash: issued.addressHash, browserHash: Hex.sha256(issued.browserKey), codeHash: issued.codeHash
        )
    }

    /// Gives back the address's and the organization's hits when the email could not be sent,
    /// so that a mail server outage uses up neither the customer's codes nor the merchant's
    /// email budget. (The client's hit stays: retrying in a loop still counts.)
    public func refund(_ issued: Issued) async throws {
        for bucket in issued.refundBuckets {
            try await self.store.refund(bucketKey: bucket, windowStart: issued.windowStart)
        }
    }

    /// What a code check came to.
    public enum CheckOutcome: Sendable, Equatable {
        /// The check ran.
        case checked(VerificationRedemption)
        /// The client is over its rate limit: the code was not looked at; try again in this many
        /// seconds.
        case rateLimited(retryAfter: Int)
    }

    /// Checks the code a browser typed on an organization's page; a right code starts a flow
    /// session whose key hash is `sessionHash`.
    public func check(
        organizationID: String, mode: Mode, browserKey: String, code: String, clientIP: String, sessionHash: String, locale: String? = nil
    )
        async throws -> CheckOutcome
    {
        let now = self.time.now()
        let windowStart = Self.windowStart(now)
        let within = try await self.store.hit(
            [RateLimitBucket(key: self.clientBucket(clientIP), limit: self.limits.perClientPerHour)], windowStart: windowStart
        )
        guard within else { return .rateLimited(retryAfter: Self.secondsLeft(in: windowStart, length: Self.window, now: now)) }
        let digits = code.filter { !$0.isWhitespace && $0 != "-" }
        // Whatever was typed counts as a try, so malformed input cannot probe for free.
        let typed = digits.count == 6 && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber) ? digits : "invalid"
        let codeKey = self.codeKey
        let redemption = try await self.store.redeemVerification(
            organizationID: organizationID,
            mode: mode,
            browserHash: Hex.sha256(browserKey),
            now: now,
            maximumAttempts: Self.maximumAttempts,
            dailyTries: self.limits.triesPerAddressPerDay,
            dayStart: Self.dayStart(now),
            session: { verification in
                FlowSession(
                    id: Identifier.make("fs_"), linkID: nil, organizationID: verification.organizationID, mode: verification.mode,
                    customerID: verification.customerID ?? "", subscriptionID: nil, entry: .email, returnURL: nil,
                    createdAt: Millis.date(Millis.from(now)),
                    expiresAt: Millis.date(Millis.from(now.addingTimeInterval(FlowService.sessionLifetime))), locale: locale
                )
            },
            sessionHash: sessionHash,
            matches: { verification, stored in
                let computed = Self.hash("\(verification.id):\(typed)", key: codeKey)
                return constantTimeEquals(Array(computed.utf8), Array(stored.utf8))
            }
        )
        return .checked(redemption)
    }

    /// Lower-cased and trimmed; refuses what cannot be an address. ASCII only: the SMTP client
    /// does not speak SMTPUTF8, and an address it cannot send to would fail every time.
    public static func normalizedAddress(_ text: String) throws -> String {
        let address = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard address.utf8.count <= Self.maximumAddressLength, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            address.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && !"<>()[],;:\\\"".unicodeScalars.contains($0) })
        else {
            throw CancelflowError.invalid("email_invalid", "Enter an email address like name@example.com.", param: "email")
        }
        return address
    }

    /// Six uniformly random digits from the CSPRNG (rejection sampling: no modulo bias).
    public static func makeCode() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = UInt32.random(in: 0..<1_000_000, using: &generator)
        let text = String(value)
        return String(repeating: "0", count: 6 - text.count) + text
    }

    /// The start of the fixed window `date` falls in.
    public static func windowStart(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / Self.window).rounded(.down) * Self.window)
    }

    func codeHash(id: String, code: String) -> String {
        Self.hash("\(id):\(code)", key: self.codeKey)
    }

    /// Whole seconds (at least 1) until the window that started at `start` ends: a 429's
    /// `Retry-After`.
    public static func secondsLeft(in start: Date, length: TimeInterval, now: Date) -> Int {
        max(1, Int((start.addingTimeInterval(length).timeIntervalSince(now)).rounded(.up)))
    }

    /// Seconds until the address's daily allowance of wrong tries starts again.
    public func secondsUntilTomorrow() -> Int {
        let now = self.time.now()
        return Self.secondsLeft(in: Self.dayStart(now), length: 86400, now: now)
    }

    /// The start of the UTC day `date` falls in.
    public static func dayStart(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86400).rounded(.down) * 86400)
    }

    func clientBucket(_ ip: String) -> String {
        "verify-client:" + Self.hash(Self.clientKey(ip), key: self.addressKey)
    }

    /// What one client is: an IPv4 address, or an IPv6 /64 (one subscriber's usual allocation,
    /// so rotating through it does not escape the limit).
    public static func clientKey(_ ip: String) -> String {
        guard ip.contains(":"), let bytes = IPAddress.bytes(of: ip) else { return ip }
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        let groups = (0..<4).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
        return groups.map { String($0, radix: 16) }.joined(separator: ":") + "::/64"
    }

    /// An HMAC, hex: the code's under a key only the server holds, so a stolen database does not
    /// give away six-digit codes to a million-guess search, nor addresses to a dictionary.
    static func hash(_ text: String, key: SymmetricKey) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key))
    }
}
