import CancelflowCore
import Foundation
import NIOHTTP1

/// Stripe Billing over its REST API: form-encoded requests under a pinned API version, every
/// write under an idempotency key derived from the flow session and the action.
public struct StripeProvider: BillingProvider {
    /// The API version the requests and the parsing below are written for. Since 2025-03-31 the
    /// period end lives on the subscription items; older answers (and localstripe) keep it on
    /// the subscription, and both are read.
    public static let apiVersion = "2025-03-31.basil"
    /// Stripe's API.
    public static let defaultBase = "https://api.stripe.com"

    let http: ProviderHTTP
    let base: String
    let key: String
    let pauseBehavior: StripePauseBehavior

    public init(
        key: String, base: String?, pauseBehavior: StripePauseBehavior, timeouts: ProviderTimeouts,
        observe: @escaping ProviderCallObserver = { _, _, _ in }
    ) {
        self.http = ProviderHTTP(provider: .stripe, timeouts: timeouts, observe: observe)
        self.base = base ?? Self.defaultBase
        self.key = key
        self.pauseBehavior = pauseBehavior
    }

    public var kind: BillingProviderKind { .stripe }

    public func customer(reference: String) async throws -> BillingCustomer? {
        guard let customer = try await self.fetchCustomer(reference) else { return nil }
        let list = try await self.get(
            "/v1/subscriptions", query: [("customer", reference), ("status", "all"), ("limit", "100"), ("expand[]", "data.discounts")])
        guard let list else { return nil }
        let subscriptions = list.objects("data").compactMap(Self.subscription).sorted { $0.createdAt > $1.createdAt }
        return BillingCustomer(customer: customer, subscriptions: subscriptions)
    }

    public func checkCredentials() async throws {
        _ = try await self.get("/v1/customers", query: [("limit", "1")])
    }

    public func customerReference(email: String) async throws -> Customer? {
        let list = try await self.get("/v1/customers", query: [("email", email), ("limit", "10")])
        // Newest first, as Stripe lists them.
        return list?.objects("data").filter { $0.bool("deleted") != true }.compactMap(Self.customer).first
    }

    /// One or two reads: the customer, and the named subscription rather than all of them.
    public func checkMint(reference: String, subscriptionID: String?) async throws -> CancelflowError? {
        guard try await self.fetchCustomer(reference) != nil else { return BillingErrors.customerNotFound }
        if let subscriptionID {
            guard ProviderID.isPlausible(subscriptionID, prefixes: ["sub_"]),
                let object = try await self.get("/v1/subscriptions/\(subscriptionID)", query: []),
                object.string("customer") == reference
            else { return BillingErrors.subscriptionNotFound }
        }
        return nil
    }

    public func apply(_ request: BillingActionRequest) async throws -> BillingReceipt {
        let id = request.subscription.id
        guard ProviderID.isPlausible(id, prefixes: ["sub_"]) else { throw BillingErrors.subscriptionNotFound }
        let path = "/v1/subscriptions/\(id)"
        var form: [(String, String)] = []
        switch request.action {
        case .cancelAtPeriodEnd:
            form = [("cancel_at_period_end", "true")] + self.cancellationDetails(request)
            _ = try await self.write(.POST, path, form, idempotencyKey: request.idempotencyKey)
        case .cancelNow:
            _ = try await self.write(.DELETE, path, self.cancellationDetails(request), idempotencyKey: request.idempotencyKey)
        case .pause(_, let resumesAt):
            form = [
                ("pause_collection[behavior]", self.pauseBehavior.rawValue),
                ("pause_collection[resumes_at]", String(Int(resumesAt.timeIntervalSince1970))),
            ]
            _ = try await self.write(.POST, path, form, idempotencyKey: request.idempotencyKey)
        case .discount(let percent, let months):
            let coupon = try await self.coupon(percent: percent, months: months, idempotencyKey: request.idempotencyKey)
            _ = try await self.write(.POST, path, [("discounts[0][coupon]", coupon)], idempotencyKey: request.idempotencyKey)
        case .changePlan(let planID, _, _, _):
            // The subscription's one item moves to the new price; Stripe prorates the rest of
            // the period on the next invoice, as a customer switching plans themselves gets.
            guard let item = request.subscription.itemID else { throw BillingErrors.refused(.stripe, "the subscription has no item to change.") }
            form = [("items[0][id]", item), ("items[0][price]", planID), ("proration_behavior", "create_prorations")]
            _ = try await self.write(.POST, path, form, idempotencyKey: request.idempotencyKey)
        case .extendTrial(_, let until):
            // A trial end in the future is free time for a trial or a paying subscription alike;
            // nothing is prorated, so nothing is charged or credited for it.
            form = [("trial_end", String(Int(until.timeIntervalSince1970))), ("proration_behavior", "none")]
            _ = try await self.write(.POST, path, form, idempotencyKey: request.idempotencyKey)
        }
        return BillingReceipt(provider: .stripe, objectID: id, action: request.action.name)
    }

