import CancelflowCore
import Logging
import ServiceLifecycle

/// Marks cancel flows that ran out without a decision as `abandoned`, once a minute, until
/// graceful shutdown. Every instance may run one: the update is conditional, so two sweepers
/// never mark a session twice.
struct FlowSweeper: Service {
    let flow: FlowService
    let logger: Logger
    var interval: Duration = .seconds(60)

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                let count = try await self.flow.abandonExpired()
                if count > 0 { self.logger.info("Abandoned expired cancel flows", metadata: ["count": .stringConvertible(count)]) }
            } catch {
                self.logger.error("Sweeping expired cancel flows failed", metadata: ["error": .string(String(describing: error))])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
    }
}
