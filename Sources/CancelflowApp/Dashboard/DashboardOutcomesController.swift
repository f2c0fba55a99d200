import CancelflowCore
import Foundation
import Hummingbird

/// Outcomes: what the links did in a period, as figures, two SVG charts and a CSV export.
struct DashboardOutcomesController: Sendable {
    let outcomes: OutcomeService
    let organizations: OrganizationService
    let flows: FlowConfigService
    let audit: AuditService
    let pages: DashboardPages

    func addRoutes(to group: RouterGroup<DashboardRequestContext>) {
        for mode in Mode.allCases {
            let base = group.group(RouterPath(mode.rawValue))
            base.get("outcomes") { request, context in try await self.overview(request, context, mode: mode) }
            base.get("outcomes.csv") { request, context in try await self.export(request, context, mode: mode) }
        }
    }

    static func days(_ request: Request) -> Int {
        request.uri.queryParameters.get("days").flatMap(Int.init).flatMap { OutcomeService.periods.contains($0) ? $0 : nil } ?? 30
    }

    static let labels: [(FlowOutcome, String, String)] = [
        (.canceled, "Canceled", "#b91c1c"), (.paused, "Paused", "#2563eb"), (.discounted, "Discounted", "#7c3aed"),
        (.planChanged, "Plan changed", "#0e7490"), (.trialExtended, "Trial extended", "#a16207"), (.contacted, "Contacted support", "#4d7c0f"),
        (.redirected, "Redirected", "#6b7280"), (.kept, "Kept", "#15803d"), (.abandoned, "Abandoned", "#9ca3af"),
    ]

    func overview(_ request: Request, _ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.outcomes)
        let organization = try await self.organizations.organization(id: context.user.organizationID)
        let days = Self.days(request)
        let counts = try await self.outcomes.counts(organizationID: organization.id, mode: mode, days: days)
        let experiments = try await self.outcomes.experiments(
            organizationID: organization.id, mode: mode, days: days, flows: try await self.flows.flows(organizationID: organization.id))
        let base = "/dashboard/\(mode.rawValue)"
        return self.pages.render(
            "dash-outcomes",
            [
                "title": "Outcomes", "frame": self.pages.frame(context, organization: organization, mode: mode, section: "outcomes"),
                "modeName": mode.rawValue, "csvURL": "\(base)/outcomes.csv?days=\(days)",
                "periods": OutcomeService.periods.map { ["days": $0, "href": "\(base)/outcomes?days=\($0)", "current": $0 == days] },
                "minted": counts.linksMinted, "exchanged": counts.linksExchanged, "completed": counts.completed,
                "saveRate": counts.saveRate.map { String(format: "%.0f%%", $0 * 100) } ?? "—",
                "outcomes": Self.labels.map { ["label": $0.1, "count": counts.outcomes[$0.0] ?? 0] },
                "outcomeChart": SVGChart.bars(
                    Self.labels.map { ($0.1, counts.outcomes[$0.0] ?? 0, $0.2) }, title: "Flows by outcome, last \(days) days"),
                "dailyChart": SVGChart.daily(counts.daily, title: "Links minted and flows completed per day, last \(days) days"),
                "hasExperiments": !experiments.isEmpty,
                "experiments": experiments.map { flow, result in
                    [
                        "name": "\(flow.name), version \(flow.published?.version ?? 0)", "verdict": result.verdict,
                        "variants": result.variants.map { variant in
                            [
                                "key": variant.key, "sessions": variant.sessions, "saves": variant.saves,
                                "rate": variant.saveRate.map { String(format: "%.1f%%", $0 * 100) } ?? "—",
                                "interval": variant.interval.map { String(format: "%.1f–%.1f%%", $0.low * 100, $0.high * 100) } ?? "—",
                            ] as [String: Any]
                        },
                    ] as [String: Any]
                },
                "hasReasons": !counts.reasons.isEmpty,
                "reasons": counts.reasons.map { ["reason": $0.reason, "count": $0.count] },
                "hasComments": !counts.comments.isEmpty,
                "comments": counts.comments.map { ["comment": $0.comment, "reason": $0.reason ?? "No reason", "at": DashboardPages.time($0.at)] },
            ])
    }

    func export(_ request: Request, _ context: DashboardRequestContext, mode: Mode) async throws -> Response {
        try context.require(.outcomes)
        let organizationID = context.user.organizationID
        let days = Self.days(request)
        let csv = try await self.outcomes.csv(organizationID: organizationID, mode: mode, days: days)
        await self.audit.record(
            organizationID: organizationID, mode: mode, actor: context.actor, action: "outcomes.exported", detail: ["days": String(days)])
        var response = Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"flow-sessions-\(mode.rawValue)-last-\(days)-days.csv\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: csv)))
        DashboardSecurity.apply(to: &response)
        return response
    }
}