    /// Our coupon, applied since the try began; the rest as `BillingMatching` reads it (Stripe
    /// stamps `canceled_at` when a cancellation is requested, and `resumes_at` is what we sent).
    public func isApplied(_ action: BillingAction, to subscription: Subscription, since: Date) async throws -> Bool {
        guard case .discount(let percent, let months) = action else { return BillingMatching.isApplied(action, to: subscription, since: since) }
        return subscription.discountID == Self.couponID(percent: percent, months: months)
            && (subscription.discountStartsAt.map { $0 >= since - 60 } ?? true)
    }

    // MARK: - Pieces

    /// One coupon per offer shape, under an id of ours: created the first time and reused, so a
    /// merchant's Stripe account does not fill with copies.
    static func couponID(percent: Int, months: Int) -> String { "cancelflow_\(percent)_off_\(months)_months" }

    func coupon(percent: Int, months: Int, idempotencyKey: String) async throws -> String {
        let id = Self.couponID(percent: percent, months: months)
        if try await self.get("/v1/coupons/\(id)", query: []) != nil { return id }
        let form = [
            ("id", id), ("percent_off", String(percent)), ("duration", "repeating"), ("duration_in_months", String(months)),
            ("name", "\(percent)% off for \(months) month\(months == 1 ? "" : "s") (Cancelflow)"),
        ]
        let reply = try await self.send(.POST, "/v1/coupons", body: FormEncoding.encode(form), idempotencyKey: idempotencyKey + "-coupon")
        // Created meanwhile by another flow: the id is ours, so it is the same coupon.
        if reply.status == 400, (try? reply.object(.stripe))?.object("error")?.string("code") == "resource_already_exists" { return id }
        _ = try self.check(reply, notFoundIsNil: false)
        return id
    }

    /// The survey answer where Stripe keeps it: a feedback value from its fixed list, and the
    /// reason and comment as the free-text comment (at most 500 characters).
    func cancellationDetails(_ request: BillingActionRequest) -> [(String, String)] {
        guard let reason = request.surveyReason else { return [] }
        var comment = reason
        if let extra = request.surveyComment, !extra.isEmpty { comment += ": " + extra }
        return [("cancellation_details[feedback]", Self.feedback(for: reason)), ("cancellation_details[comment]", String(comment.prefix(500)))]
    }

    /// Merchants write their own survey reasons; the usual ones map onto Stripe's list.
    static func feedback(for reason: String) -> String {
        let text = reason.lowercased()
        let rules: [(String, [String])] = [
            ("too_expensive", ["expensive", "price", "cost", "afford"]),
            ("unused", ["not using", "don't use", "do not use", "unused", "no longer need"]),
            ("missing_features", ["missing", "feature"]),
            ("switched_service", ["switch", "another product", "competitor", "alternative"]),
            ("too_complex", ["complex", "complicated", "difficult", "hard to use"]),
            ("low_quality", ["technical", "bug", "quality", "broken", "slow"]),
            ("customer_service", ["support", "service"]),
        ]
        return rules.first { $0.1.contains(where: text.contains) }?.0 ?? "other"
    }

    func fetchCustomer(_ id: String) async throws -> Customer? {
        guard ProviderID.isPlausible(id, prefixes: ["cus_"]) else { return nil }
        guard let object = try await self.get("/v1/customers/\(id)", query: []), object.bool("deleted") != true else { return nil }
        return Self.customer(object)
    }

    static func customer(_ object: JSONObject) -> Customer? {
        guard let id = object.string("id") else { return nil }
        let created = object.unixDate("created") ?? Date(timeIntervalSince1970: 0)
        return Customer(id: id, email: object.string("email")?.lowercased(), name: object.string("name"), createdAt: created, updatedAt: created)
    }

