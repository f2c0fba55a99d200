import CancelflowCore
import Foundation
import HTTPTypes
import Hummingbird

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which peers may tell us, through `X-Forwarded-For` and `X-Forwarded-Host`, who the client is
/// and which host it asked for (`--trusted-proxies CIDR,…`).
///
/// A request's forwarded headers are read only when its TCP peer is one of these proxies;
/// from anyone else they are ignored, since any client can send them. `X-Forwarded-For` is
/// walked from the right, past every address that is itself a trusted proxy: the first one that
/// is not is the client (each proxy appends the address it saw, so the entries to the left of
/// our own proxies' are the client's to invent).
public struct ProxyTrust: Sendable, Equatable {
    /// A network: an address and a prefix length.
    public struct Network: Sendable, Equatable, CustomStringConvertible {
        /// 4 or 16 bytes.
        let address: [UInt8]
        let prefix: Int

        /// Parses `10.0.0.0/8`, `2001:db8::/32` or a single address.
        public init?(_ text: String) {
            let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 1 || parts.count == 2, let address = ProxyTrust.bytes(of: String(parts[0])) else { return nil }
            let maximum = address.count * 8
            if parts.count == 2 {
                guard let prefix = Int(parts[1]), (0...maximum).contains(prefix), parts[1].allSatisfy(\.isNumber) else { return nil }
                self.prefix = prefix
            } else {
                self.prefix = maximum
            }
            self.address = address
        }

        /// Whether `bytes` (4 or 16) falls inside.
        func contains(_ bytes: [UInt8]) -> Bool {
            guard bytes.count == self.address.count else { return false }
            var remaining = self.prefix
            for index in bytes.indices where remaining > 0 {
                let bits = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if bytes[index] & mask != self.address[index] & mask { return false }
                remaining -= bits
            }
            return true
        }

        public var description: String {
            let family = self.address.count == 4 ? AF_INET : AF_INET6
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            _ = self.address.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return "\(text)/\(self.prefix)"
        }
    }

    /// The trusted proxies; empty trusts nobody (the default).
    public var networks: [Network]

    /// Trusts nobody.
    public static let none = ProxyTrust(networks: [])
    /// This machine only: what `--trust-proxy` stands for (a proxy on the same host).
    public static let loopback = ProxyTrust(networks: [Network("127.0.0.0/8")!, Network("::1/128")!])

    public init(networks: [Network]) {
        self.networks = networks
    }

    /// Parses a comma-separated list; nil when an entry is not an address or CIDR.
    public static func parse(_ text: String) -> ProxyTrust? {
        var networks: [Network] = []
        for entry in text.split(separator: ",") where !entry.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let network = Network(String(entry)) else { return nil }
            networks.append(network)
        }
        return ProxyTrust(networks: networks)
    }

    /// Whether an address (numeric text) is a trusted proxy.
    public func trusts(_ address: String?) -> Bool {
        guard !self.networks.isEmpty, let address, let bytes = Self.bytes(of: address) else { return false }
        return self.networks.contains { $0.contains(bytes) }
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy, the right-most
    /// `X-Forwarded-For` entry that is not itself a trusted proxy.
    public func client(peer: String?, forwardedFor: [String]) -> String? {
        guard self.trusts(peer) else { return peer }
        let entries = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        var client = peer
        for entry in entries.reversed() {
            // Something that is not an address ends the walk: from there on the chain is
            // whatever the client wrote, and the last address we could trust stands.
            guard Self.bytes(of: entry) != nil else { break }
            client = entry
            if !self.trusts(entry) { break }
        }
        return client
    }

    /// The host the client asked for: `X-Forwarded-Host`'s last value when the peer is a
    /// trusted proxy (the one our proxy set), else the request's own `Host`.
    public func host(peer: String?, forwardedHost: String?, authority: String?) -> String {
        if self.trusts(peer), let forwardedHost,
            let last = forwardedHost.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        {
            return last
        }
        return authority ?? ""
    }

    /// The 4 or 16 bytes of a numeric address, bracketed or not (an IPv6 zone is ignored), or nil.
    static func bytes(of text: String) -> [UInt8]? {
        var text = text
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        return IPAddress.bytes(of: text)
    }
}

extension ProxyTrust {
    /// The client address of a request.
    func client(_ request: Request, peer: String?) -> String? {
        self.client(peer: peer, forwardedFor: request.headers[values: .xForwardedFor])
    }

    /// The host of a request.
    func host(_ request: Request, peer: String?) -> String {
        self.host(peer: peer, forwardedHost: request.headers[.xForwardedHost], authority: request.head.authority)
    }
}
