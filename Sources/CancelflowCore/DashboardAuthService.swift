import Crypto
import Foundation
import Synchronization

/// Signing in to the dashboard: set-up and reset links, passwords, the second factor, sessions,
/// and the limits that keep guessing slow. Every answer to a wrong address, a wrong password or
/// a disabled account is the same, and takes as long, so sign-in tells nobody who has an account.
public struct DashboardAuthService: Sendable {
    /// Lifetimes and limits, configurable per deployment.
    public struct Policy: Sendable, Equatable {
        /// The longest a session lasts, however active.
        public var sessionLifetime: TimeInterval = 12 * 3600
        /// A session unused for this long ends.
        public var idleTimeout: TimeInterval = 2 * 3600
        /// Time to type the second factor after the password.
        public var codeStageLifetime: TimeInterval = 5 * 60
        /// A set-up link (first owner, invitation, operator reset).
        public var setupLinkLifetime: TimeInterval = 24 * 3600
        /// A reset link sent by email.
        public var resetLinkLifetime: TimeInterval = 3600
        /// Failed sign-ins one address may have per hour.
        public var signInsPerAccountPerHour = 10
        /// Failed sign-ins one client (IPv4 address, IPv6 /64) may have per hour.
        public var signInsPerClientPerHour = 50
        /// Second-factor tries one account may have per hour.
        public var codesPerAccountPerHour = 10
        /// Reset emails one address may be sent per hour.
        public var resetsPerAccountPerHour = 3
        /// Reset requests one client may make per hour.
        public var resetsPerClientPerHour = 10

        public init() {}
    }

    /// The shortest password accepted.
    public static let minimumPasswordLength = 10
    /// bcrypt reads at most 72 bytes: a longer password would be silently cut, so it is refused.
    public static let maximumPasswordBytes = 72
    /// How often a session's last-seen time is written (not on every page).
    static let touchInterval: TimeInterval = 60

    let store: any DashboardStore & RateLimitStore & AuditStore
    let time: any TimeSource
    let hasher: any PasswordHasher
    let codes: any OneTimeCodes
    public let policy: Policy
    let limitKey: SymmetricKey
    let totpBox: SecretBox
    let dummy: DummyHash

    public init(
        store: any DashboardStore & RateLimitStore & AuditStore, time: any TimeSource, secret: ServerSecret, hasher: any PasswordHasher,
        codes: any OneTimeCodes, policy: Policy = Policy(), dummy: DummyHash = DummyHash()
    ) {
        self.store = store
        self.time = time
        self.hasher = hasher
        self.codes = codes
        self.policy = policy
        self.limitKey = secret.derivedKey(purpose: "dashboard-limits-v1")
        self.totpBox = SecretBox(secret: secret, purpose: "dashboard-totp-v1")
        self.dummy = dummy
    }

    /// A hash to check passwords against when there is no account, made once per process, so
    /// an unknown address costs the same bcrypt as a known one.
    public final class DummyHash: Sendable {
        let value = Mutex<String?>(nil)

        public init() {}

        func get(_ hasher: any PasswordHasher) async throws -> String {
            if let value = self.value.withLock({ $0 }) { return value }
            let made = try await hasher.hash(Base32.encode(SecureRandom.bytes(20)))
            self.value.withLock { $0 = made }
            return made
        }
    }

    // MARK: - Set-up links

    /// A new account's set-up link, for the command line and the team page. The address must not
    /// belong to an account yet.
    public func invite(organizationID: String, email: String, role: DashboardRole, by actor: AuditActor) async throws -> String {
        let email = try Self.normalizedEmail(email)
        if try await self.store.dashboardUser(email: email) != nil {
            throw CancelflowError(.conflict, code: "email_taken", message: "An account with this email address already exists.", param: "email")
        }
        let now = self.time.now()
        let token = Self.newToken()
        try await self.store.insertSetupLink(
            DashboardSetupLink(
                organizationID: organizationID, userID: nil, email: email, role: role, purpose: .setup, clearsTOTP: false, createdAt: now,
                expiresAt: now.addingTimeInterval(self.policy.setupLinkLifetime)),
            tokenHash: Hex.sha256(token)
        )
        try await self.audit(
            organizationID, actor, "user.invited", target: ("user_invitation", nil), detail: ["email": email, "role": role.rawValue])
        return token
    }

    /// The first owner's set-up link, printed at the first start: the person chooses their own address.
    public func firstOwnerLink(organizationID: String) async throws -> String {
        let now = self.time.now()
        let token = Self.newToken()
        try await self.store.insertSetupLink(
            DashboardSetupLink(
                organizationID: organizationID, userID: nil, email: nil, role: .owner, purpose: .setup, clearsTOTP: false, createdAt: now,
                expiresAt: now.addingTimeInterval(self.policy.setupLinkLifetime)),
            tokenHash: Hex.sha256(token)
        )
        return token
    }

