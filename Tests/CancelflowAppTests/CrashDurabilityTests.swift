import CancelflowStore
import CancelflowTestSupport
import Foundation
import Logging
import SQLKit
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// With the default `full` durability on SQLite, a server killed with SIGKILL in the middle of a
/// load loses nothing it answered: every link answered `201` is there after a restart, and a
/// single-use link whose exchange was answered can never be exchanged again.
@Suite struct CrashDurabilityTests {
    /// What the clients saw answered, shared between them.
    final class Ledger: Sendable {
        let minted = Mutex<[String]>([])
        let exchanged = Mutex<[String]>([])
        let alive = Atomic<Bool>(true)
    }

    static func json(_ body: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
    }

    /// Landing then exchange, as a browser does; the exchange's status, or nil when the server
    /// died before answering.
    static func exchange(port: Int, token: String) async -> Int? {
        guard let landing = await rawHTTP(port: port, "GET", "/cancel/\(token)") else { return nil }
        guard landing.status == 200,
            let cookie = landing.headers["set-cookie"]?.split(separator: "\n").first(where: { $0.hasPrefix("cf_csrf=") })?
                .split(separator: ";").first,
            let range = landing.body.range(of: #"name="csrf" value="[a-z2-7]+""#, options: .regularExpression)
        else { return landing.status }
        let csrf = landing.body[range].split(separator: "\"")[3]
        return await rawHTTP(
            port: port, "POST", "/cancel/\(token)",
            headers: ["Cookie": String(cookie), "Content-Type": "application/x-www-form-urlencoded"], body: "csrf=\(csrf)"
        )?.status
    }

    @Test func killedMidLoadTheServerLosesNothingItAnswered() async throws {
        try await withTemporaryFolder("cancelflow-crash") { folder in
            let port = try freePort()
            var server = try await startServe(in: folder, port: port)
            let (app, key) = try await firstStartCredentials(server)
            let auth = ["x-ck-app": app, "x-ck-api-key": key, "Content-Type": "application/json"]
            #expect(await rawHTTP(port: port, "PUT", "/v1/customers/cus_1", headers: auth, body: #"{"name":"Ada"}"#)?.status == 200)
            let expires = ISO8601DateFormatter().string(from: Date().addingTimeInterval(86400))

            let ledger = Ledger()
            for round in 1...3 {
                // Mints and exchanges from eight clients until the server dies under them.
                ledger.alive.store(true, ordering: .relaxed)
                let minted = ledger.minted.withLock { $0 }
                let current = server
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in 0..<8 {
                        group.addTask {
                            var index = client
                            while ledger.alive.load(ordering: .relaxed) {
                                if client < 6 || minted.isEmpty {
                                    let reply = await rawHTTP(
                                        port: port, "POST", "/v1/cancel-sessions", headers: auth,
                                        body: #"{"customerId":"cus_1","expiresAt":"\#(expires)"}"#)
                                    guard let reply else {
                                        // The server is down (or restarting): yield, so this loop
                                        // never holds a cooperative thread the killer needs.
                                        try? await Task.sleep(for: .milliseconds(10))
                                        continue
                                    }
                                    if reply.status == 201, let token = Self.json(reply.body)["token"] as? String {
                                        ledger.minted.withLock { $0.append(token) }
                                    }
                                } else {
                                    // Exchanges of links minted in earlier rounds.
                                    let token = minted[index % minted.count]
                                    index += 2
                                    switch await Self.exchange(port: port, token: token) {
                                    case 303: ledger.exchanged.withLock { $0.append(token) }
                                    case nil: try? await Task.sleep(for: .milliseconds(10))
                                    default: break
                                    }
                                }
                            }
                        }
                    }
                    group.addTask {
                        // Killed mid-load once the round has done real work, whatever the machine's
                        // speed: 40 more mints answered and, from the second round on, 5 exchanges.
                        let mintsBefore = ledger.minted.withLock { $0.count }
                        let exchangesBefore = ledger.exchanged.withLock { $0.count }
                        try await waitUntil("round \(round) has done its work", timeout: .seconds(120), interval: .milliseconds(20)) {
                            ledger.minted.withLock { $0.count } - mintsBefore >= 40
                                && (round == 1 || ledger.exchanged.withLock { $0.count } - exchangesBefore >= 5)
                        }
                        current.send(SIGKILL)
                        _ = await current.waitForExit(timeout: .seconds(10))
                        ledger.alive.store(false, ordering: .relaxed)
                    }
                    try await group.waitForAll()
                }
                #expect(server.exit?.signalled == true, "round \(round): killed, not stopped")
                server = try await startServe(in: folder, port: port)
            }
            defer { server.killNow() }

            let tokens = ledger.minted.withLock { $0 }
            let once = ledger.exchanged.withLock { $0 }
            print("Crash test: \(tokens.count) mints and \(once.count) exchanges answered over three SIGKILLs")
            #expect(tokens.count >= 120, "three rounds of at least 40 mints answered")
            #expect(once.count >= 10, "two rounds of at least 5 exchanges answered")
            #expect(Set(once).count == once.count, "no exchange was answered twice for one link")
            for token in once {
                #expect(await Self.exchange(port: port, token: token) == 410, "an exchanged single-use link stays used")
            }
            let stopped = await server.stop(signal: SIGTERM, grace: .seconds(30))
            #expect(!stopped.killed)

            // Then the database itself, opened as a restored server would: every answered mint is
            // there (an exchange that committed just before a kill, unanswered, leaves its link
            // consumed, not gone), and no link was exchanged twice.
            let pool = try await SQLiteDatabasePool.open(
                path: folder.appendingPathComponent("cancelflow.sqlite").path,
                logger: Logger(label: "check", factory: { _ in SwiftLogNoOpLogHandler() })
            )
            let store = SQLStore(pool: pool)
            var missing = 0
            for token in tokens where try await store.link(tokenHash: independentSHA256(token)) == nil {
                missing += 1
            }
            let twice = try await pool.read { db in
                try await db.raw("SELECT link_id FROM link_exchanges GROUP BY link_id HAVING COUNT(*) > 1").all().count
            }
            try await pool.shutdown()
            #expect(missing == 0, "every link answered 201 survived the kills")
            #expect(twice == 0, "no single-use link was exchanged twice")
        }
    }
}
