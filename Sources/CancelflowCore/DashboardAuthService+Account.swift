import Foundation

/// The account page (password, second factor) and the team page (roles, disabling).
extension DashboardAuthService {
    // MARK: - The account page

    /// Checks the password of a signed-in account (to change it, or to turn the second factor
    /// off), within the same hourly allowance of failures as sign-in: a stolen session cannot
    /// guess the password, nor keep the one bcrypt thread busy for everyone.
    func confirmPassword(_ password: String, of user: DashboardUser, param: String) async throws {
        let window = Self.hourStart(self.time.now())
        let bucket = "dash-login-acct:" + self.bucketHash(user.email)
        guard
            try await self.store.hit([RateLimitBucket(key: bucket, limit: self.policy.signInsPerAccountPerHour)], windowStart: window)
        else {
            throw CancelflowError(.rateLimited, code: "too_many_attempts", message: "Too many wrong passwords. Try again in an hour.")
        }
        guard let stored = user.passwordHash, password.utf8.count <= Self.maximumPasswordBytes,
            try await self.hasher.verify(password, hash: stored)
        else {
            throw CancelflowError(.authentication, code: "wrong_password", message: "Your password is not right.", param: param)
        }
        try await self.store.refund(bucketKey: bucket, windowStart: window)
    }

    /// A new password, given the current one; every session of the account ends, and any reset
    /// link still out there stops working.
    public func changePassword(user: DashboardUser, current: String, new: String) async throws {
        try Self.checkPassword(new, param: "password")
        try await self.confirmPassword(current, of: user, param: "current")
        try await self.store.setPasswordHash(userID: user.id, hash: try await self.hasher.hash(new))
        try await self.store.deleteDashboardSessions(userID: user.id)
        try await self.store.expireSetupLinks(userID: user.id, now: self.time.now())
        try await self.audit(user.organizationID, .user(user), "user.password_changed", target: ("user", user.id))
    }

    /// A fresh TOTP secret to enrol: 160 random bits as 32 base32 characters. The HMAC key is
    /// the UTF-8 of this text (HummingbirdOTP's convention), so what a person types into an
    /// authenticator app is `manualKey(secret)`, the base32 of that text, not the text itself.
    public static func newTOTPSecret() -> String { Base32.encode(SecureRandom.bytes(20)) }

    /// The key as an authenticator app takes it by hand, in groups of four.
    public static func manualKey(_ secret: String) -> String {
        let text = Base32.encode(Array(secret.utf8)).uppercased()
        return stride(from: 0, to: text.count, by: 4).map { start in
            let from = text.index(text.startIndex, offsetBy: start)
            return String(text[from..<(text.index(from, offsetBy: 4, limitedBy: text.endIndex) ?? text.endIndex)])
        }.joined(separator: " ")
    }

    /// The `otpauth://` address for a secret.
    public func enrolmentURL(secret: String, user: DashboardUser) -> String {
        self.codes.enrolmentURL(secret: secret, label: user.email)
    }

    /// Turns the second factor on once the person proves their app shows the right code. One
    /// that is already on is not replaced this way (a stolen session could otherwise move it to
    /// the thief's phone): it is turned off first, with the password.
    public func enableTOTP(user: DashboardUser, secret: String, code: String) async throws {
        guard !user.hasTOTP else {
            throw CancelflowError(
                .conflict, code: "totp_already_on", message: "Two-step sign-in is already on. Turn it off first to change the device.")
        }
        guard secret.utf8.count == 32, secret.utf8.allSatisfy({ Base32.alphabetContains($0) }) else {
            throw CancelflowError.invalid("invalid_secret", "Start the set-up again.", param: "secret")
        }
        guard let step = self.matchingStep(secret: secret, code: code), try await self.store.recordTOTPStep(userID: user.id, step: step) else {
            throw CancelflowError(
                .unprocessable, code: "invalid_code", message: "That code is not right. Check your device's clock and try again.", param: "code")
        }
        try await self.store.setTOTP(userID: user.id, sealed: try self.totpBox.seal(secret))
        try await self.audit(user.organizationID, .user(user), "user.totp_enabled", target: ("user", user.id))
    }

    /// Turns the second factor off, given the password.
    public func disableTOTP(user: DashboardUser, password: String) async throws {
        try await self.confirmPassword(password, of: user, param: "password")
        try await self.store.setTOTP(userID: user.id, sealed: nil)
        try await self.audit(user.organizationID, .user(user), "user.totp_disabled", target: ("user", user.id))
    }

    // MARK: - The team (owners)

    public func team(organizationID: String) async throws -> [DashboardUser] {
        try await self.store.dashboardUsers(organizationID: organizationID)
    }

    /// A user of the acting owner's organization; another organization's is not found.
    public func member(_ id: String, of organizationID: String) async throws -> DashboardUser {
        guard let user = try await self.store.dashboardUser(id: id), user.organizationID == organizationID else {
            throw CancelflowError.notFound("user_not_found", "No such user.")
        }
        return user
    }

    public func changeRole(of target: DashboardUser, to role: DashboardRole, by owner: DashboardUser) async throws {
        guard target.role != role else { return }
        // What the old role allowed must not outlive it in an open session: they end too.
        guard
            try await self.store.updateMember(
                userID: target.id, role: role, disabledAt: target.disabledAt, keepAnOwner: target.role == .owner)
        else { throw Self.lastOwner }
        try await self.audit(
            target.organizationID, .user(owner), "user.role_changed", target: ("user", target.id),
            detail: ["email": target.email, "from": target.role.rawValue, "to": role.rawValue])
    }

    public func setDisabled(_ target: DashboardUser, disabled: Bool, by owner: DashboardUser) async throws {
        guard
            try await self.store.updateMember(
                userID: target.id, role: target.role, disabledAt: disabled ? self.time.now() : nil,
                keepAnOwner: disabled && target.role == .owner)
        else { throw Self.lastOwner }
        if disabled { try await self.store.expireSetupLinks(userID: target.id, now: self.time.now()) }
        try await self.audit(
            target.organizationID, .user(owner), disabled ? "user.disabled" : "user.enabled", target: ("user", target.id),
            detail: ["email": target.email])
    }

    /// An organization never loses its last owner: nobody could manage the team any more.
    static let lastOwner = CancelflowError(.conflict, code: "last_owner", message: "The organization needs at least one active owner.")
}