    /// An operator's reset link for an account (`cancelflow users reset-link`): it also removes
    /// the second factor, for a person who lost their device.
    public func operatorResetLink(email: String) async throws -> (DashboardUser, String) {
        let email = try Self.normalizedEmail(email)
        guard let user = try await self.store.dashboardUser(email: email) else {
            throw CancelflowError.notFound("user_not_found", "No dashboard account has this email address.", param: "email")
        }
        let token = try await self.resetLink(for: user, clearsTOTP: true, lifetime: self.policy.setupLinkLifetime)
        try await self.audit(user.organizationID, .commandLine, "user.reset_link_created", target: ("user", user.id), detail: ["email": email])
        return (user, token)
    }

    /// Asks for a reset email. The same answer comes back whether or not the address has an
    /// account; a reset link comes back only when it has one (for the caller to mail, after
    /// answering). Limited per address and per client.
    public func requestReset(email: String, clientIP: String) async throws -> (DashboardUser, String)? {
        let email = (try? Self.normalizedEmail(email)) ?? ""
        let window = Self.hourStart(self.time.now())
        let allowed = try await self.store.hit(
            [
                RateLimitBucket(
                    key: "dash-reset-client:" + self.bucketHash(VerificationService.clientKey(clientIP)), limit: self.policy.resetsPerClientPerHour),
                RateLimitBucket(key: "dash-reset-acct:" + self.bucketHash(email), limit: self.policy.resetsPerAccountPerHour),
            ],
            windowStart: window
        )
        // Over the limit, nothing is sent, and the answer is still the same.
        guard allowed, !email.isEmpty, let user = try await self.store.dashboardUser(email: email), user.disabledAt == nil else {
            return nil
        }
        let token = try await self.resetLink(for: user, clearsTOTP: false, lifetime: self.policy.resetLinkLifetime)
        try await self.audit(user.organizationID, .user(user), "user.reset_requested", target: ("user", user.id))
        return (user, token)
    }

    func resetLink(for user: DashboardUser, clearsTOTP: Bool, lifetime: TimeInterval) async throws -> String {
        let now = self.time.now()
        let token = Self.newToken()
        try await self.store.insertSetupLink(
            DashboardSetupLink(
                organizationID: user.organizationID, userID: user.id, email: user.email, role: user.role, purpose: .reset,
                clearsTOTP: clearsTOTP, createdAt: now, expiresAt: now.addingTimeInterval(lifetime)),
            tokenHash: Hex.sha256(token)
        )
        return token
    }

    /// The link a set-up or reset page was opened with, when it can still be used. Opening the
    /// page never uses the link up (mail scanners open links); only submitting its form does.
    public func setupLink(token: String) async throws -> DashboardSetupLink? {
        guard Self.isTokenShaped(token) else { return nil }
        return try await self.store.setupLink(tokenHash: Hex.sha256(token), now: self.time.now())
    }

    /// Submits a set-up or reset form: checks the password, then uses the link up and creates
    /// the account or sets its password, and ends every session the account had.
    public func redeem(token: String, email: String?, name: String?, password: String) async throws -> DashboardUser {
        guard let link = try await self.setupLink(token: token) else { throw Self.linkGone }
        let chosenEmail = try Self.normalizedEmail(link.email ?? email ?? "")
        let name = try name.map { try Self.validatedName($0) }.flatMap { $0.isEmpty ? nil : $0 }
        try Self.checkPassword(password)
        let hash = try await self.hasher.hash(password)
        let now = self.time.now()
        let user = DashboardUser(
            id: link.userID ?? Identifier.make("usr_"), organizationID: link.organizationID, email: chosenEmail, name: name, role: link.role,
            passwordHash: hash, sealedTOTP: nil, disabledAt: nil, createdAt: now)
        guard let saved = try await self.store.redeemSetupLink(tokenHash: Hex.sha256(token), now: now, newUser: user, passwordHash: hash) else {
            throw Self.linkGone
        }
        let action = link.purpose == .setup ? "user.created" : "user.password_reset"
        try await self.audit(saved.organizationID, .user(saved), action, target: ("user", saved.id), detail: ["role": saved.role.rawValue])
        return saved
    }

    static let linkGone = CancelflowError(
        .notFound, code: "setup_link_invalid", message: "This link has expired or was already used. Ask for a new one.")

    // MARK: - Signing in

