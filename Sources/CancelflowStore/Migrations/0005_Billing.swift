extension Migration {
    /// Billing providers: which provider each organization mode uses (its API key sealed under
    /// the server secret), and each flow session's call to its provider, at most one per session.
    static let billing = Migration(name: "0005_billing") { _ in
        [
            """
            CREATE TABLE billing_accounts (
                organization_id TEXT NOT NULL REFERENCES organizations (id),
                mode TEXT NOT NULL,
                provider TEXT NOT NULL,
                sealed_key TEXT,
                key_hint TEXT,
                api_base TEXT,
                pause_behavior TEXT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (organization_id, mode)
            )
            """,
            """
            CREATE TABLE billing_actions (
                flow_session_id TEXT PRIMARY KEY REFERENCES flow_sessions (id),
                organization_id TEXT NOT NULL,
                mode TEXT NOT NULL,
                provider TEXT NOT NULL,
                subscription_id TEXT NOT NULL,
                action TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts BIGINT NOT NULL,
                last_error TEXT,
                claimed_until BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
        ]
    }
}
