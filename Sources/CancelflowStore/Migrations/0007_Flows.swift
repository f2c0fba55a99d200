extension Migration {
    /// Flows as documents (issue 16): an organization's flows in the order they are tried, the
    /// draft being edited and every published version (kept so that a session can say which
    /// version it ran and an earlier one can be restored); what targeting reads on links and
    /// subscriptions; and what a session records of the flow it ran.
    ///
    /// Some columns are written by the parts of issue 16 still to come, added in this one step
    /// so that the schema moves once: a link's `attributes` and `locale`, a subscription's
    /// provider plan id and start date, a session's `locale`, an organization's default locale
    /// and click-to-cancel setting.
    ///
    /// `default_for` holds the organization's id on its default flow and NULL elsewhere: a
    /// unique column (NULLs never collide, on either engine) so that two instances creating an
    /// organization's default flow at once end up with one.
    static let flows = Migration(name: "0007_flows") { _ in
        [
            """
            CREATE TABLE flows (
                id TEXT PRIMARY KEY,
                organization_id TEXT NOT NULL REFERENCES organizations (id),
                default_for TEXT UNIQUE REFERENCES organizations (id),
                position BIGINT NOT NULL,
                draft TEXT,
                draft_updated_at BIGINT,
                published_version BIGINT,
                archived_at BIGINT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX flows_organization ON flows (organization_id, position)",
            """
            CREATE TABLE flow_versions (
                flow_id TEXT NOT NULL REFERENCES flows (id),
                version BIGINT NOT NULL,
                document TEXT NOT NULL,
                published_at BIGINT NOT NULL,
                published_by TEXT,
                PRIMARY KEY (flow_id, version)
            )
            """,
            "ALTER TABLE cancel_links ADD COLUMN attributes TEXT",
            "ALTER TABLE cancel_links ADD COLUMN locale TEXT",
            "ALTER TABLE subscriptions ADD COLUMN plan_id TEXT",
            "ALTER TABLE subscriptions ADD COLUMN started_at BIGINT",
            "ALTER TABLE flow_sessions ADD COLUMN flow_id TEXT",
            "ALTER TABLE flow_sessions ADD COLUMN flow_version BIGINT",
            "ALTER TABLE flow_sessions ADD COLUMN variant TEXT",
            "ALTER TABLE flow_sessions ADD COLUMN locale TEXT",
            "ALTER TABLE flow_sessions ADD COLUMN reason_id TEXT",
            "ALTER TABLE flow_sessions ADD COLUMN offer_id TEXT",
            // Cooldowns read what a customer accepted lately.
            "CREATE INDEX flow_sessions_by_customer ON flow_sessions (organization_id, mode, customer_id, outcome_at)",
            "ALTER TABLE flow_settings ADD COLUMN default_locale TEXT",
            "ALTER TABLE flow_settings ADD COLUMN click_to_cancel BOOLEAN",
        ]
    }
}
