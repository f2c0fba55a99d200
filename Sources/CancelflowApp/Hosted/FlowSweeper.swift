import CancelflowCore
import Logging
import ServiceLifecycle

/// Marks cancel flows that ran out without a decision as `abandoned`, and deletes what has
/// expired (idempotency keys, verification codes, old rate-limit counters; `RetentionService`),
/// once a minute, until graceful shutdown. Every instance may run one: the update is conditional, so two sweepers
/// never mark a session twice.
struct FlowSweeper: Service {
    let flow: FlowService
    let retention: RetentionService
    let metrics: AppMetrics
    let logger: Logger

    init(services: AppServices, logger: Logger) {
        self.flow = services.flow
        self.retention = services.retention
        self.metrics = services.metrics
        self.logger = logger
    }

    var interval: Duration = .seconds(60)

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                let count = try await self.flow.abandonExpired()
                if count > 0 {
                    self.logger.info("Abandoned expired cancel flows", metadata: ["count": .stringConvertible(count)])
                    self.metrics.flowOutcome("abandoned", count: count)
                }
            } catch {
                self.logger.error("Sweeping expired cancel flows failed", metadata: ["error": .string(String(describing: error))])
            }
            do {
                let more = try await self.retention.sweep()
                if !more.isEmpty {
                    self.logger.notice(
                        "Expired records left for the next sweep", metadata: ["tables": .string(more.map(\.rawValue).joined(separator: ","))])
                }
            } catch {
                self.logger.error("Deleting expired records failed", metadata: ["error": .string(String(describing: error))])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }
}
