extension Migration {
    /// Email verification: one code per address and organization mode (the code, the address and
    /// the browser's key only as hashes), and the rate-limit counters every instance shares.
    static let emailVerification = Migration(name: "0004_email_verification") { _ in
        [
            """
            CREATE TABLE email_verifications (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations (id),
                mode TEXT NOT NULL,
                address_hash TEXT NOT NULL,
                browser_hash TEXT NOT NULL UNIQUE,
                customer_id TEXT,
                code_hash TEXT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                used_at BIGINT,
                UNIQUE (organization_id, mode, address_hash)
            )
            """,
            "CREATE INDEX email_verifications_by_expiry ON email_verifications (expires_at)",
            """
            CREATE TABLE rate_limit_counters (
                bucket TEXT NOT NULL,
                window_start BIGINT NOT NULL,
                hits BIGINT NOT NULL,
                PRIMARY KEY (bucket, window_start)
            )
            """,
            "CREATE INDEX rate_limit_counters_by_window ON rate_limit_counters (window_start)",
        ]
    }
}
