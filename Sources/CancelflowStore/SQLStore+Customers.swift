import CancelflowCore
import Foundation
import SQLKit

// MARK: - Built-in billing data

extension SQLStore: BillingDataStore {
    public func upsertCustomer(
        organizationID: String, mode: Mode, id: String, email: String?, name: String?, now: Date
    ) async throws
        -> Customer
    {
        let nowMillis = Millis.from(now)
        return try await self.pool.write { db in
            let row = try await db.raw(
                """
                INSERT INTO customers (organization_id, mode, id, email, name, created_at, updated_at)
                VALUES (\(bind: organizationID), \(bind: mode.rawValue), \(bind: id), \(bind: email), \(bind: name),
                    \(bind: nowMillis), \(bind: nowMillis))
                ON CONFLICT (organization_id, mode, id)
                DO UPDATE SET email = excluded.email, name = excluded.name, updated_at = excluded.updated_at
                RETURNING *
                """
            ).first()
            guard let row else { throw StoreError.corrupt("upsert returned no row") }
            return try Self.decodeCustomer(row)
        }
    }

    public func customer(organizationID: String, mode: Mode, id: String) async throws -> Customer? {
        try await self.pool.read { db in
            try await db.raw(
                """
                SELECT * FROM customers
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue) AND id = \(bind: id)
                """
            ).first().map(Self.decodeCustomer)
        }
    }

    public func customers(organizationID: String, mode: Mode, search: String?, limit: Int, startingAfter: String?) async throws -> [Customer] {
        try await self.pool.read { db in
            var query: SQLQueryString = "SELECT * FROM customers WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue)"
            if let search, !search.isEmpty {
                // A prefix of the id or the address, or a part of the name, case-insensitively;
                // instr() rather than LIKE so that % and _ in what was typed are plain text.
                let needle = search.lowercased()
                query =
                    query
                        + """
                         AND (substr(lower(id), 1, CAST(\(bind: needle.unicodeScalars.count) AS INTEGER)) = \(bind: needle)
                            OR substr(email, 1, CAST(\(bind: needle.unicodeScalars.count) AS INTEGER)) = \(bind: needle)
                            OR \(unsafeRaw: self.pool.engine == .postgres ? "strpos" : "instr")(lower(coalesce(name, '')), \(bind: needle)) > 0)
                        """
            }
            if let startingAfter { query = query + " AND id > \(bind: startingAfter)" }
            query = query + " ORDER BY id LIMIT \(bind: limit)"
            return try await db.raw(query).all().map(Self.decodeCustomer)
        }
    }

    public func upsertSubscription(
        organizationID: String, mode: Mode, _ subscription: Subscription, now: Date
    ) async throws
        -> Subscription?
    {
        let nowMillis = Millis.from(now)
        let s = subscription
        return try await self.pool.transaction { db in
            let customer = try await db.raw(
                """
                SELECT id FROM customers
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue) AND id = \(bind: s.customerID)
                """
            ).first()
            guard customer != nil else { return nil }
            let owner = try await db.raw(
                """
                SELECT customer_id FROM subscriptions
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue) AND id = \(bind: s.id)
                """
            ).first()?.decode(column: "customer_id", as: String.self)
            if let owner, owner != s.customerID {
                throw CancelflowError(
                    .conflict,
                    code: "subscription_customer_mismatch",
                    message: "That subscription id already belongs to another customer.",
                    param: "subscriptionId"
                )
            }
            let row = try await db.raw(
                """
                INSERT INTO subscriptions (organization_id, mode, id, customer_id, status, plan_name, amount, currency,
                    billing_interval, current_period_end, created_at, updated_at, plan_id, started_at)
                VALUES (\(bind: organizationID), \(bind: mode.rawValue), \(bind: s.id), \(bind: s.customerID),
                    \(bind: s.status.rawValue), \(bind: s.planName), \(bind: s.amount.map(Int64.init)), \(bind: s.currency),
                    \(bind: s.interval?.rawValue), \(bind: s.currentPeriodEnd.map(Millis.from)), \(bind: nowMillis), \(bind: nowMillis),
                    \(bind: s.planID), \(bind: s.startedAt.map(Millis.from)))
                ON CONFLICT (organization_id, mode, id) DO UPDATE SET
                    status = excluded.status, plan_name = excluded.plan_name, amount = excluded.amount,
                    currency = excluded.currency, billing_interval = excluded.billing_interval,
                    current_period_end = excluded.current_period_end, updated_at = excluded.updated_at,
                    plan_id = excluded.plan_id, started_at = excluded.started_at
                WHERE subscriptions.customer_id = excluded.customer_id
                RETURNING *
                """
            ).first()
            // No row: a concurrent request gave the id to another customer after our check.
            guard let row else {
                throw CancelflowError(
                    .conflict,
                    code: "subscription_customer_mismatch",
                    message: "That subscription id already belongs to another customer.",
                    param: "subscriptionId"
                )
            }
            return try Self.decodeSubscription(row)
        }
    }