    /// The result of a right password.
    public enum SignIn: Sendable {
        /// Signed in: set this key as the session cookie.
        case signedIn(key: String, user: DashboardUser)
        /// The account has a second factor: this key opens only the code page.
        case needsCode(key: String, user: DashboardUser)
    }

    public static let wrongSignIn = CancelflowError(
        .authentication, code: "invalid_sign_in", message: "The email address or password is wrong.")

    /// Checks an address and password. Only failures count against the limits (a success takes
    /// its hits back), and the hits are counted before bcrypt runs, so parallel guesses cannot
    /// pass a limit.
    public func signIn(email: String, password: String, clientIP: String) async throws -> SignIn {
        let email = (try? Self.normalizedEmail(email)) ?? ""
        let window = Self.hourStart(self.time.now())
        let accountBucket = "dash-login-acct:" + self.bucketHash(email)
        let clientBucket = "dash-login-client:" + self.bucketHash(VerificationService.clientKey(clientIP))
        let allowed = try await self.store.hit(
            [
                RateLimitBucket(key: clientBucket, limit: self.policy.signInsPerClientPerHour),
                RateLimitBucket(key: accountBucket, limit: self.policy.signInsPerAccountPerHour),
            ],
            windowStart: window
        )
        guard allowed else {
            throw CancelflowError(
                .rateLimited, code: "too_many_sign_ins", message: "Too many failed sign-ins. Try again later, or reset your password.",
                retryAfter: Int(window.addingTimeInterval(3600).timeIntervalSince(self.time.now()).rounded(.up)))
        }
        let user = email.isEmpty ? nil : try await self.store.dashboardUser(email: email)
        let acceptable = password.utf8.count <= Self.maximumPasswordBytes && InputText.isAcceptable(password)
        // bcrypt runs whatever the account's state, against a stand-in hash when there is no
        // password to check, so the time taken says nothing about the account.
        let stored = user?.passwordHash
        let against: String
        if let stored { against = stored } else { against = try await self.dummy.get(self.hasher) }
        let matches = try await self.hasher.verify(acceptable ? password : "", hash: against)
        guard let user, let stored, acceptable, matches, user.disabledAt == nil else { throw Self.wrongSignIn }
        try await self.store.refund(bucketKey: accountBucket, windowStart: window)
        try await self.store.refund(bucketKey: clientBucket, windowStart: window)
        if self.hasher.needsRehash(stored) {
            try await self.store.setPasswordHash(userID: user.id, hash: try await self.hasher.hash(password))
        }
        let now = self.time.now()
        let key = Self.newSessionKey()
        let stage: DashboardSession.Stage = user.hasTOTP ? .code : .full
        let lifetime = stage == .code ? self.policy.codeStageLifetime : self.policy.sessionLifetime
        try await self.store.insertDashboardSession(
            DashboardSession(
                id: Identifier.make("dss_"), userID: user.id, stage: stage, createdAt: now, lastSeenAt: now,
                expiresAt: now.addingTimeInterval(lifetime)),
            keyHash: Hex.sha256(key)
        )
        if stage == .full {
            try await self.audit(user.organizationID, .user(user), "user.signed_in", target: ("user", user.id))
            return .signedIn(key: key, user: user)
        }
        return .needsCode(key: key, user: user)
    }

    /// The second step: a code from the account's authenticator. A code is accepted once (on
    /// any instance), within one 30-second step either side of now; tries are limited per account.
    /// Returns the key of the full session that replaces the code-stage one.
    public func verifyCode(session: DashboardSession, user: DashboardUser, code: String) async throws -> String {
        guard session.stage == .code, let sealed = user.sealedTOTP else { throw Self.wrongSignIn }
        let window = Self.hourStart(self.time.now())
        guard
            try await self.store.hit(
                [RateLimitBucket(key: "dash-code:" + user.id, limit: self.policy.codesPerAccountPerHour)], windowStart: window)
        else {
            throw CancelflowError(
                .rateLimited, code: "too_many_codes", message: "Too many wrong codes. Try again in an hour, or ask an owner for help.")
        }
        let secret = try self.totpBox.open(sealed)
        guard let step = self.matchingStep(secret: secret, code: code), try await self.store.recordTOTPStep(userID: user.id, step: step) else {
            throw CancelflowError(.authentication, code: "invalid_code", message: "That code is not right. Codes change every 30 seconds.")
        }
        let now = self.time.now()
        let key = Self.newSessionKey()
        guard
            try await self.store.promoteDashboardSession(
                id: session.id, newKeyHash: Hex.sha256(key), now: now, expiresAt: now.addingTimeInterval(self.policy.sessionLifetime))
        else { throw Self.wrongSignIn }
        try await self.store.refund(bucketKey: "dash-code:" + user.id, windowStart: window)
        try await self.audit(user.organizationID, .user(user), "user.signed_in", target: ("user", user.id), detail: ["second_factor": "totp"])
        return key
    }

