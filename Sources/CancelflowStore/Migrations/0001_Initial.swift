extension Migration {
    /// Organizations, credentials, built-in billing data, Cancel Links and idempotency keys.
    ///
    /// Timestamps are BIGINT milliseconds since 1970 on both engines; secrets (API keys, tokens)
    /// appear only as SHA-256 hex.
    static let initial = Migration(name: "0001_initial") { _ in
        [
            """
            CREATE TABLE organizations (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                subdomain TEXT UNIQUE,
                custom_domain TEXT UNIQUE,
                custom_domain_verified BOOLEAN NOT NULL DEFAULT FALSE,
                billing_provider TEXT NOT NULL,
                session_link_expiration_seconds BIGINT NOT NULL,
                return_url_allowlist TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE app_credentials (
                app_id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations (id),
                mode TEXT NOT NULL,
                UNIQUE (organization_id, mode)
            )
            """,
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                app_id TEXT NOT NULL REFERENCES app_credentials (app_id),
                key_hash TEXT NOT NULL UNIQUE,
                key_hint TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT
            )
            """,
            "CREATE INDEX api_keys_by_app ON api_keys (app_id)",
            """
            CREATE TABLE customers (
                organization_id TEXT NOT NULL REFERENCES organizations (id),
                mode TEXT NOT NULL,
                id TEXT NOT NULL,
                email TEXT,
                name TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (organization_id, mode, id)
            )
            """,
            "CREATE INDEX customers_by_email ON customers (organization_id, mode, email)",
            """
            CREATE TABLE subscriptions (
                organization_id TEXT NOT NULL,
                mode TEXT NOT NULL,
                id TEXT NOT NULL,
                customer_id TEXT NOT NULL,
                status TEXT NOT NULL,
                plan_name TEXT,
                amount BIGINT,
                currency TEXT,
                billing_interval TEXT,
                current_period_end BIGINT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (organization_id, mode, id),
                FOREIGN KEY (organization_id, mode, customer_id) REFERENCES customers (organization_id, mode, id)
            )
            """,
            "CREATE INDEX subscriptions_by_customer ON subscriptions (organization_id, mode, customer_id)",
            """
            CREATE TABLE cancel_links (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations (id),
                mode TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                customer_id TEXT NOT NULL,
                subscription_id TEXT,
                single_use BOOLEAN NOT NULL,
                status TEXT NOT NULL,
                expires_at BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                consumed_at BIGINT,
                revoked_at BIGINT,
                return_url TEXT,
                metadata TEXT NOT NULL,
                exchange_count BIGINT NOT NULL DEFAULT 0
            )
            """,
            "CREATE INDEX cancel_links_newest ON cancel_links (organization_id, mode, created_at DESC, id DESC)",
            "CREATE INDEX cancel_links_by_customer ON cancel_links (organization_id, mode, customer_id, created_at DESC, id DESC)",
            """
            CREATE TABLE idempotency_keys (
                organization_id TEXT NOT NULL,
                mode TEXT NOT NULL,
                idempotency_key TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                response_status BIGINT,
                response_body TEXT,
                PRIMARY KEY (organization_id, mode, idempotency_key)
            )
            """,
            "CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at)",
        ]
    }
}
