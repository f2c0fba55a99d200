import Foundation
import Logging

/// The audit log as pages and the command line read and write it.
public struct AuditService: Sendable {
    let store: any AuditStore
    let time: any TimeSource
    let logger: Logger

    public init(store: any AuditStore, time: any TimeSource, logger: Logger = Logger(label: "cancelflow.audit")) {
        self.store = store
        self.time = time
        self.logger = logger
    }

    /// Records an action that has happened. Secrets never go in `detail`. The action is done by
    /// then, so a failure to record it is logged rather than thrown: the person still sees what
    /// it made (a key, a link's URL, shown only once) instead of an error page that hides it.
    public func record(
        organizationID: String, mode: Mode?, actor: AuditActor, action: String, targetType: String? = nil, targetID: String? = nil,
        detail: [String: String] = [:]
    ) async {
        do {
            try await self.store.appendAudit(
                AuditEntry(
                    organizationID: organizationID, mode: mode, actorUserID: actor.userID, actorLabel: actor.label, action: action,
                    targetType: targetType, targetID: targetID, detail: detail, createdAt: self.time.now()))
        } catch {
            self.logger.error(
                "Could not write an audit entry",
                metadata: [
                    "organization_id": .string(organizationID), "action": .string(action), "error": .string(String(describing: type(of: error))),
                ])
        }
    }

    public func entries(organizationID: String, filter: AuditFilter, limit: Int, before: String?) async throws -> [AuditEntry] {
        try await self.store.auditEntries(organizationID: organizationID, filter: filter, limit: min(max(limit, 1), 200), before: before)
    }
}
