import CancelflowCore
import Foundation
import NIOHTTP1

/// Paddle Billing over its REST API (JSON, a Bearer key). Per the seed, a Paddle organization's
/// links carry the Paddle *subscription* id as `customerId`; a flow started by email carries the
/// Paddle customer id (`ctm_…`) instead, and covers that customer's subscriptions.
public struct PaddleProvider: BillingProvider {
    /// Paddle's live API.
    public static let liveBase = "https://api.paddle.com"
    /// Paddle's sandbox API, the default for test mode.
    public static let sandboxBase = "https://sandbox-api.paddle.com"

    let http: ProviderHTTP
    let base: String
    let key: String

    public init(key: String, base: String?, mode: Mode, timeouts: ProviderTimeouts, observe: @escaping ProviderCallObserver = { _, _, _ in }) {
        self.http = ProviderHTTP(provider: .paddle, timeouts: timeouts, observe: observe)
        self.base = base ?? (mode == .live ? Self.liveBase : Self.sandboxBase)
        self.key = key
    }

    public var kind: BillingProviderKind { .paddle }

    public func customer(reference: String) async throws -> BillingCustomer? {
        if ProviderID.isPlausible(reference, prefixes: ["sub_"]) {
            guard let object = try await self.get("/subscriptions/\(reference)", query: []), let subscription = Self.subscription(object),
                let customer = try await self.fetchCustomer(subscription.customerID)
            else { return nil }
            return BillingCustomer(customer: customer, subscriptions: [subscription])
        }
        guard let customer = try await self.fetchCustomer(reference),
            let list = try await self.get("/subscriptions", query: [("customer_id", reference), ("per_page", "100")])
        else { return nil }
        let subscriptions = list.objects("data").compactMap(Self.subscription).sorted { $0.createdAt > $1.createdAt }
        return BillingCustomer(customer: customer, subscriptions: subscriptions)
    }

    public func checkCredentials() async throws {
        _ = try await self.get("/customers", query: [("per_page", "1")])
    }

    public func customerReference(email: String) async throws -> Customer? {
        let list = try await self.get("/customers", query: [("email", email)])
        return list?.objects("data").filter { $0.string("status") != "archived" }.compactMap(Self.customer).first
    }

    /// One read for the seed's form (a subscription id).
    public func checkMint(reference: String, subscriptionID: String?) async throws -> CancelflowError? {
        if ProviderID.isPlausible(reference, prefixes: ["sub_"]) {
            guard try await self.get("/subscriptions/\(reference)", query: []) != nil else { return BillingErrors.customerNotFound }
            if let subscriptionID, subscriptionID != reference { return BillingErrors.subscriptionNotFound }
            return nil
        }
        guard let found = try await self.customer(reference: reference) else { return BillingErrors.customerNotFound }
        if let subscriptionID, !found.subscriptions.contains(where: { $0.id == subscriptionID }) { return BillingErrors.subscriptionNotFound }
        return nil
    }

    /// Paddle discounts recur per billing period, not per month: a discount for M months is M
    /// periods on a monthly plan and M/12 on a yearly one, so on a yearly plan only whole years
    /// can be offered.
    public func supports(_ offer: RetentionOffer, on subscription: Subscription) -> Bool {
        if case .discount(_, let months) = offer { return Self.intervals(months: months, subscription: subscription) != nil }
        return offer.applies(to: subscription)
    }

    /// A billing period is `frequency` months or years; weekly and daily plans (no interval
    /// here) cannot take a discount counted in months.
    static func intervals(months: Int, subscription: Subscription) -> Int? {
        let period =
            switch subscription.interval {
            case .month: subscription.intervalCount
            case .year: 12 * subscription.intervalCount
            case nil: 0
            }
        guard period > 0, months % period == 0 else { return nil }
        return months / period
    }

