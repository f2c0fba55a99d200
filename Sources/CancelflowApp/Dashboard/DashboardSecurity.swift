import CancelflowCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// The dashboard's cookies, CSRF values and headers.
///
/// Two cookies, both `HttpOnly`, `SameSite=Lax`, host-only, on `/dashboard`, and `Secure` under
/// https: `cf_dash` holds a signed-in session's key (the database keeps its hash), and
/// `cf_dnonce` a random value that binds the forms shown before sign-in (sign-in, set-up,
/// reset) to the browser, so another site cannot sign a browser in to its own account (login
/// CSRF). Forms after sign-in carry an HMAC of the session's id.
struct DashboardSecurity: Sendable {
    static let sessionCookie = "cf_dash"
    static let nonceCookie = "cf_dnonce"
    static let path = "/dashboard"

    let key: SymmetricKey
    let secureCookies: Bool

    init(secret: ServerSecret, publicURL: URL) {
        self.key = secret.derivedKey(purpose: "dashboard-csrf-v1")
        self.secureCookies = publicURL.scheme == "https"
    }

    /// The CSRF value of a signed-in session's forms.
    func csrf(sessionID: String) -> String {
        PageSecurity.tag(key: self.key, "session|\(sessionID)")
    }

    /// The CSRF value of a form shown before sign-in, for one purpose (`login`, `setup`, …).
    func csrf(nonce: String, purpose: String) -> String {
        PageSecurity.tag(key: self.key, "nonce|\(purpose)|\(nonce)")
    }

    func check(_ field: String?, sessionID: String) -> Bool {
        guard let field else { return false }
        return constantTimeEquals(Array(field.utf8), Array(self.csrf(sessionID: sessionID).utf8))
    }

    func check(_ field: String?, nonce: String?, purpose: String) -> Bool {
        guard let field, let nonce, !nonce.isEmpty else { return false }
        return constantTimeEquals(Array(field.utf8), Array(self.csrf(nonce: nonce, purpose: purpose).utf8))
    }

    func sessionCookie(_ key: String, maxAge: Int) -> Cookie {
        Cookie(name: Self.sessionCookie, value: key, maxAge: maxAge, path: Self.path, secure: self.secureCookies, httpOnly: true, sameSite: .lax)
    }

    func clearedSessionCookie() -> Cookie {
        Cookie(name: Self.sessionCookie, value: "", maxAge: 0, path: Self.path, secure: self.secureCookies, httpOnly: true, sameSite: .lax)
    }

    func nonceCookie(_ nonce: String) -> Cookie {
        Cookie(name: Self.nonceCookie, value: nonce, maxAge: 3600, path: Self.path, secure: self.secureCookies, httpOnly: true, sameSite: .lax)
    }

    /// The nonce a browser already has, or a new one (its cookie set by the page).
    static func nonce(of request: Request) -> (value: String, isNew: Bool) {
        if let value = request.cookies[Self.nonceCookie]?.value, value.utf8.count == 26, value.utf8.allSatisfy(Base32.alphabetContains) {
            return (value, false)
        }
        return (Base32.encode(SecureRandom.bytes(16)), true)
    }

    /// The hosted pages' policy with one addition: scripts from this origin (the dashboard's one
    /// file, for the clipboard and the dialog; no inline script anywhere), and `fetch` to it.
    static func apply(to response: inout Response) {
        response.headers[.contentSecurityPolicy] = [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' https: data:",
            "connect-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ].joined(separator: "; ")
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.cacheControl] = "no-store"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
    }

    /// Whether a POST came from a page of another site, as browsers say in `Sec-Fetch-Site`: a
    /// second wall behind the CSRF value, never the only one. (`Origin` is not compared with the
    /// public URL: an operator reaching the service by another name would be locked out.)
    static func isCrossSite(_ request: Request) -> Bool {
        request.headers[.secFetchSite] == "cross-site"
    }
}

extension HTTPField.Name {
    static let secFetchSite = Self("Sec-Fetch-Site")!
}
