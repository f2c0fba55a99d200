import CancelflowCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// The headers every hosted page carries, the CSRF tokens its forms carry, and the cookies.
struct PageSecurity: Sendable {
    static let preSessionCookie = "cf_csrf"
    static let sessionCookie = "cf_session"
    static let preSessionLifetime = 1800
    static let verifyNonceCookie = "cf_vcsrf"
    static let verifyCookie = "cf_verify"

    let landingKey: SymmetricKey
    let flowKey: SymmetricKey
    let verifyKey: SymmetricKey
    /// Cookies get `Secure` when the service is served over https.
    let secureCookies: Bool

    init(secret: ServerSecret, publicURL: URL) {
        self.landingKey = secret.derivedKey(purpose: "landing-csrf-v1")
        self.flowKey = secret.derivedKey(purpose: "flow-csrf-v1")
        self.verifyKey = secret.derivedKey(purpose: "verify-csrf-v1")
        self.secureCookies = publicURL.scheme == "https"
    }

    /// The landing form's CSRF value: bound to the browser's pre-session nonce and to the link,
    /// so a value lifted from one page works for no other browser and no other link.
    func landingCSRF(nonce: String, tokenHash: String) -> String {
        Self.tag(key: self.landingKey, "\(nonce)|\(tokenHash)")
    }

    /// A flow form's CSRF value, bound to the session.
    func flowCSRF(sessionID: String) -> String {
        Self.tag(key: self.flowKey, sessionID)
    }

    /// The email form's CSRF value, bound to the browser's nonce and the organization's mode.
    func emailCSRF(nonce: String, target: String) -> String {
        Self.tag(key: self.verifyKey, "email|\(nonce)|\(target)")
    }

    /// The code form's CSRF value, bound to the browser's verification key.
    func codeCSRF(browserKey: String) -> String {
        Self.tag(key: self.verifyKey, "code|\(Hex.sha256(browserKey))")
    }

    func verifyEmailForm(field: String?, nonce: String?, target: String) -> Bool {
        guard let field, let nonce, !nonce.isEmpty else { return false }
        return constantTimeEquals(Array(field.utf8), Array(self.emailCSRF(nonce: nonce, target: target).utf8))
    }

    func verifyCodeForm(field: String?, browserKey: String) -> Bool {
        guard let field else { return false }
        return constantTimeEquals(Array(field.utf8), Array(self.codeCSRF(browserKey: browserKey).utf8))
    }

    func verifyNonceCookie(_ nonce: String) -> Cookie {
        Cookie(
            name: Self.verifyNonceCookie, value: nonce, maxAge: Self.preSessionLifetime, path: "/verify",
            secure: self.secureCookies, httpOnly: true, sameSite: .lax)
    }

    func verifyCookie(_ key: String) -> Cookie {
        Cookie(
            name: Self.verifyCookie, value: key, maxAge: Int(VerificationService.codeLifetime), path: "/verify",
            secure: self.secureCookies, httpOnly: true, sameSite: .lax)
    }

    func verifyLanding(field: String?, nonce: String?, tokenHash: String) -> Bool {
        guard let field, let nonce, !nonce.isEmpty else { return false }
        return constantTimeEquals(Array(field.utf8), Array(self.landingCSRF(nonce: nonce, tokenHash: tokenHash).utf8))
    }

    func verifyFlow(field: String?, sessionID: String) -> Bool {
        guard let field else { return false }
        return constantTimeEquals(Array(field.utf8), Array(self.flowCSRF(sessionID: sessionID).utf8))
    }

    static func tag(key: SymmetricKey, _ text: String) -> String {
        Base32.encode(Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key)).prefix(20))
    }

    func preSessionCookie(_ nonce: String) -> Cookie {
        Cookie(
            name: Self.preSessionCookie, value: nonce, maxAge: Self.preSessionLifetime, path: "/cancel",
            secure: self.secureCookies, httpOnly: true, sameSite: .lax)
    }

    func sessionCookie(_ key: String, maxAge: Int) -> Cookie {
        Cookie(name: Self.sessionCookie, value: key, maxAge: maxAge, path: "/", secure: self.secureCookies, httpOnly: true, sameSite: .lax)
    }

    /// Headers for a page. `styleHash` allows the one inline `<style>` with the brand colour;
    /// `formTargets` are extra origins a form submission may end up at (the return URL after
    /// the last step redirects there, and Chrome checks form-action along redirects).
    static func apply(to response: inout Response, styleHash: String?, formTargets: [String]) {
        let style = ["'self'"] + (styleHash.map { ["'sha256-\($0)'"] } ?? [])
        let csp = [
            "default-src 'none'",
            "style-src \(style.joined(separator: " "))",
            "img-src 'self' https: data:",
            "form-action \((["'self'"] + formTargets).joined(separator: " "))",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ].joined(separator: "; ")
        response.headers[.contentSecurityPolicy] = csp
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.cacheControl] = "no-store"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
    }

    /// The SHA-256 of an inline style's text, as CSP wants it.
    static func styleHash(_ style: String) -> String {
        Data(SHA256.hash(data: Array(style.utf8))).base64EncodedString()
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xForwardedHost = Self("X-Forwarded-Host")!
    static let xForwardedFor = Self("X-Forwarded-For")!
}
