import CancelflowStore
import Hummingbird

/// `/healthz` (the process is up) and `/readyz` (it can reach its database).
struct HealthController: Sendable {
    let pool: any DatabasePool

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("healthz") { _, _ in
            JSONBody.response(bytes: Array(#"{"status":"ok"}"#.utf8), status: .ok)
        }
        router.get("readyz") { _, context in
            do {
                try await self.pool.withConnection { db in try await db.raw("SELECT 1").run() }
                return JSONBody.response(bytes: Array(#"{"status":"ready"}"#.utf8), status: .ok)
            } catch {
                context.logger.warning("Readiness check failed", metadata: ["error": .string(String(describing: type(of: error)))])
                return JSONBody.response(bytes: Array(#"{"status":"unavailable"}"#.utf8), status: .serviceUnavailable)
            }
        }
    }
}