    public func apply(_ request: BillingActionRequest) async throws -> BillingReceipt {
        let subscription = request.subscription
        guard ProviderID.isPlausible(subscription.id, prefixes: ["sub_"]) else { throw BillingErrors.subscriptionNotFound }
        let path = "/subscriptions/\(subscription.id)"
        switch request.action {
        case .cancelAtPeriodEnd:
            try await self.write(.POST, path + "/cancel", ["effective_from": "next_billing_period"])
        case .cancelNow:
            try await self.write(.POST, path + "/cancel", ["effective_from": "immediately"])
        case .pause(let months, _):
            // The customer keeps the period they paid for; the pause runs from its end.
            let start = subscription.currentPeriodEnd ?? Date()
            let resume = FlowService.adding(months: months, to: start)
            try await self.write(.POST, path + "/pause", ["effective_from": "next_billing_period", "resume_at": RFC3339.format(resume)])
        case .discount(let percent, let months):
            guard let intervals = Self.intervals(months: months, subscription: subscription) else {
                throw BillingErrors.refused(.paddle, "a \(months)-month discount cannot be expressed in yearly billing periods.")
            }
            guard let discount = try await self.discount(percent: percent, intervals: intervals, create: true) else {
                throw BillingErrors.unavailable(.paddle, "the discount could not be created.")
            }
            try await self.write(.PATCH, path, ["discount": ["id": discount, "effective_from": "next_billing_period"]])
        case .changePlan(let planID, _, _, _):
            // The subscription's one item becomes the new price, its seats kept, prorated and
            // billed now, as Paddle's own plan switch does.
            try await self.write(
                .PATCH, path,
                [
                    "items": [["price_id": planID, "quantity": subscription.quantity] as [String: any Sendable]],
                    "proration_billing_mode": "prorated_immediately",
                ])
        case .extendTrial(_, let until):
            // Only a trial's next billing date moves without a charge (`canExtendTrial`).
            try await self.write(.PATCH, path, ["next_billed_at": RFC3339.format(until), "proration_billing_mode": "do_not_bill"])
        }
        return BillingReceipt(provider: .paddle, objectID: subscription.id, action: request.action.name)
    }

    /// A plan change replaces the items: a subscription of several lines (add-ons) would lose
    /// the others, so it is offered only on one.
    public func canChangePlan(of subscription: Subscription) -> Bool {
        subscription.itemCount == 1
    }

    /// Free time only for a trial: moving a paying subscription's next billing date makes Paddle
    /// bill (or credit) the change, which is not free time.
    public func canExtendTrial(of subscription: Subscription) -> Bool {
        subscription.status == .trialing && subscription.currentPeriodEnd != nil && !subscription.cancelAtPeriodEnd
    }

    /// Our discount on the subscription; the rest as `BillingMatching` reads it. (This once
    /// lacked `since:`, so it did not implement the protocol's requirement and the default
    /// matching ran instead, which looks for a percentage Paddle never reports: a discount
    /// applied without an answer was never recognised.)
    public func isApplied(_ action: BillingAction, to subscription: Subscription, since: Date) async throws -> Bool {
        guard case .discount(let percent, let months) = action else { return BillingMatching.isApplied(action, to: subscription, since: since) }
        guard let current = subscription.discountID, let intervals = Self.intervals(months: months, subscription: subscription) else {
            return false
        }
        return try await self.discount(percent: percent, intervals: intervals, create: false) == current
    }

    // MARK: - Pieces

    /// One discount per offer shape, found again by its code (letters and digits, as Paddle
    /// requires): created the first time and reused.
    static func discountCode(percent: Int, intervals: Int) -> String { "CANCELFLOW\(percent)OFF\(intervals)X" }

    func discount(percent: Int, intervals: Int, create: Bool) async throws -> String? {
        let code = Self.discountCode(percent: percent, intervals: intervals)
        if let list = try await self.get("/discounts", query: [("code", code)]),
            let existing = list.objects("data").first(where: { $0.string("code") == code && $0.string("status") != "archived" })?.string("id")
        {
            return existing
        }
        guard create else { return nil }
        let body: [String: any Sendable] = [
            "amount": String(percent), "description": "\(percent)% off for \(intervals) billing period\(intervals == 1 ? "" : "s") (Cancelflow)",
            "type": "percentage", "recur": true, "maximum_recurring_intervals": intervals, "enabled_for_checkout": false, "code": code,
        ]
        let created = try await self.write(.POST, "/discounts", body)
        guard let id = created?.object("data")?.string("id") else { throw BillingErrors.unavailable(.paddle, "the new discount had no id.") }
        return id
    }

    func fetchCustomer(_ id: String) async throws -> Customer? {
        guard ProviderID.isPlausible(id, prefixes: ["ctm_"]), let object = try await self.get("/customers/\(id)", query: []) else { return nil }
        return Self.customer(object)
    }

    static func customer(_ object: JSONObject) -> Customer? {
        guard let id = object.string("id") else { return nil }
        let created = object.isoDate("created_at") ?? Date(timeIntervalSince1970: 0)
        return Customer(
            id: id, email: object.string("email")?.lowercased(), name: object.string("name"), createdAt: created,
            updatedAt: object.isoDate("updated_at") ?? created)
    }

