extension Migration {
    /// Webhooks: endpoints (secrets sealed under the server secret), the event outbox, deliveries
    /// with a lease for the workers that claim them, and every attempt.
    static let webhooks = Migration(name: "0003_webhooks") { _ in
        [
            """
            CREATE TABLE webhook_endpoints (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations (id),
                mode TEXT NOT NULL,
                url TEXT NOT NULL,
                events TEXT NOT NULL,
                description TEXT,
                sealed_secret TEXT NOT NULL,
                sealed_previous_secret TEXT,
                previous_secret_expires_at BIGINT,
                disabled_at BIGINT,
                deleted_at BIGINT,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX webhook_endpoints_by_org ON webhook_endpoints (organization_id, mode)",
            """
            CREATE TABLE events (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL,
                mode TEXT NOT NULL,
                type TEXT NOT NULL,
                payload TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX events_newest ON events (organization_id, mode, created_at DESC, id DESC)",
            """
            CREATE TABLE webhook_deliveries (
                id TEXT PRIMARY KEY,
                event_id TEXT NOT NULL REFERENCES events (id),
                endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id),
                status TEXT NOT NULL,
                attempt_count BIGINT NOT NULL DEFAULT 0,
                next_attempt_at BIGINT,
                locked_by TEXT,
                locked_until BIGINT,
                created_at BIGINT NOT NULL,
                completed_at BIGINT
            )
            """,
            "CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'",
            "CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries (event_id)",
            """
            CREATE TABLE webhook_attempts (
                id TEXT PRIMARY KEY,
                delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id),
                attempted_at BIGINT NOT NULL,
                status_code BIGINT,
                latency_ms BIGINT NOT NULL,
                response_excerpt TEXT,
                error TEXT
            )
            """,
            "CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (delivery_id, attempted_at)",
        ]
    }
}