    public func subscriptions(organizationID: String, mode: Mode, customerID: String) async throws -> [Subscription] {
        try await self.pool.read { db in
            try await db.raw(
                """
                SELECT * FROM subscriptions
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue) AND customer_id = \(bind: customerID)
                ORDER BY created_at DESC, id DESC
                """
            ).all().map(Self.decodeSubscription)
        }
    }

    public func subscription(organizationID: String, mode: Mode, id: String) async throws -> Subscription? {
        try await self.pool.read { db in
            try await db.raw(
                """
                SELECT * FROM subscriptions
                WHERE organization_id = \(bind: organizationID) AND mode = \(bind: mode.rawValue) AND id = \(bind: id)
                """
            ).first().map(Self.decodeSubscription)
        }
    }

    static func decodeCustomer(_ row: any SQLRow) throws -> Customer {
        Customer(
            id: try row.decode(column: "id", as: String.self),
            email: try row.decode(column: "email", as: String?.self),
            name: try row.decode(column: "name", as: String?.self),
            createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Millis.date(try row.decode(column: "updated_at", as: Int64.self))
        )
    }

    static func decodeSubscription(_ row: any SQLRow) throws -> Subscription {
        let status = try row.decode(column: "status", as: String.self)
        guard let status = SubscriptionStatus(rawValue: status) else { throw StoreError.corrupt("unknown subscription status") }
        var subscription = Subscription(
            id: try row.decode(column: "id", as: String.self),
            customerID: try row.decode(column: "customer_id", as: String.self),
            status: status,
            planName: try row.decode(column: "plan_name", as: String?.self),
            amount: try row.decode(column: "amount", as: Int64?.self).map { Int($0) },
            currency: try row.decode(column: "currency", as: String?.self),
            interval: try row.decode(column: "billing_interval", as: String?.self).flatMap(BillingInterval.init(rawValue:)),
            currentPeriodEnd: try row.decode(column: "current_period_end", as: Int64?.self).map(Millis.date),
            createdAt: Millis.date(try row.decode(column: "created_at", as: Int64.self)),
            updatedAt: Millis.date(try row.decode(column: "updated_at", as: Int64.self))
        )
        subscription.cancelAtPeriodEnd = try row.decode(column: "cancel_at_period_end", as: Bool.self)
        subscription.canceledAt = try row.decode(column: "canceled_at", as: Int64?.self).map(Millis.date)
        subscription.pauseResumesAt = try row.decode(column: "pause_resumes_at", as: Int64?.self).map(Millis.date)
        subscription.discountPercent = try row.decode(column: "discount_percent", as: Int64?.self).map { Int($0) }
        subscription.discountEndsAt = try row.decode(column: "discount_ends_at", as: Int64?.self).map(Millis.date)
        subscription.planID = try row.decode(column: "plan_id", as: String?.self)
        subscription.startedAt = try row.decode(column: "started_at", as: Int64?.self).map(Millis.date)
        return subscription
    }
}
