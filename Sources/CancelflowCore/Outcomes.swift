import Foundation

/// What an organization's mode saw in a period: the raw counts the outcomes page is drawn from.
public struct OutcomeCounts: Sendable, Equatable {
    /// Cancel Links created in the period.
    public var linksMinted = 0
    /// Link exchanges (a reusable link counts each time it is opened into a flow).
    public var linksExchanged = 0
    /// Flow sessions started, by link or by email.
    public var flowsStarted = 0
    /// Flows that ended in the period, by outcome.
    public var outcomes: [FlowOutcome: Int] = [:]
    /// Survey answers of flows started in the period, most given first.
    public var reasons: [(reason: String, count: Int)] = []
    /// The newest comments, with their reason.
    public var comments: [(reason: String?, comment: String, at: Date)] = []
    /// Per UTC day: links minted and flows completed (not abandoned).
    public var daily: [(day: Date, minted: Int, completed: Int)] = []

    public init() {}

    public static func == (lhs: OutcomeCounts, rhs: OutcomeCounts) -> Bool {
        lhs.linksMinted == rhs.linksMinted && lhs.linksExchanged == rhs.linksExchanged && lhs.flowsStarted == rhs.flowsStarted
            && lhs.outcomes == rhs.outcomes && lhs.reasons.map(\.reason) == rhs.reasons.map(\.reason)
            && lhs.reasons.map(\.count) == rhs.reasons.map(\.count)
    }

    /// Flows completed: every outcome but `abandoned`.
    public var completed: Int { self.outcomes.filter { $0.key != .abandoned }.values.reduce(0, +) }
    /// Every outcome where the customer stayed (kept, or took an offer).
    public var saved: Int { self.outcomes.filter { $0.key.isSave }.values.reduce(0, +) }
    /// Saved among the customers who decided (saved + canceled); nil before anyone decided.
    public var saveRate: Double? {
        let decided = self.saved + (self.outcomes[.canceled] ?? 0)
        return decided == 0 ? nil : Double(self.saved) / Double(decided)
    }
}

/// One flow session as the CSV export lists it.
public struct FlowSessionRecord: Sendable, Equatable {
    public var id: String
    public var createdAt: Date
    public var customerID: String
    public var subscriptionID: String?
    public var entry: String
    public var linkID: String?
    public var surveyReason: String?
    public var surveyComment: String?
    public var offerDeclined: Bool
    public var outcome: String?
    public var outcomeAt: Date?

    public init(
        id: String, createdAt: Date, customerID: String, subscriptionID: String?, entry: String, linkID: String?, surveyReason: String?,
        surveyComment: String?, offerDeclined: Bool, outcome: String?, outcomeAt: Date?
    ) {
        self.id = id
        self.createdAt = createdAt
        self.customerID = customerID
        self.subscriptionID = subscriptionID
        self.entry = entry
        self.linkID = linkID
        self.surveyReason = surveyReason
        self.surveyComment = surveyComment
        self.offerDeclined = offerDeclined
        self.outcome = outcome
        self.outcomeAt = outcomeAt
    }
}

/// How many sessions of a flow's variant ended with an outcome.
public struct VariantOutcomeCount: Sendable, Equatable {
    public var flowID: String
    public var version: Int
    public var variant: String
    public var outcome: FlowOutcome
    public var count: Int

    public init(flowID: String, version: Int, variant: String, outcome: FlowOutcome, count: Int) {
        self.flowID = flowID
        self.version = version
        self.variant = variant
        self.outcome = outcome
        self.count = count
    }
}

/// Read-only aggregates over links and flow sessions.
public protocol OutcomeStore: Sendable {
    func outcomeCounts(organizationID: String, mode: Mode, from: Date, to: Date) async throws -> OutcomeCounts
    /// Sessions that ran a variant and ended in the period, by flow, variant and outcome.
    func variantOutcomes(organizationID: String, mode: Mode, from: Date, to: Date) async throws -> [VariantOutcomeCount]
    /// Flow sessions started in the period, oldest first, after the cursor session.
    func flowSessionRecords(
        organizationID: String, mode: Mode, from: Date, to: Date, after: String?, limit: Int
    ) async throws
        -> [FlowSessionRecord]
}

