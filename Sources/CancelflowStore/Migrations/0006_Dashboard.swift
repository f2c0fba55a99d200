extension Migration {
    /// The dashboard: its accounts (one organization each, an address unique across the
    /// service), their sessions and set-up links (stored as hashes only), the audit log, and who
    /// minted each Cancel Link from the dashboard.
    static let dashboard = Migration(name: "0006_dashboard") { _ in
        [
            """
            CREATE TABLE dashboard_users (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations (id),
                email TEXT NOT NULL UNIQUE,
                name TEXT,
                role TEXT NOT NULL,
                password_hash TEXT,
                totp_sealed TEXT,
                totp_last_step BIGINT,
                disabled_at BIGINT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX dashboard_users_organization ON dashboard_users (organization_id)",
            """
            CREATE TABLE dashboard_sessions (
                id TEXT PRIMARY KEY,
                key_hash TEXT NOT NULL UNIQUE,
                user_id TEXT NOT NULL REFERENCES dashboard_users (id),
                stage TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                last_seen_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX dashboard_sessions_user ON dashboard_sessions (user_id)",
            "CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at)",
            """
            CREATE TABLE dashboard_setup_links (
                token_hash TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations (id),
                user_id TEXT REFERENCES dashboard_users (id),
                email TEXT,
                role TEXT NOT NULL,
                purpose TEXT NOT NULL,
                clears_totp BOOLEAN NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                used_at BIGINT
            )
            """,
            "CREATE INDEX dashboard_setup_links_expiry ON dashboard_setup_links (expires_at)",
            """
            CREATE TABLE audit_log (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations (id),
                mode TEXT,
                actor_user_id TEXT,
                actor_label TEXT NOT NULL,
                action TEXT NOT NULL,
                target_type TEXT,
                target_id TEXT,
                detail TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX audit_log_organization_time ON audit_log (organization_id, created_at, id)",
            "ALTER TABLE cancel_links ADD COLUMN minted_by_user_id TEXT",
            // The outcomes overview reads sessions by organization, mode and period.
            "CREATE INDEX flow_sessions_organization_time ON flow_sessions (organization_id, mode, created_at)",
        ]
    }
}
