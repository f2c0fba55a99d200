import Foundation

/// Picks the host a Cancel Link points to (seed: "How Churnkey picks the domain"): the org's
/// custom domain when set and verified, else its subdomain of the service's subdomain base, else
/// the service's public URL. It never looks at a request's Host header, which a caller controls.
public struct DomainPicker: Sendable {
    /// The service's public base URL, e.g. `http://127.0.0.1:8080`.
    public let publicURL: URL
    /// The parent domain for org subdomains, e.g. `cancel.example.com`; nil disables subdomains.
    public let subdomainBase: String?

    /// Creates a picker; `publicURL` must be an absolute http(s) URL.
    public init(publicURL: URL, subdomainBase: String?) {
        self.publicURL = publicURL
        self.subdomainBase = subdomainBase?.lowercased()
    }

    /// The origin (scheme, host and port) hosted pages of the organization are served on.
    public func origin(for organization: Organization) -> String {
        let scheme = self.publicURL.scheme ?? "https"
        if let domain = organization.customDomain, organization.customDomainVerified {
            // A custom domain sits behind the merchant's DNS and TLS on the standard port.
            return "\(scheme)://\(domain.lowercased())"
        }
        if let base = self.subdomainBase, let label = organization.subdomain {
            let port = self.publicURL.port.map { ":\($0)" } ?? ""
            return "\(scheme)://\(label.lowercased()).\(base)\(port)"
        }
        var origin = self.publicURL.absoluteString
        while origin.hasSuffix("/") { origin.removeLast() }
        return origin
    }

    /// The URL a customer follows for a token.
    public func url(for organization: Organization, token: String) -> String {
        self.origin(for: organization) + "/cancel/" + token
    }

    /// Whether hosted pages of the organization may be served on a request host (`host[:port]`):
    /// its verified custom domain, its subdomain, or the service's public host.
    public func accepts(host: String, for organization: Organization) -> Bool {
        let scheme = self.publicURL.scheme ?? "https"
        let requested = Self.normalize(host, scheme: scheme)
        var hosts: Set<String> = []
        if let publicHost = self.publicURL.host {
            hosts.insert(Self.normalize(publicHost + (self.publicURL.port.map { ":\($0)" } ?? ""), scheme: scheme))
        }
        if let domain = organization.customDomain, organization.customDomainVerified {
            hosts.insert(Self.normalize(domain, scheme: scheme))
        }
        if let base = self.subdomainBase, let label = organization.subdomain {
            hosts.insert(Self.normalize("\(label).\(base)" + (self.publicURL.port.map { ":\($0)" } ?? ""), scheme: scheme))
        }
        return hosts.contains(requested)
    }

    /// Whose a request host is, before any organization is known: the service's own public host,
    /// or a candidate custom domain or subdomain label to look an organization up by.
    public enum HostOwner: Sendable, Equatable {
        /// The service's public host, shared by every organization.
        case service
        /// A merchant's custom domain (only a verified one counts).
        case customDomain(String)
        /// A label under the subdomain base.
        case subdomain(String)
    }

    /// Classifies a request host (`host[:port]`).
    public func owner(ofHost host: String) -> HostOwner {
        let scheme = self.publicURL.scheme ?? "https"
        let requested = Self.normalize(host, scheme: scheme)
        let port = self.publicURL.port.map { ":\($0)" } ?? ""
        if let publicHost = self.publicURL.host, requested == Self.normalize(publicHost + port, scheme: scheme) {
            return .service
        }
        if let base = self.subdomainBase, requested.hasSuffix("." + base + port) {
            let label = String(requested.dropLast(base.count + port.count + 1))
            if !label.isEmpty, !label.contains(".") { return .subdomain(label) }
        }
        // A custom domain is served on the standard port behind the merchant's TLS.
        return .customDomain(requested)
    }

    /// Lower-cased, without a trailing dot or the scheme's default port.
    static func normalize(_ host: String, scheme: String) -> String {
        var host = host.lowercased()
        let defaultPort = scheme == "https" ? ":443" : ":80"
        if host.hasSuffix(defaultPort) { host.removeLast(defaultPort.count) }
        if host.hasSuffix(".") { host.removeLast() }
        return host
    }
}