    static func subscription(_ object: JSONObject) -> Subscription? {
        guard let id = object.string("id"), let customer = object.string("customer_id") else { return nil }
        let item = object.objects("items").first ?? [:]
        let price = item.object("price") ?? [:]
        let unit = price.object("unit_price") ?? [:]
        let cycle = object.object("billing_cycle") ?? price.object("billing_cycle") ?? [:]
        let created = object.isoDate("created_at") ?? Date(timeIntervalSince1970: 0)
        let status: SubscriptionStatus =
            switch object.string("status") {
            case "active": .active
            case "trialing": .trialing
            case "past_due": .pastDue
            case "paused": .paused
            default: .canceled
            }
        var subscription = Subscription(
            id: id,
            customerID: customer,
            status: status,
            planName: item.object("product")?.string("name") ?? price.string("name"),
            amount: unit.int("amount"),
            currency: (unit.string("currency_code") ?? object.string("currency_code"))?.lowercased(),
            interval: BillingInterval(rawValue: cycle.string("interval") ?? ""),
            // A trial's next charge is its `next_billed_at`.
            currentPeriodEnd: (status == .trialing ? object.isoDate("next_billed_at") : nil)
                ?? object.object("current_billing_period")?.isoDate("ends_at"),
            createdAt: created,
            updatedAt: object.isoDate("updated_at") ?? created
        )
        let scheduled = object.object("scheduled_change")
        subscription.cancelAtPeriodEnd = scheduled?.string("action") == "cancel"
        if scheduled?.string("action") == "pause" { subscription.pauseResumesAt = scheduled?.isoDate("resume_at") }
        if status == .paused { subscription.pauseResumesAt = scheduled?.isoDate("effective_at") }
        subscription.canceledAt = object.isoDate("canceled_at")
        if let discount = object.object("discount") {
            subscription.discountID = discount.string("id")
            subscription.discountStartsAt = discount.isoDate("starts_at")
            subscription.discountEndsAt = discount.isoDate("ends_at")
        }
        subscription.intervalCount = max(1, cycle.int("frequency") ?? 1)
        // For flow targeting: the price and when the subscription began.
        subscription.planID = price.string("id")
        subscription.itemCount = max(1, object.objects("items").count)
        subscription.quantity = max(1, item.int("quantity") ?? 1)
        subscription.startedAt = object.isoDate("started_at") ?? object.isoDate("first_billed_at") ?? created
        return subscription
    }

    // MARK: - HTTP

    var headers: [(String, String)] {
        [("Authorization", "Bearer \(self.key)"), ("Paddle-Version", "1")]
    }

    /// A read: the answer's `data`, or the whole answer for lists; nil on 404.
    func get(_ path: String, query: [(String, String)]) async throws -> JSONObject? {
        var url = self.base + path
        if !query.isEmpty { url += "?" + String(decoding: FormEncoding.encode(query), as: UTF8.self) }
        let reply = try await self.http.send(.GET, url, headers: self.headers, body: nil, safeToRetry: true)
        guard let object = try self.check(reply, notFoundIsNil: true) else { return nil }
        // One object comes as `data`; a list keeps its envelope for `data` and `meta`.
        return path.split(separator: "/").count == 1 ? object : object.object("data")
    }

    /// A write. Paddle takes no idempotency key, so one that may have reached it is not retried
    /// here; a failed step is settled by reading the subscription back before trying again.
    @discardableResult
    func write(_ method: HTTPMethod, _ path: String, _ body: [String: any Sendable]) async throws -> JSONObject? {
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        let reply = try await self.http.send(
            method, self.base + path, headers: self.headers + [("Content-Type", "application/json")], body: data, safeToRetry: false)
        return try self.check(reply, notFoundIsNil: false)
    }

    /// Paddle's errors as ours, by its error code (never its detail, which can quote input).
    func check(_ reply: ProviderHTTP.Reply, notFoundIsNil: Bool) throws -> JSONObject? {
        switch reply.status {
        case 200...299:
            return try reply.object(.paddle)
        case 404 where notFoundIsNil:
            return nil
        default:
            let code = (try? reply.object(.paddle))?.object("error")?.string("code") ?? "HTTP \(reply.status)"
            // Paddle answers a missing, malformed or unknown key with 403 and these codes.
            if reply.status == 401 || ["authentication_missing", "authentication_malformed", "invalid_token"].contains(code) {
                throw BillingErrors.authenticationFailed(.paddle)
            }
            if reply.status == 403 { throw BillingErrors.refused(.paddle, "the API key lacks a permission this needs (\(code)).") }
            if reply.status == 404 { throw BillingErrors.subscriptionNotFound }
            throw BillingErrors.refused(.paddle, "\(code).")
        }
    }
}