    static func subscription(_ object: JSONObject) -> Subscription? {
        guard let id = object.string("id"), let customer = object.string("customer") else { return nil }
        let item = object.object("items")?.objects("data").first ?? [:]
        let price = item.object("price") ?? [:]
        let plan = item.object("plan") ?? object.object("plan") ?? [:]
        let created = object.unixDate("created") ?? Date(timeIntervalSince1970: 0)
        let pause = object.object("pause_collection")
        let recurring = price.object("recurring")
        var status: SubscriptionStatus =
            switch object.string("status") {
            case "active": .active
            case "trialing": .trialing
            case "past_due", "unpaid", "incomplete": .pastDue
            case "paused": .paused
            default: .canceled
            }
        // Collection paused: the customer is not billed, which is what they took.
        if pause != nil, status == .active { status = .paused }
        var subscription = Subscription(
            id: id,
            customerID: customer,
            status: status,
            planName: price.string("nickname") ?? plan.string("nickname") ?? price.object("product")?.string("name"),
            amount: price.int("unit_amount") ?? plan.int("amount"),
            currency: (price.string("currency") ?? plan.string("currency"))?.lowercased(),
            interval: BillingInterval(rawValue: recurring?.string("interval") ?? plan.string("interval") ?? ""),
            currentPeriodEnd: item.unixDate("current_period_end") ?? object.unixDate("current_period_end"),
            createdAt: created,
            updatedAt: created
        )
        subscription.cancelAtPeriodEnd = object.bool("cancel_at_period_end") == true || (object.int("cancel_at") != nil && status != .canceled)
        subscription.canceledAt = object.unixDate("canceled_at")
        subscription.pauseResumesAt = pause?.unixDate("resumes_at")
        subscription.intervalCount = max(1, recurring?.int("interval_count") ?? plan.int("interval_count") ?? 1)
        // For flow targeting: the price (or, on older accounts, the plan) and when it began.
        subscription.planID = price.string("id") ?? plan.string("id")
        subscription.itemID = item.string("id")
        // A trial's next charge is its end.
        if status == .trialing, let trialEnd = object.unixDate("trial_end") { subscription.currentPeriodEnd = trialEnd }
        subscription.startedAt = object.unixDate("start_date") ?? created
        // `discounts` holds ids unless expanded (the lists above expand it); the older singular
        // `discount` is the object. Later API versions move the coupon under `source`.
        let discount = object.objects("discounts").first ?? object.object("discount")
        if let coupon = discount?.object("coupon") ?? discount?.object("source")?.object("coupon") {
            subscription.discountID = coupon.string("id")
            subscription.discountPercent = coupon.int("percent_off")
            subscription.discountEndsAt = discount?.unixDate("end")
            subscription.discountStartsAt = discount?.unixDate("start")
        }
        return subscription
    }

    // MARK: - HTTP

    var headers: [(String, String)] {
        [("Authorization", "Bearer \(self.key)"), ("Stripe-Version", Self.apiVersion)]
    }

    /// A read; nil on 404.
    func get(_ path: String, query: [(String, String)]) async throws -> JSONObject? {
        var url = self.base + path
        if !query.isEmpty { url += "?" + String(decoding: FormEncoding.encode(query), as: UTF8.self) }
        let reply = try await self.http.send(.GET, url, headers: self.headers, body: nil, safeToRetry: true)
        return try self.check(reply, notFoundIsNil: true)
    }

    func write(_ method: HTTPMethod, _ path: String, _ form: [(String, String)], idempotencyKey: String) async throws -> JSONObject? {
        if method == .DELETE {
            // Stripe reads a DELETE's parameters from the query and ignores idempotency keys on
            // it; deleting twice cannot cancel twice, so a retry is safe anyway.
            var url = self.base + path
            if !form.isEmpty { url += "?" + String(decoding: FormEncoding.encode(form), as: UTF8.self) }
            let reply = try await self.http.send(.DELETE, url, headers: self.headers, body: nil, safeToRetry: true)
            return try self.check(reply, notFoundIsNil: false)
        }
        let reply = try await self.send(method, path, body: FormEncoding.encode(form), idempotencyKey: idempotencyKey)
        return try self.check(reply, notFoundIsNil: false)
    }

    func send(_ method: HTTPMethod, _ path: String, body: Data, idempotencyKey: String) async throws -> ProviderHTTP.Reply {
        // Stripe replays the first answer to a repeated key, so a write that may have reached it
        // can be retried.
        try await self.http.send(
            method, self.base + path,
            headers: self.headers + [("Idempotency-Key", idempotencyKey), ("Content-Type", "application/x-www-form-urlencoded")],
            body: body, safeToRetry: true)
    }

    /// Stripe's errors as ours. Only Stripe's error code goes into the message: its messages can
    /// quote what was sent.
    func check(_ reply: ProviderHTTP.Reply, notFoundIsNil: Bool) throws -> JSONObject? {
        switch reply.status {
        case 200...299:
            return try reply.object(.stripe)
        case 401:
            throw BillingErrors.authenticationFailed(.stripe)
        case 404 where notFoundIsNil:
            return nil
        default:
            let error = (try? reply.object(.stripe))?.object("error")
            let code = error?.string("code") ?? error?.string("type") ?? "HTTP \(reply.status)"
            if reply.status == 403 { throw BillingErrors.refused(.stripe, "the API key lacks a permission this needs (\(code)).") }
            if reply.status == 404 { throw BillingErrors.subscriptionNotFound }
            throw BillingErrors.refused(.stripe, "\(code).")
        }
    }
}
