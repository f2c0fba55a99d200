// A "Cancel subscription" backend in Swift: a tiny Hummingbird app that mints Cancel Links with
// the Cancelflow SDK (the CancelflowClient library). From the repository's root:
//
//     CANCELFLOW_APP_ID=app_test_… CANCELFLOW_API_KEY=ck_test_… swift run cancel-link-example
import CancelflowClient
import Foundation
import Hummingbird

@main
struct CancelLinkExample {
    static func main() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let appID = environment["CANCELFLOW_APP_ID"], let apiKey = environment["CANCELFLOW_API_KEY"] else {
            FileHandle.standardError.write(
                Data("Set CANCELFLOW_APP_ID and CANCELFLOW_API_KEY (the first `cancelflow serve` prints the test ones).\n".utf8))
            exit(1)
        }
        let port = Int(environment["PORT"] ?? "") ?? 3000
        // The API key stays on this server: the browser only ever talks to us.
        let backend = Backend(
            cancelflow: Cancelflow(
                baseURL: URL(string: environment["CANCELFLOW_BASE_URL"] ?? "http://127.0.0.1:8080")!, appID: appID, apiKey: apiKey),
            environment: environment)

        let router = Router()
        router.get("/") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: Backend.page)))
        }
        // A real app also checks its session and CSRF token on the two POSTs.
        router.post("cancel-subscription") { request, _ -> Response in
            do {
                let url = try await backend.mintCancelLink(for: request)
                // no-store: the url is a credential; no cache should keep a copy.
                return Response(status: .found, headers: [.location: url, .cacheControl: "no-store"])
            } catch {
                return Backend.failure(error)
            }
        }
        router.post("api/cancel-link") { request, _ -> Response in
            do {
                let url = try await backend.mintCancelLink(for: request)
                let body = try JSONEncoder().encode(["url": url])
                return Response(
                    status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                    body: .init(byteBuffer: ByteBuffer(bytes: body)))
            } catch {
                return Backend.failure(error)
            }
        }
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { _ in FileHandle.standardOutput.write(Data("listening on http://127.0.0.1:\(port)\n".utf8)) })
        try await app.runService()
    }
}

struct Backend: Sendable {
    let cancelflow: Cancelflow
    let environment: [String: String]

    /// A real app takes these from its session (the logged-in user), never from the request, so
    /// nobody can mint a link for someone else's subscription.
    func currentUser(_ request: Request) -> (customerId: String, subscriptionId: String) {
        (self.environment["EXAMPLE_CUSTOMER_ID"] ?? "cus_abc123", self.environment["EXAMPLE_SUBSCRIPTION_ID"] ?? "sub_xyz789")
    }

    /// Mints a link valid for an hour: the customer is about to be redirected to it. The SDK
    /// gives the request an idempotency key and retries a dropped connection with it, so one
    /// click never mints two links.
    func mintCancelLink(for request: Request) async throws -> String {
        let user = self.currentUser(request)
        let link = try await self.cancelflow.createCancelLink(
            customerId: user.customerId, subscriptionId: user.subscriptionId, expiresIn: .seconds(3600))
        // Log who, never the url or token: the link works for whoever holds it.
        FileHandle.standardError.write(Data("minted a cancel link for \(user.customerId)\n".utf8))
        return link.url ?? ""
    }

    /// The API's error, as a 502 that names its code (never the key).
    static func failure(_ error: any Error) -> Response {
        let text = (error as? CancelflowAPIError).map { "\($0.code): \($0.message)" } ?? "could not reach Cancelflow"
        FileHandle.standardError.write(Data("cancel link failed: \(text)\n".utf8))
        return Response(
            status: .badGateway, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: "Could not start cancellation: \(text)\n")))
    }

    static let page = """
        <!doctype html>
        <html lang="en"><meta charset="utf-8"><title>Your account</title>
        <h1>Your subscription</h1>
        <!-- Server-side redirect: a plain form; the server answers 302 to the Cancel Link. -->
        <form method="post" action="/cancel-subscription"><button type="submit">Cancel subscription</button></form>
        <!-- Client-side redirect, as a single-page app does it. -->
        <p><button type="button" id="cancel-spa">Cancel subscription (client-side)</button></p>
        <script>
        document.getElementById('cancel-spa').addEventListener('click', async () => {
          const response = await fetch('/api/cancel-link', { method: 'POST' });
          if (!response.ok) return alert(await response.text());
          const { url } = await response.json();
          window.location.href = url;
        });
        </script>
        </html>
        """
}
