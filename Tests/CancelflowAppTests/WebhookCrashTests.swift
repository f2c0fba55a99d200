import AsyncHTTPClient
import CancelflowApp
import CancelflowCore
import CancelflowTestSupport
import Configuration
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A worker process killed mid-delivery: its claim comes back after the lease and another
/// worker delivers the event (at least once, with the same webhook-id).
@Suite struct WebhookCrashTests {
    @Test(arguments: TestEngine.allCases)
    func aKilledWorkersClaimIsTakenOverAfterItsLease(engine: TestEngine) async throws {
        try await WebhookReceiver.withReceiver { receiver in
            try await withTestApp(engine, configuration: WebhookTests.config) { client, ctx in
                ctx.time.set(Date())
                try await ctx.seedCustomer()
                _ = try await WebhookTests.addEndpoint(client, ctx, url: receiver.url, events: ["cancel_link.created"])
                _ = try await client.mint(ctx)
                receiver.answer(.slow(seconds: 30))
                let database: String =
                    switch ctx.location {
                    case .sqlite(let path): "sqlite:\(path)"
                    case .postgres(let url): url
                    }
                let worker = try ChildProcess(
                    cancelflowBinary(),
                    [
                        "worker", "--database", database, "--secret", ctx.services.configuration.secret!, "--allow-private-webhooks",
                        // Long enough that a loaded machine cannot let it run out before the first check.
                        "--webhook-lease", "30",
                    ], captureOutput: false)
                defer { worker.killNow() }
                // Wait until the child's request reaches the receiver, then kill it mid-delivery.
                try await waitUntil("the worker's request reaches the receiver", timeout: .seconds(10), interval: .milliseconds(50)) {
                    !receiver.requests.isEmpty
                }
                try #require(receiver.requests.count == 1)
                let killed = await worker.stop(signal: SIGKILL, grace: .seconds(10))
                #expect(killed.signalled && killed.status == SIGKILL)

                receiver.answer(.status(200))
                let survivor = WebhookWorker(services: ctx.services, logger: WebhookTests.quiet, id: "wk_survivor")
                let http = WebhookWorker.makeClient()
                ctx.time.set(Date())
                #expect(try await survivor.runOnce(client: http) == 0, "the dead worker's lease still holds")
                ctx.time.set(Date().addingTimeInterval(31))
                #expect(try await survivor.runOnce(client: http) == 1, "the lease ran out; the claim is taken over")
                try await http.shutdown()
                let ids = receiver.requests.map { $0.headers["Webhook-Id"] ?? $0.headers["webhook-id"] ?? "missing" }
                #expect(ids.count == 2)
                #expect(Set(ids).count == 1, "the same event, the same webhook-id")
            }
        }
    }
}