    /// The step a six-digit code belongs to, trying the previous, the current and the next
    /// step (clocks drift; a code typed at the end of its step arrives in the next).
    func matchingStep(secret: String, code: String) -> Int64? {
        let digits = code.filter { !$0.isWhitespace }
        guard digits.count == 6, digits.allSatisfy(\.isASCII), let value = Int(digits) else { return nil }
        let current = Int64((self.time.now().timeIntervalSince1970 / 30).rounded(.down))
        for step in [current - 1, current, current + 1] where self.codes.code(secret: secret, step: step) == value {
            return step
        }
        return nil
    }

    /// The session a cookie names, with its user, if it is still good: not past its lifetime,
    /// not idle too long, its user not disabled. Activity is recorded at most once a minute.
    public func session(key: String) async throws -> (DashboardSession, DashboardUser)? {
        guard Self.isSessionKeyShaped(key), let (session, user) = try await self.store.dashboardSession(keyHash: Hex.sha256(key)) else {
            return nil
        }
        let now = self.time.now()
        guard session.expiresAt > now, session.lastSeenAt.addingTimeInterval(self.policy.idleTimeout) > now, user.disabledAt == nil else {
            return nil
        }
        if now.timeIntervalSince(session.lastSeenAt) >= Self.touchInterval {
            try await self.store.touchDashboardSession(id: session.id, now: now)
        }
        return (session, user)
    }

    public func signOut(session: DashboardSession) async throws {
        try await self.store.deleteDashboardSession(id: session.id)
    }

    /// Ends every session of the user, on every instance.
    public func signOutEverywhere(user: DashboardUser, by actor: AuditActor) async throws {
        try await self.store.deleteDashboardSessions(userID: user.id)
        try await self.audit(user.organizationID, actor, "user.signed_out_everywhere", target: ("user", user.id))
    }

    // MARK: - Rules

    /// Trimmed and lower-cased; a plausible address, or `invalid_email`.
    public static func normalizedEmail(_ text: String) throws -> String {
        let email = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard email.utf8.count <= 254, InputText.isAcceptable(email), CustomerService.looksLikeEmail(email) else {
            throw CancelflowError.unprocessable("invalid_email", "Enter an email address like name@example.com.", param: "email")
        }
        return email
    }

    static func validatedName(_ text: String) throws -> String {
        let name = text.trimmingCharacters(in: .whitespaces)
        guard name.count <= 100, InputText.isAcceptable(name) else {
            throw CancelflowError.unprocessable("invalid_name", "Names are at most 100 characters.", param: "name")
        }
        return name
    }

    public static func checkPassword(_ password: String, param: String = "password") throws {
        guard password.count >= Self.minimumPasswordLength else {
            throw CancelflowError.unprocessable(
                "password_too_short", "Use at least \(Self.minimumPasswordLength) characters.", param: param)
        }
        guard password.utf8.count <= Self.maximumPasswordBytes else {
            throw CancelflowError.unprocessable(
                "password_too_long", "Use at most \(Self.maximumPasswordBytes) bytes (bcrypt ignores anything longer).", param: param)
        }
        guard InputText.isAcceptable(password) else {
            throw CancelflowError.unprocessable("invalid_password", "Passwords cannot contain control characters.", param: param)
        }
    }

    static func newToken() -> String { Base32.encode(SecureRandom.bytes(20)) }
    static func newSessionKey() -> String { Base32.encode(SecureRandom.bytes(32)) }

    static func isTokenShaped(_ token: String) -> Bool {
        token.utf8.count == 32 && token.utf8.allSatisfy { Base32.alphabetContains($0) }
    }

    static func isSessionKeyShaped(_ key: String) -> Bool {
        key.utf8.count == 52 && key.utf8.allSatisfy { Base32.alphabetContains($0) }
    }

    static func hourStart(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
    }

    func bucketHash(_ text: String) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: self.limitKey).prefix(16))
    }

    func audit(
        _ organizationID: String, _ actor: AuditActor, _ action: String, target: (String, String?), detail: [String: String] = [:]
    ) async throws {
        try await self.store.appendAudit(
            AuditEntry(
                organizationID: organizationID, mode: nil, actorUserID: actor.userID, actorLabel: actor.label, action: action,
                targetType: target.0, targetID: target.1, detail: detail, createdAt: self.time.now()))
    }
}
