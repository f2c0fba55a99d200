extension Migration {
    /// Confirmation emails owed to customers whose subscription a flow changed: written with the
    /// outcome, sent afterwards, each try recorded (issue 16).
    static let confirmations = Migration(name: "0008_confirmations") { _ in
        [
            """
            CREATE TABLE flow_confirmations (
                flow_session_id TEXT PRIMARY KEY REFERENCES flow_sessions (id),
                organization_id TEXT NOT NULL REFERENCES organizations (id),
                mode TEXT NOT NULL,
                to_address TEXT NOT NULL,
                reference TEXT NOT NULL,
                outcome TEXT NOT NULL,
                customer_name TEXT,
                plan_name TEXT,
                effective_at BIGINT NOT NULL,
                ends_at BIGINT,
                percent BIGINT,
                months BIGINT,
                locale TEXT,
                status TEXT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0,
                last_error TEXT,
                next_attempt_at BIGINT,
                locked_until BIGINT,
                sent_at BIGINT,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX flow_confirmations_due ON flow_confirmations (next_attempt_at) WHERE status = 'pending'",
        ]
    }
}
