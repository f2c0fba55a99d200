import CancelflowCore
import Foundation
import SQLKit

extension SQLStore: FlowStore {
    public func flowSettings(organizationID: String) async throws -> FlowSettings {
        try await self.pool.read { db in
            guard let row = try await db.raw("SELECT * FROM flow_settings WHERE organization_id = \(bind: organizationID)").first() else {
                return .defaults
            }
            return try Self.decodeFlowSettings(row)
        }
    }

    public func setFlowSettings(organizationID: String, _ settings: FlowSettings, now: Date) async throws {
        defer { self.flowLists.invalidate() }
        try await self.pool.transaction { db in
            try await Self.writeFlowSettings(organizationID: organizationID, settings, now: now, db: db)
        }
    }

    static func writeFlowSettings(organizationID: String, _ settings: FlowSettings, now: Date, db: any SQLDatabase) async throws {
        let reasons = try JSONCoding.encode(settings.surveyReasons)
        let previous =
            try await db.raw("SELECT * FROM flow_settings WHERE organization_id = \(bind: organizationID)").first().map(Self.decodeFlowSettings)
            ?? .defaults
        try await db.raw(
            """
            INSERT INTO flow_settings (organization_id, survey_reasons, offer, cancel_timing, brand_color, logo_url, default_locale,
                click_to_cancel, texts, updated_at)
            VALUES (\(bind: organizationID), \(bind: reasons), \(bind: settings.offer.text), \(bind: settings.cancelTiming.rawValue),
                \(bind: settings.brandColor), \(bind: settings.logoURL), \(bind: settings.defaultLocale), \(bind: settings.clickToCancel),
                \(bind: settings.texts.isEmpty ? nil : try JSONCoding.encode(settings.texts)), \(bind: Millis.from(now)))
            ON CONFLICT (organization_id) DO UPDATE SET
                survey_reasons = excluded.survey_reasons, offer = excluded.offer, cancel_timing = excluded.cancel_timing,
                brand_color = excluded.brand_color, logo_url = excluded.logo_url, default_locale = excluded.default_locale,
                click_to_cancel = excluded.click_to_cancel, texts = excluded.texts, updated_at = excluded.updated_at
            """
        ).run()
        // Only a change to what the default flow is made of publishes it: saving the form for
        // the name or the brand colour must not undo what was published through /v1/flows.
        if previous.surveyReasons != settings.surveyReasons || previous.offer != settings.offer
            || previous.cancelTiming != settings.cancelTiming
        {
            try await Self.publishLegacyDefault(organizationID: organizationID, settings, now: now, db: db)
        }
    }

    /// The settings' survey, offer and timing are the default flow's: a change to them (from
    /// `orgs configure-flow` or the dashboard's settings form) is published as the default
    /// flow's next version, in the same transaction. An organization without a default flow yet
    /// gets one from these settings when it is first needed.
    static func publishLegacyDefault(organizationID: String, _ settings: FlowSettings, now: Date, db: any SQLDatabase) async throws {
        let nowMillis = Millis.from(now)
        // The update first: it takes the row's lock, so a publish through the API cannot slip in
        // between reading the current version and writing the next one.
        guard
            let row = try await db.raw(
                """
                UPDATE flows SET published_version = COALESCE(published_version, 0) + 1, updated_at = \(bind: nowMillis)
                WHERE default_for = \(bind: organizationID) RETURNING id, published_version
                """
            ).first()
        else { return }
        let flowID = try row.decode(column: "id", as: String.self)
        let version = try row.decode(column: "published_version", as: Int64.self)
        let base =
            try await db.raw(
                "SELECT document FROM flow_versions WHERE flow_id = \(bind: flowID) AND version = \(bind: version - 1)"
            ).first().map { try JSONCoding.decode(FlowDocument.self, from: $0.decode(column: "document", as: String.self)) }
            ?? FlowDocument.standard
        let document = base.applyingLegacy(settings)
        try await db.raw(
            """
            INSERT INTO flow_versions (flow_id, version, document, published_at, published_by)
            VALUES (\(bind: flowID), \(bind: version), \(bind: try JSONCoding.encode(document)), \(bind: nowMillis), 'settings')
            """
        ).run()
    }

