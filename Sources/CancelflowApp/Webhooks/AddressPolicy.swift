import CancelflowCore
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Keeps webhook deliveries off the service's own network: an endpoint whose host resolves to a
/// loopback, private, shared, link-local (cloud metadata lives there), multicast or unspecified
/// address is refused, unless the operator allows private endpoints. Checked when the endpoint is
/// created and again before every delivery, since DNS can change in between.
enum AddressPolicy {
    /// The host's addresses, resolved off Swift's cooperative threads (getaddrinfo blocks).
    static func resolve(_ host: String) async -> [String] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: Self.resolveBlocking(host))
            }
        }
    }

    static func resolveBlocking(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let trimmed = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard getaddrinfo(trimmed, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(info.pointee.ai_addr, info.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                addresses.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }

    /// Whether an address (numeric text) is one a webhook must not reach.
    static func isRestricted(_ address: String) -> Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return Self.isRestrictedV4(UInt32(bigEndian: v4.s_addr))
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, address.split(separator: "%").first.map(String.init) ?? address, &v6) == 1 else { return true }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        func embedded(_ slice: ArraySlice<UInt8>) -> UInt32 { slice.reduce(UInt32(0)) { ($0 << 8) | UInt32($1) } }
        // IPv6 forms that carry an IPv4 address: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d),
        // NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::). Judge them by that address.
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF { return Self.isRestrictedV4(embedded(bytes[12..<16])) }
        if bytes[0..<12].allSatisfy({ $0 == 0 }), !bytes[12..<15].allSatisfy({ $0 == 0 }) { return Self.isRestrictedV4(embedded(bytes[12..<16])) }
        if bytes[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] { return Self.isRestrictedV4(embedded(bytes[12..<16])) }
        if bytes[0] == 0x20, bytes[1] == 0x02 { return Self.isRestrictedV4(embedded(bytes[2..<6])) }
        if bytes.allSatisfy({ $0 == 0 }) { return true }  // ::
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }  // ::1
        if bytes[0] & 0xFE == 0xFC { return true }  // fc00::/7
        if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return true }  // fe80::/10
        if bytes[0] == 0xFF { return true }  // multicast
        return false
    }

    static func isRestrictedV4(_ value: UInt32) -> Bool {
        func within(_ base: UInt32, _ bits: UInt32) -> Bool {
            let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
            return value & mask == base & mask
        }
        return within(0x0000_0000, 8) || within(0x0A00_0000, 8) || within(0x6440_0000, 10) || within(0x7F00_0000, 8)
            || within(0xA9FE_0000, 16) || within(0xAC10_0000, 12) || within(0xC000_0000, 24) || within(0xC0A8_0000, 16)
            || within(0xC612_0000, 15) || within(0xE000_0000, 4) || within(0xF000_0000, 4)
    }

    /// Resolves an endpoint's host once and checks every address; the delivery then connects to
    /// the address checked here (never resolving the name again, which a rebinding DNS server
    /// could answer differently). Returns the address, or the reason to refuse.
    static func pinnedAddress(host: String, refusing: (String) -> Bool = isRestricted) async -> Result<String, DeliveryFailure> {
        let addresses = await Self.resolve(host)
        guard !addresses.isEmpty else { return .failure(DeliveryFailure("The endpoint's host does not resolve.")) }
        if addresses.contains(where: refusing) {
            return .failure(DeliveryFailure("The endpoint resolves to a private, loopback or link-local address."))
        }
        // Prefer IPv4: dnsOverride takes a bare host, which an IPv6 literal is not.
        return .success(addresses.first { !$0.contains(":") } ?? addresses[0])
    }

    /// Checks an endpoint URL; returns a reason when it must be refused.
    static func check(url: String, mode: String, allowPrivate: Bool) async -> String? {
        // Parsed as strictly as return URLs: what we check must be what the HTTP client connects to.
        guard let parsed = StrictURL.parse(url) else {
            return "url must be an absolute http(s) URL of printable ASCII, without credentials, backslashes or spaces."
        }
        let scheme = parsed.scheme
        let host = parsed.host
        if mode == "live", scheme != "https" { return "Live-mode endpoints must use https." }
        if allowPrivate { return nil }
        let addresses = await Self.resolve(host)
        if addresses.isEmpty { return "The endpoint's host does not resolve." }
        if addresses.contains(where: Self.isRestricted) {
            return "The endpoint resolves to a private, loopback or link-local address."
        }
        return nil
    }
}

/// The webhook URL rule the domain's `WebhookService` applies: `AddressPolicy.check`.
struct AddressURLPolicy: WebhookURLPolicy {
    /// `--allow-private-webhooks`.
    let allowPrivate: Bool

    func refusal(url: String, mode: Mode) async -> String? {
        await AddressPolicy.check(url: url, mode: mode.rawValue, allowPrivate: self.allowPrivate)
    }
}
