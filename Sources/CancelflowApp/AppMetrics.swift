import CancelflowCore
import CancelflowStore
import Foundation
import Metrics
import Prometheus
import Synchronization

/// The service's metrics, recorded through swift-metrics' types and exported in Prometheus'
/// text format by swift-prometheus.
///
/// Each `AppServices` has its own registry, handed to swift-metrics as an explicit factory
/// rather than through the process-wide `MetricsSystem.bootstrap` (which may run only once per
/// process, while the tests run many apps in one). Labels are only ever route templates, modes,
/// outcomes and results: never a raw path (tokens live in paths), an id, an address or a key.
public final class AppMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    /// The pool's totals at the last scrape: the counters grow by the difference.
    private let lastWaits = Mutex(SessionWaits(sessions: 0, waitedNanoseconds: 0))
    /// Every request's counter and timer, made once per method, route and status: making them
    /// asks the registry (a lock, a lookup by name and labels) and allocates the label array,
    /// which cost as much per request as the rest of the metrics. The set is as bounded as the
    /// registry's own: route templates, not paths.
    private let requestMetrics = Mutex<[RequestKey: (counter: CoreMetrics.Counter, timer: CoreMetrics.Timer)]>([:])

    struct RequestKey: Hashable {
        let method: String
        let route: String
        let status: Int
    }

    public init() {
        self.registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: self.registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        self.factory = factory
    }

    /// One HTTP request: its route template (`/v1/cancel-sessions/{id}`, or `unmatched`).
    func request(method: String, route: String, status: Int, duration: Duration) {
        let key = RequestKey(method: method, route: route, status: status)
        let metrics = self.requestMetrics.withLock { cache in
            if let made = cache[key] { return made }
            let made = (
                counter: Counter(
                    label: "cancelflow_http_requests_total", dimensions: [("method", method), ("route", route), ("status", String(status))],
                    factory: self.factory),
                timer: Timer(
                    label: "cancelflow_http_request_duration_seconds", dimensions: [("method", method), ("route", route)], factory: self.factory)
            )
            cache[key] = made
            return made
        }
        metrics.counter.increment()
        metrics.timer.record(duration: duration)
    }

    /// A Cancel Link was minted (through the API).
    func minted(_ mode: Mode) {
        Counter(label: "cancelflow_links_minted_total", dimensions: [("mode", mode.rawValue)], factory: self.factory).increment()
    }

    /// A Cancel Link was exchanged for a flow session.
    func exchanged(_ mode: Mode) {
        Counter(label: "cancelflow_links_exchanged_total", dimensions: [("mode", mode.rawValue)], factory: self.factory).increment()
    }

    /// A cancel flow ended.
    func flowOutcome(_ outcome: String, count: Int = 1) {
        Counter(label: "cancelflow_flow_outcomes_total", dimensions: [("outcome", outcome)], factory: self.factory).increment(by: count)
    }

    /// A verification email: `sent`, `failed` (the mail server refused or was down) or
    /// `refused` (a rate limit stopped the request before any email).
    func verificationEmail(_ result: String) {
        Counter(label: "cancelflow_verification_emails_total", dimensions: [("result", result)], factory: self.factory).increment()
    }

    /// A webhook delivery attempt: `succeeded`, `retry`, `failed` or `gone`.
    func webhookAttempt(_ result: String) {
        Counter(label: "cancelflow_webhook_attempts_total", dimensions: [("result", result)], factory: self.factory).increment()
    }

    /// One HTTP exchange with a billing provider (see `ProviderCallObserver` for the results).
    func billingCall(provider: BillingProviderKind, result: String, duration: Duration) {
        let dimensions = [("provider", provider.rawValue), ("result", result)]
        Counter(label: "cancelflow_billing_calls_total", dimensions: dimensions, factory: self.factory).increment()
        Timer(label: "cancelflow_billing_call_duration_seconds", dimensions: [("provider", provider.rawValue)], factory: self.factory)
            .record(duration: duration)
    }

    /// The exposition text, with the gauges read now: the webhook queue and the database
    /// sessions' waits.
    func render(pendingDeliveries: Int, pool: any DatabasePool) -> String {
        Gauge(label: "cancelflow_webhook_pending_deliveries", factory: self.factory).record(pendingDeliveries)
        let now = pool.sessionWaits
        let last = self.lastWaits.withLock { last in
            defer { last = now }
            return last
        }
        let engine = [("engine", pool.engine.rawValue)]
        Counter(label: "cancelflow_database_sessions_total", dimensions: engine, factory: self.factory)
            .increment(by: max(0, now.sessions - last.sessions))
        FloatingPointCounter(label: "cancelflow_database_session_wait_seconds_total", dimensions: engine, factory: self.factory)
            .increment(by: Double(max(0, now.waitedNanoseconds - last.waitedNanoseconds)) / 1e9)
        return self.registry.emitToString()
    }
}