    public func exchangeLink(
        tokenHash: String, now: Date, sessionHash: String, sessionID: String, sessionExpiresAt: Date, locale: String?,
        events: @escaping @Sendable (CancelLink) -> [OutboxEvent]
    ) async throws -> (CancelLink, FlowSession)? {
        let nowMillis = Millis.from(now)
        return try await self.pool.transaction { db in
            // The whole guarantee is this one statement: it changes the row only while the link is
            // active and unexpired, and the database lets one writer at a time see it so.
            let row = try await db.raw(
                """
                UPDATE cancel_links SET
                    status = CASE WHEN single_use THEN 'consumed' ELSE status END,
                    consumed_at = CASE WHEN single_use THEN \(bind: nowMillis) ELSE consumed_at END,
                    exchange_count = exchange_count + 1
                WHERE token_hash = \(bind: tokenHash) AND status = 'active' AND expires_at > \(bind: nowMillis)
                RETURNING *
                """
            ).first()
            guard let row else { return nil }
            let link = try Self.decodeLink(row)
            let session = FlowSession(
                id: sessionID,
                linkID: link.id,
                organizationID: link.organizationID,
                mode: link.mode,
                customerID: link.customerID,
                subscriptionID: link.subscriptionID,
                entry: .link,
                returnURL: link.returnURL,
                createdAt: Millis.date(nowMillis),
                expiresAt: Millis.date(Millis.from(sessionExpiresAt)),
                locale: locale
            )
            try await Self.insertFlowSession(session, sessionHash: sessionHash, db: db)
            try await db.raw(
                """
                INSERT INTO link_exchanges (id, link_id, flow_session_id, exchanged_at)
                VALUES (\(bind: Identifier.make("lx_")), \(bind: link.id), \(bind: session.id), \(bind: nowMillis))
                """
            ).run()
            try await self.writeOutbox(events(link), db: db)
            return (link, session)
        }
    }

    static func insertFlowSession(_ session: FlowSession, sessionHash: String, db: any SQLDatabase) async throws {
        try await db.raw(
            """
            INSERT INTO flow_sessions (id, session_hash, link_id, organization_id, mode, customer_id, subscription_id, offer_declined,
                entry, return_url, created_at, expires_at, locale)
            VALUES (\(bind: session.id), \(bind: sessionHash), \(bind: session.linkID), \(bind: session.organizationID),
                \(bind: session.mode.rawValue), \(bind: session.customerID), \(bind: session.subscriptionID), \(bind: false),
                \(bind: session.entry.rawValue), \(bind: session.returnURL), \(bind: Millis.from(session.createdAt)),
                \(bind: Millis.from(session.expiresAt)), \(bind: session.locale))
            """
        ).run()
    }

    public func flowSession(sessionHash: String) async throws -> FlowSession? {
        try await self.pool.read { db in
            try await db.raw("SELECT * FROM flow_sessions WHERE session_hash = \(bind: sessionHash)").first().map(Self.decodeFlowSession)
        }
    }

    public func updateFlowSession(_ session: FlowSession) async throws {
        try await self.pool.write { db in
            try await db.raw(
                """
                UPDATE flow_sessions SET subscription_id = \(bind: session.subscriptionID), survey_reason = \(bind: session.surveyReason),
                    survey_comment = \(bind: session.surveyComment), offer_declined = \(bind: session.offerDeclined),
                    reason_id = \(bind: session.reasonID), offer_id = \(bind: session.offerID)
                WHERE id = \(bind: session.id) AND outcome IS NULL
                """
            ).run()
        }
    }

    public func pinFlowRun(sessionID: String, _ run: FlowRun) async throws -> FlowSession? {
        try await self.pool.write { db in
            if let row = try await db.raw(
                """
                UPDATE flow_sessions SET flow_id = \(bind: run.flowID), flow_version = \(bind: Int64(run.version)), variant = \(bind: run.variant)
                WHERE id = \(bind: sessionID) AND flow_id IS NULL AND outcome IS NULL
                RETURNING *
                """
            ).first() {
                return try Self.decodeFlowSession(row)
            }
            return try await db.raw("SELECT * FROM flow_sessions WHERE id = \(bind: sessionID)").first().map(Self.decodeFlowSession)
        }
    }

