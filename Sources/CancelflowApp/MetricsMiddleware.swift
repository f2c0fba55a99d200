import CancelflowCore
import CancelflowStore
import Hummingbird
import Logging

/// Counts every request and times it, labelled by the route template the router matched
/// (`/cancel/{token}`, never the path itself: tokens live in paths) or `unmatched`.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: AppMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            self.record(request, context, status: response.status.code, start)
            return response
        } catch {
            self.record(request, context, status: (error as? any HTTPResponseError)?.status.code ?? 500, start)
            throw error
        }
    }

    func record(_ request: Request, _ context: Context, status: Int, _ start: ContinuousClock.Instant) {
        // Set by the router once a route matched (Hummingbird says "NotFound" for an unknown
        // path); a request refused before routing has none.
        let route = context.endpointPath.flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "unmatched"
        self.metrics.request(method: request.method.rawValue, route: route, status: status, duration: ContinuousClock.now - start)
    }
}

/// `GET /metrics`: the Prometheus text format.
struct MetricsController {
    let metrics: AppMetrics
    /// Read at scrape time for the pending-deliveries gauge.
    let webhooks: WebhookService
    /// Read at scrape time for the database-session counters.
    let pool: any DatabasePool

    init(services: AppServices) {
        self.metrics = services.metrics
        self.webhooks = services.webhooks
        self.pool = services.pool
    }

    func addRoutes(to router: Router<some RequestContext>) {
        router.get("metrics") { _, _ -> Response in
            let pending = try await self.webhooks.pendingDeliveryCount()
            let text = self.metrics.render(pendingDeliveries: pending, pool: self.pool)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: text))
            )
        }
    }
}

/// The metrics on a listener of their own (`--metrics-address`), so that they need not be
/// reachable where customers and merchants' backends are.
func metricsApplication(services: AppServices, host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
    let router = Router()
    MetricsController(services: services).addRoutes(to: router)
    return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "cancelflow-metrics"), logger: logger)
}
