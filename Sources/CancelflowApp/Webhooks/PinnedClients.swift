import AsyncHTTPClient
import Synchronization

/// HTTP clients that connect a host's name to one checked address, kept per (host, address) so
/// that deliveries to the same endpoint reuse their connections (and TLS sessions) instead of
/// opening one per delivery.
///
/// Each delivery still resolves the host and checks every address first; a client is only ever
/// reused for the address that check chose, so a rebinding DNS answer gets a new client (and
/// is refused if private) rather than riding an old connection. AsyncHTTPClient has no hook to
/// vet the address it connects to, which is why one client per checked address is the unit.
/// A client unused for `idle` is shut down; a worker that reaches `capacity` busy addresses
/// sends the rest through a client of their own, as before.
final class PinnedClients: Sendable {
    struct Entry {
        let client: HTTPClient
        var lastUsed: ContinuousClock.Instant
    }

    /// Longer than an attempt may take (15 s), so a client retired as idle is never in use.
    let idle: Duration
    let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    init(idle: Duration = .seconds(60), capacity: Int = 64) {
        self.idle = idle
        self.capacity = capacity
    }

    /// How many clients are kept (for tests).
    var count: Int { self.entries.withLock { $0.count } }

    /// The kept client for `host` pinned to `address`, made on first use; or, when `capacity`
    /// clients are all in recent use, a client of its own (`owned`) that the caller shuts down.
    /// Clients retired as idle are shut down here, off the caller's path.
    func client(host: String, address: String) -> (client: HTTPClient, owned: Bool) {
        let key = host + "\u{0}" + address
        let now = ContinuousClock.now
        let (client, owned, retired) = self.entries.withLock { entries -> (HTTPClient, Bool, [HTTPClient]) in
            if var entry = entries[key] {
                entry.lastUsed = now
                entries[key] = entry
                return (entry.client, false, [])
            }
            var retired: [HTTPClient] = []
            for (name, entry) in entries where now - entry.lastUsed > self.idle {
                retired.append(entry.client)
                entries[name] = nil
            }
            let client = WebhookWorker.makeClient(dnsOverride: [host: address])
            guard entries.count < self.capacity else { return (client, true, retired) }
            entries[key] = Entry(client: client, lastUsed: now)
            return (client, false, retired)
        }
        if !retired.isEmpty {
            Task { for client in retired { try? await client.shutdown() } }
        }
        return (client, owned)
    }

    /// Shuts every kept client down (the worker is stopping).
    func shutdown() async {
        let all = self.entries.withLock { entries in
            defer { entries.removeAll() }
            return entries.values.map(\.client)
        }
        for client in all { try? await client.shutdown() }
    }
}