    public func acceptedOffers(organizationID: String, mode: Mode, customerID: String, since: Date) async throws -> [FlowOutcome: Date] {
        try await self.pool.read { db in
            var latest: [FlowOutcome: Date] = [:]
            for row in try await db.raw(
                """
                SELECT outcome, MAX(outcome_at) AS at FROM flow_sessions
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue) AND customer_id = \(bind: customerID)
                    AND outcome_at >= \(bind: Millis.from(since)) AND outcome NOT IN ('canceled', 'kept', 'abandoned')
                GROUP BY outcome
                """
            ).all() {
                guard let outcome = FlowOutcome(rawValue: try row.decode(column: "outcome", as: String.self)),
                    let at = try row.decode(column: "at", as: Int64?.self)
                else { continue }
                latest[outcome] = Millis.date(at)
            }
            return latest
        }
    }

    public func completeFlowSession(
        id: String, outcome: FlowOutcome, now: Date, change: SubscriptionChange?, providerActed: Bool, confirmation: FlowConfirmation?,
        events: @escaping @Sendable (FlowSession, [String: String]) -> [OutboxEvent]
    ) async throws -> Bool {
        let nowMillis = Millis.from(now)
        return try await self.pool.transaction { db in
            // Only an undecided session ends, and (but for abandonment) only before it expires, so
            // the sweeper and a late click cannot both decide it.
            var update = SQLQueryString(
                "UPDATE flow_sessions SET outcome = \(bind: outcome.rawValue), outcome_at = \(bind: nowMillis) WHERE id = \(bind: id) AND outcome IS NULL"
            )
            if outcome != .abandoned && !providerActed {
                update.appendInterpolation(unsafeRaw: " AND expires_at > ")
                update.appendInterpolation(bind: nowMillis)
            }
            update.appendInterpolation(unsafeRaw: " RETURNING *")
            guard let row = try await db.raw(update).first() else { return false }
            let completed = try Self.decodeFlowSession(row)
            try await self.writeOutbox(events(completed, try await Self.linkMetadata(completed, db: db)), db: db)
            if let confirmation { try await Self.insertConfirmation(confirmation, db: db) }
            if providerActed {
                try await db.raw(
                    """
                    UPDATE billing_actions SET status = 'succeeded', last_error = NULL, updated_at = \(bind: nowMillis)
                    WHERE flow_session_id = \(bind: id)
                    """
                ).run()
            }
            guard let change, let subscriptionID = try row.decode(column: "subscription_id", as: String?.self) else { return true }
            let organizationID = try row.decode(column: "organization_id", as: String.self)
            let mode = try row.decode(column: "mode", as: String.self)
            let target = SQLQueryString(
                " WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode) AND id = \(bind: subscriptionID)"
            )
            var statement: SQLQueryString
            switch change {
            case .cancel(.periodEnd):
                statement = "UPDATE subscriptions SET cancel_at_period_end = \(bind: true), canceled_at = \(bind: nowMillis)"
            case .cancel(.immediately):
                statement = """
                    UPDATE subscriptions SET status = 'canceled', cancel_at_period_end = \(bind: false), canceled_at = \(bind: nowMillis)
                    """
            case .pause(let until):
                statement = "UPDATE subscriptions SET status = 'paused', pause_resumes_at = \(bind: Millis.from(until))"
            case .discount(let percent, let until):
                statement = """
                    UPDATE subscriptions SET discount_percent = \(bind: Int64(percent)), discount_ends_at = \(bind: Millis.from(until))
                    """
            case .changePlan(let planID, let name, let amount, let currency):
                // The price the offer named, else the current one stays.
                statement = """
                    UPDATE subscriptions SET plan_id = \(bind: planID), plan_name = \(bind: name),
                        amount = COALESCE(\(bind: amount.map(Int64.init)), amount), currency = COALESCE(\(bind: currency), currency)
                    """
            case .extendPeriod(let until):
                statement = "UPDATE subscriptions SET current_period_end = \(bind: Millis.from(until))"
            }
            statement.appendInterpolation(unsafeRaw: ", updated_at = ")
            statement.appendInterpolation(bind: nowMillis)
            try await db.raw(statement + target).run()
            return true
        }
    }