/// Charts drawn on the server as inline SVG: no script, no external library, nothing for the
/// CSP to allow. Colours and sizes are presentation attributes (not `style=`), so the pages'
/// `style-src 'self'` holds. Every chart has a table beside it with the same figures.
enum SVGChart {
    /// Horizontal bars, one per item.
    static func bars(_ items: [(label: String, value: Int, color: String)], title: String) -> String {
        let width = 640.0
        let labelWidth = 110.0
        let row = 30.0
        let height = row * Double(items.count) + 10
        let top = max(1, items.map(\.value).max() ?? 1)
        var out = svgOpen(width: width, height: height, title: title)
        for (index, item) in items.enumerated() {
            let y = 5 + row * Double(index)
            let length = (width - labelWidth - 60) * Double(item.value) / Double(top)
            out += ##"<text x="0" y="\##(y + 19)" font-size="14" fill="#374151">\##(escape(item.label))</text>"##
            out += ##"<rect x="\##(labelWidth)" y="\##(y + 4)" width="\##(format(length))" height="20" rx="3" fill="\##(item.color)"/>"##
            out += ##"<text x="\##(format(labelWidth + length + 6))" y="\##(y + 19)" font-size="14" fill="#111827">\##(item.value)</text>"##
        }
        return out + "</svg>"
    }

    /// Two bars a day: links minted and flows completed.
    static func daily(_ days: [(day: Date, minted: Int, completed: Int)], title: String) -> String {
        let width = 640.0
        let height = 200.0
        let bottom = height - 30
        let top = max(1, days.map { max($0.minted, $0.completed) }.max() ?? 1)
        let slot = (width - 40) / Double(max(days.count, 1))
        let bar = max(1, slot / 2 - 1)
        var out = svgOpen(width: width, height: height, title: title)
        out += ##"<line x1="40" y1="\##(bottom)" x2="\##(width)" y2="\##(bottom)" stroke="#d1d5db"/>"##
        out +=
            ##"<text x="0" y="16" font-size="12" fill="#6b7280">\##(top)</text><text x="0" y="\##(bottom)" font-size="12" fill="#6b7280">0</text>"##
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "d MMM"
        for (index, day) in days.enumerated() {
            let x = 40 + slot * Double(index)
            let minted = (bottom - 10) * Double(day.minted) / Double(top)
            let completed = (bottom - 10) * Double(day.completed) / Double(top)
            out +=
                ##"<rect x="\##(format(x))" y="\##(format(bottom - minted))" width="\##(format(bar))" height="\##(format(minted))" fill="#4f46e5"><title>\##(formatter.string(from: day.day)): \##(day.minted) minted</title></rect>"##
            out +=
                ##"<rect x="\##(format(x + bar))" y="\##(format(bottom - completed))" width="\##(format(bar))" height="\##(format(completed))" fill="#15803d"><title>\##(formatter.string(from: day.day)): \##(day.completed) completed</title></rect>"##
            if index == 0 || index == days.count - 1 || (days.count > 10 && index % (days.count / 5) == 0) {
                out += ##"<text x="\##(format(x))" y="\##(bottom + 18)" font-size="11" fill="#6b7280">\##(formatter.string(from: day.day))</text>"##
            }
        }
        out +=
            ##"<rect x="\##(width - 230)" y="4" width="10" height="10" fill="#4f46e5"/><text x="\##(width - 215)" y="13" font-size="12" fill="#374151">links minted</text>"##
        out +=
            ##"<rect x="\##(width - 130)" y="4" width="10" height="10" fill="#15803d"/><text x="\##(width - 115)" y="13" font-size="12" fill="#374151">flows completed</text>"##
        return out + "</svg>"
    }

    static func svgOpen(width: Double, height: Double, title: String) -> String {
        ##"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \##(format(width)) \##(format(height))" role="img" aria-label="\##(escape(title))"><title>\##(escape(title))</title>"##
    }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    /// Text for SVG (XML): the five characters that could end an element or attribute.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
    }
}
