import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Synchronization

/// A minimal browser over the test client: keeps cookies, submits forms with the CSRF value the
/// last page carried, and never follows redirects on its own (tests look at each hop).
public final class TestBrowser: Sendable {
    let client: any TestClientProtocol
    let cookies = Mutex<[String: String]>([:])
    let lastPage = Mutex<String>("")
    let host: String?
    let clientIP: String?
    let language: String?

    /// A browser; `host` is sent as `X-Forwarded-Host` and `clientIP` as `X-Forwarded-For` (the
    /// app must trust the proxy) to play a request to another host name, from another address;
    /// `language` is its `Accept-Language`.
    public init(_ client: any TestClientProtocol, host: String? = nil, clientIP: String? = nil, language: String? = nil) {
        self.client = client
        self.host = host
        self.clientIP = clientIP
        self.language = language
    }

    public var cookieJar: [String: String] { self.cookies.withLock { $0 } }

    public func setCookie(_ name: String, _ value: String?) {
        self.cookies.withLock { $0[name] = value }
    }

    /// The CSRF value of the last page's first form.
    public var csrf: String? {
        let page = self.lastPage.withLock { $0 }
        guard let range = page.range(of: #"name="csrf" value="([a-z2-7]+)""#, options: .regularExpression) else { return nil }
        let match = page[range]
        return match.split(separator: "\"").dropFirst(3).first.map(String.init)
    }

    /// Opens a Cancel Link and exchanges it, as a customer does: the landing page, its form, and
    /// the flow's first page, each required to answer as it should.
    @discardableResult
    public func openFlow(token: String) async throws -> TestResponse {
        let landing = try await self.get("/cancel/\(token)")
        guard landing.status == .ok else { throw TestSetupError("the landing page answered \(landing.status)") }
        let exchange = try await self.post("/cancel/\(token)")
        guard exchange.status == .seeOther else { throw TestSetupError("the exchange answered \(exchange.status)") }
        let flow = try await self.get("/flow")
        guard flow.status == .ok else { throw TestSetupError("the flow answered \(flow.status)") }
        return flow
    }

    public func get(_ uri: String, method: HTTPRequest.Method = .get) async throws -> TestResponse {
        try await self.send(uri, method: method, body: nil)
    }

    /// The last page's first `nonce` field (the dashboard's once-only forms carry one).
    public var nonce: String? {
        let page = self.lastPage.withLock { $0 }
        guard let range = page.range(of: #"name="nonce" value="([a-z2-7]+)""#, options: .regularExpression) else { return nil }
        return page[range].split(separator: "\"").dropFirst(3).first.map(String.init)
    }

    /// Posts a form; the `csrf` field is the last page's unless given, and so is `nonce` when the
    /// page has one (as a browser submits a form's hidden fields).
    public func post(_ uri: String, _ fields: [String: String] = [:], csrf: String? = nil) async throws -> TestResponse {
        try await self.send(uri, method: .post, body: self.formBody(fields, csrf: csrf))
    }

    /// A form's body as a browser would submit it from the last page.
    func formBody(_ fields: [String: String], csrf: String? = nil) -> ByteBuffer {
        var fields = fields
        if fields["csrf"] == nil { fields["csrf"] = csrf ?? self.csrf ?? "" }
        if fields["nonce"] == nil, let nonce = self.nonce { fields["nonce"] = nonce }
        return ByteBuffer(string: fields.map { "\(Self.escape($0.key))=\(Self.escape($0.value))" }.joined(separator: "&"))
    }

    public func send(_ uri: String, method: HTTPRequest.Method, body: ByteBuffer?, headers extra: HTTPFields = [:]) async throws -> TestResponse {
        let response = try await self.client.execute(uri: uri, method: method, headers: self.headers(extra, body: body), body: body)
        self.absorb(response.headers, body: response.body)
        return response
    }

    /// The request's headers: cookies, the form's type, and the proxy headers this browser plays.
    func headers(_ extra: HTTPFields, body: ByteBuffer?) -> HTTPFields {
        var headers = extra
        let jar = self.cookieJar
        if !jar.isEmpty { headers[.cookie] = jar.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        if let host = self.host { headers[HTTPField.Name("X-Forwarded-Host")!] = host }
        if let clientIP = self.clientIP { headers[HTTPField.Name("X-Forwarded-For")!] = clientIP }
        if let language = self.language, headers[.acceptLanguage] == nil { headers[.acceptLanguage] = language }
        return headers
    }

    /// Keeps what a browser keeps from a response: its cookies, and the page if it is one.
    func absorb(_ headers: HTTPFields, body: ByteBuffer) {
        for field in headers where field.name == .setCookie {
            let pair = field.value.split(separator: ";").first ?? ""
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            let expired = field.value.contains("Max-Age=0")
            self.setCookie(String(parts[0]), expired || parts[1].isEmpty ? nil : String(parts[1]))
        }
        if headers[.contentType]?.hasPrefix("text/html") == true {
            self.lastPage.withLock { $0 = String(buffer: body) }
        }
    }

    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
