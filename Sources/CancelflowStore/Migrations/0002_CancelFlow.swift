extension Migration {
    /// The hosted cancel flow: per-organization flow settings, flow sessions (the browser's key is
    /// stored hashed), a record of every link exchange, and the subscription fields the flow sets.
    static let cancelFlow = Migration(name: "0002_cancel_flow") { _ in
        [
            """
            CREATE TABLE flow_settings (
                organization_id TEXT PRIMARY KEY REFERENCES organizations (id),
                survey_reasons TEXT NOT NULL,
                offer TEXT NOT NULL,
                cancel_timing TEXT NOT NULL,
                brand_color TEXT NOT NULL,
                logo_url TEXT,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE flow_sessions (
                id TEXT PRIMARY KEY,
                session_hash TEXT NOT NULL UNIQUE,
                link_id TEXT REFERENCES cancel_links (id),
                organization_id TEXT NOT NULL REFERENCES organizations (id),
                mode TEXT NOT NULL,
                customer_id TEXT NOT NULL,
                subscription_id TEXT,
                survey_reason TEXT,
                survey_comment TEXT,
                offer_declined BOOLEAN NOT NULL DEFAULT FALSE,
                outcome TEXT,
                outcome_at BIGINT,
                entry TEXT NOT NULL,
                return_url TEXT,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX flow_sessions_undecided ON flow_sessions (expires_at) WHERE outcome IS NULL",
            "CREATE INDEX flow_sessions_by_link ON flow_sessions (link_id)",
            """
            CREATE TABLE link_exchanges (
                id TEXT PRIMARY KEY,
                link_id TEXT NOT NULL REFERENCES cancel_links (id),
                flow_session_id TEXT NOT NULL REFERENCES flow_sessions (id),
                exchanged_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX link_exchanges_by_link ON link_exchanges (link_id)",
            "ALTER TABLE subscriptions ADD COLUMN cancel_at_period_end BOOLEAN NOT NULL DEFAULT FALSE",
            "ALTER TABLE subscriptions ADD COLUMN canceled_at BIGINT",
            "ALTER TABLE subscriptions ADD COLUMN pause_resumes_at BIGINT",
            "ALTER TABLE subscriptions ADD COLUMN discount_percent BIGINT",
            "ALTER TABLE subscriptions ADD COLUMN discount_ends_at BIGINT",
        ]
    }
}