    public func abandonExpiredFlowSessions(
        now: Date, settleBefore: Date, events: @escaping @Sendable (FlowSession, [String: String]) -> [OutboxEvent]
    ) async throws -> Int {
        let nowMillis = Millis.from(now)
        return try await self.pool.transaction { db in
            // A session whose provider action has no clear answer yet may still turn out to have
            // been carried out: it is not abandoned while the sweeper can read it back.
            let rows = try await db.raw(
                """
                UPDATE flow_sessions SET outcome = 'abandoned', outcome_at = expires_at
                WHERE outcome IS NULL AND expires_at <= \(bind: nowMillis)
                    AND (expires_at <= \(bind: Millis.from(settleBefore)) OR NOT EXISTS (
                        SELECT 1 FROM billing_actions WHERE billing_actions.flow_session_id = flow_sessions.id
                            AND billing_actions.status IN ('pending', 'unknown')))
                RETURNING *
                """
            ).all()
            for row in rows {
                let session = try Self.decodeFlowSession(row)
                try await self.writeOutbox(events(session, try await Self.linkMetadata(session, db: db)), db: db)
            }
            return rows.count
        }
    }

    /// The metadata of the link a session came from, echoed in its `cancel_flow.completed`.
    static func linkMetadata(_ session: FlowSession, db: any SQLDatabase) async throws -> [String: String] {
        guard let linkID = session.linkID,
            let row = try await db.raw("SELECT metadata FROM cancel_links WHERE id = \(bind: linkID)").first()
        else { return [:] }
        return try JSONCoding.decode([String: String].self, from: row.decode(column: "metadata", as: String.self))
    }

    static func decodeFlowSettings(_ row: any SQLRow) throws -> FlowSettings {
        let offerText = try row.decode(column: "offer", as: String.self)
        let timing = try row.decode(column: "cancel_timing", as: String.self)
        var settings = FlowSettings(
            surveyReasons: try JSONCoding.decode([String].self, from: row.decode(column: "survey_reasons", as: String.self)),
            offer: RetentionOffer(text: offerText) ?? .none,
            cancelTiming: CancelTiming(rawValue: timing) ?? .periodEnd,
            brandColor: try row.decode(column: "brand_color", as: String.self),
            logoURL: try row.decode(column: "logo_url", as: String?.self)
        )
        settings.defaultLocale = try row.decode(column: "default_locale", as: String?.self)
        settings.clickToCancel = try row.decode(column: "click_to_cancel", as: Bool?.self) ?? false
        if let texts = try row.decode(column: "texts", as: String?.self) {
            settings.texts = try JSONCoding.decode([String: [String: String]].self, from: texts)
        }
        return settings
    }

    static func decodeFlowSession(_ row: any SQLRow) throws -> FlowSession {
        let entry = try row.decode(column: "entry", as: String.self)
        return FlowSession(
            id: try row.decode(column: "id", as: String.self),
            linkID: try row.decode(column: "link_id", as: String?.self),
            organizationID: try row.decode(column: "organization_id", as: String.self),
            mode: try Self.decodeMode(row.decode(column: "mode", as: String.self)),
            customerID: try row.decode(column: "customer_id", as: String.self),
            subscriptionID: try row.decode(column: "subscription_id", as: String?.self),
            surveyReason: try row.decode(column: "survey_reason", as: String?.self),
            surveyComment: try row.decode(column: "survey_comment", as: String?.self),
            offerDeclined: try row.decode(column: "offer_declined", as: Bool.self),
            outcome: try row.decode(column: "outcome", as: String?.self).flatMap(FlowOutcome.init(rawValue:)),
            outcomeAt: try row.decode(column: "outcome_at", as: Int64?.self).map(Millis.date),
            entry: FlowEntry(rawValue: entry) ?? .link,
            returnURL: try row.decode(column: "return_url", as: String?.self),
            createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self)),
            expiresAt: Millis.date(try row.decode(column: "expires_at", as: Int64.self)),
            run: try Self.decodeFlowRun(row),
            reasonID: try row.decode(column: "reason_id", as: String?.self),
            offerID: try row.decode(column: "offer_id", as: String?.self),
            locale: try row.decode(column: "locale", as: String?.self)
        )
    }

    static func decodeFlowRun(_ row: any SQLRow) throws -> FlowRun? {
        guard let flowID = try row.decode(column: "flow_id", as: String?.self), let version = try row.decode(column: "flow_version", as: Int64?.self)
        else { return nil }
        return FlowRun(flowID: flowID, version: Int(version), variant: try row.decode(column: "variant", as: String?.self))
    }
}