/// The outcomes overview and its export.
public struct OutcomeService: Sendable {
    let store: any OutcomeStore
    let time: any TimeSource

    /// The periods the page offers, in days.
    public static let periods = [7, 30, 90]
    /// The most rows one export holds.
    public static let exportLimit = 100_000

    public init(store: any OutcomeStore, time: any TimeSource) {
        self.store = store
        self.time = time
    }

    /// The last `days` UTC days, today included, as whole days (so the daily chart has whole days).
    public func period(days: Int) -> (from: Date, to: Date) {
        let today = VerificationService.dayStart(self.time.now())
        return (today.addingTimeInterval(-Double(days - 1) * 86400), today.addingTimeInterval(86400))
    }

    public func counts(organizationID: String, mode: Mode, days: Int) async throws -> OutcomeCounts {
        let (from, to) = self.period(days: days)
        var counts = try await self.store.outcomeCounts(organizationID: organizationID, mode: mode, from: from, to: to)
        // Every day of the period, with zeros where nothing happened.
        let known = Dictionary(counts.daily.map { ($0.day, ($0.minted, $0.completed)) }, uniquingKeysWith: { $1 })
        counts.daily = (0..<days).map { offset in
            let day = from.addingTimeInterval(Double(offset) * 86400)
            let values = known[day] ?? (0, 0)
            return (day, values.0, values.1)
        }
        return counts
    }

    /// The period's flow sessions as CSV (RFC 4180), header first. A cell that a spreadsheet
    /// would run as a formula (starting with `=`, `+`, `-`, `@`, tab or CR) is prefixed with `'`:
    /// survey comments are typed by customers.
    public func csv(organizationID: String, mode: Mode, days: Int) async throws -> String {
        let (from, to) = self.period(days: days)
        var out = "session_id,created_at,customer_id,subscription_id,entry,link_id,survey_reason,survey_comment,offer_declined,outcome,outcome_at\r\n"
        var after: String?
        var rows = 0
        while rows < Self.exportLimit {
            let page = try await self.store.flowSessionRecords(
                organizationID: organizationID, mode: mode, from: from, to: to, after: after, limit: min(1000, Self.exportLimit - rows))
            for record in page {
                let cells: [String?] = [
                    record.id, Timestamp.iso(record.createdAt), record.customerID, record.subscriptionID, record.entry, record.linkID,
                    record.surveyReason, record.surveyComment, record.offerDeclined ? "true" : "false", record.outcome,
                    record.outcomeAt.map(Timestamp.iso),
                ]
                out += cells.map { Self.cell($0 ?? "") }.joined(separator: ",") + "\r\n"
            }
            rows += page.count
            guard page.count == 1000, let last = page.last else { break }
            after = last.id
        }
        return out
    }

    /// Each test the given flows run (variants in the document's order, the first as the
    /// control), with the period's sessions and saves per variant of the published version
    /// only: another version's variant of the same name may be another experiment.
    public func experiments(organizationID: String, mode: Mode, days: Int, flows: [StoredFlow]) async throws -> [(StoredFlow, ExperimentResult)] {
        let tested = flows.filter { !($0.published?.document.variants.isEmpty ?? true) }
        guard !tested.isEmpty else { return [] }
        let (from, to) = self.period(days: days)
        let counts = try await self.store.variantOutcomes(organizationID: organizationID, mode: mode, from: from, to: to)
        return tested.map { flow in
            let keys = flow.published?.document.variants.map(\.key) ?? []
            let variants = keys.map { key in
                // As the page's save rate: of those who decided; abandoned sessions are left out.
                let rows = counts.filter {
                    $0.flowID == flow.id && $0.version == flow.published?.version && $0.variant == key && $0.outcome != .abandoned
                }
                return VariantResult(
                    key: key, sessions: rows.map(\.count).reduce(0, +), saves: rows.filter { $0.outcome.isSave }.map(\.count).reduce(0, +))
            }
            return (flow, ExperimentResult(flowID: flow.id, variants: variants))
        }
    }

    static func cell(_ text: String) -> String {
        var value = text
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// ISO 8601 with milliseconds, UTC, as the API writes times.
enum Timestamp {
    static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!))
    }
}
