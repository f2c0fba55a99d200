import CancelflowCore
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// What every dashboard page shares: the templates, the security headers, the frame around a
/// signed-in page, and the answers that end a request early (sign in first, form expired).
struct DashboardPages: Sendable {
    let library: MustacheLibrary
    let security: DashboardSecurity

    /// The navigation: each section, the permission it needs, and its path under the mode.
    static let sections: [(id: String, label: String, path: String, permission: DashboardPermission)] = [
        ("customers", "Customers", "customers", .customers),
        ("outcomes", "Outcomes", "outcomes", .outcomes),
        ("webhooks", "Webhooks", "webhooks", .webhooks),
        ("flows", "Flows", "flows", .settings),
        ("hosted", "Hosted setup", "hosted/setup", .settings),
        ("keys", "API keys", "settings/keys", .keys),
        ("billing", "Billing provider", "settings/billing", .keys),
        ("audit", "Audit log", "audit", .audit),
        ("team", "Team", "team", .team),
    ]

    /// The values the signed-in layout needs. `section` is the navigation entry to mark, and
    /// where the mode switch leads (the same section in the other mode).
    func frame(_ context: DashboardRequestContext, organization: Organization, mode: Mode, section: String) -> [String: Any] {
        let path = Self.sections.first { $0.id == section }?.path ?? (section == "account" ? "account" : "customers")
        return [
            "orgName": organization.name,
            "userLabel": context.user.label,
            "roleName": context.user.role.displayName,
            "csrf": self.security.csrf(sessionID: context.session.id),
            // For the forms that make something: see `FormOnce`.
            "nonce": FormOnce.nonce(),
            "base": "/dashboard/\(mode.rawValue)",
            "testMode": mode == .test,
            "testURL": "/dashboard/test/\(path)",
            "liveURL": "/dashboard/live/\(path)",
            "nav": Self.sections.filter { context.user.role.allows($0.permission) }.map { entry -> [String: Any] in
                ["label": entry.label, "href": "/dashboard/\(mode.rawValue)/\(entry.path)", "current": entry.id == section]
            },
        ]
    }

    func render(_ template: String, _ values: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let html = self.library.render(Self.clean(values), withTemplate: template) ?? ""
        var response = Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
        DashboardSecurity.apply(to: &response)
        return response
    }

    /// The view without its absent values: an `Optional.none` boxed in `Any` is not nil to
    /// Mustache's lookup (a section would render, and a variable print "nil"), so views may
    /// hold optionals freely and they are dropped here, in nested views and lists too, as are
    /// empty strings (a section over one would render).
    static func clean(_ values: [String: Any]) -> [String: Any] {
        values.compactMapValues { Self.clean(value: $0) }
    }

    static func clean(value: Any) -> Any? {
        // An empty string is a present value to Mustache ({{#x}} renders); absent is what pages mean.
        if let text = value as? String, text.isEmpty { return nil }
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return Self.clean(value: wrapped)
        }
        if let dictionary = value as? [String: Any] { return Self.clean(dictionary) }
        if let list = value as? [[String: Any]] { return list.map { Self.clean($0) } }
        return value
    }

    static func redirect(_ location: String) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location])
        DashboardSecurity.apply(to: &response)
        return response
    }

    /// To the sign-in page, coming back here afterwards (for a GET).
    func signInRedirect(from request: Request) -> Response {
        guard request.method == .get, let next = Self.safeNext(request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")) else {
            return Self.redirect("/dashboard/login")
        }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return Self.redirect("/dashboard/login?next=" + (next.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""))
    }

    /// Where sign-in may send a browser afterwards: a dashboard path of this service only, never
    /// another host (`//evil.example`, `/\\evil.example`) — an open redirect would lend the
    /// service's name to phishing.
    static func safeNext(_ next: String?) -> String? {
        guard let next, next.hasPrefix("/dashboard/"), next.utf8.count <= 512, !next.contains("//"), !next.contains("\\"),
            InputText.isAcceptable(next), !next.hasPrefix("/dashboard/login"), !next.hasPrefix("/dashboard/logout")
        else { return nil }
        return next
    }

    /// The answer to a form that was already submitted (see `FormOnce`).
    func alreadySubmitted(_ frame: [String: Any], backURL: String) -> Response {
        self.render(
            "dash-message",
            [
                "title": "Already submitted", "frame": frame, "heading": "This form was already submitted",
                "message": "It was done once; submitting it again changes nothing. Anything it showed once is not shown again.",
                "linkURL": backURL, "linkText": "Back",
            ], status: .conflict)
    }

    func formExpired() -> Response {
        self.render(
            "dash-public-message",
            [
                "title": "Please try again", "heading": "Please try again",
                "message": "This form was open for too long, or in another browser. Go back, reload the page and submit it again.",
                "linkURL": "/dashboard", "linkText": "Go to the dashboard",
            ], status: .forbidden)
    }

    /// A date as pages show it: `30 Nov 2026, 14:05 UTC`.
    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "d MMM yyyy, HH:mm 'UTC'"
        return formatter.string(from: date)
    }

    /// `1 hour`, `6 hours`, `3 days`.
    static func duration(_ seconds: TimeInterval) -> String {
        guard seconds.isFinite, abs(seconds) < 1e9 else { return "—" }
        let seconds = Int(seconds)
        if seconds % 86400 == 0 { return seconds == 86400 ? "24 hours" : "\(seconds / 86400) days" }
        if seconds % 3600 == 0 { return seconds == 3600 ? "1 hour" : "\(seconds / 3600) hours" }
        return "\(seconds / 60) minutes"
    }
}
