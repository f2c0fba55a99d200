import Foundation

/// The language a page or email is written in: one we have phrases for (`language`), and the
/// tag as the customer's side gave it (`tag`, e.g. `fr-CA`), whose region shapes dates and money.
public struct PageLocale: Sendable, Equatable {
    /// `en`, `fr`, `de` or `es`.
    public let language: String
    /// The tag as given, normalised (`fr-CA`, `de`).
    public let tag: String

    public static let english = PageLocale(language: "en", tag: "en")

    /// The tag, when its language is one we speak (`de-AT` → `de`, `it` → nil).
    public static func supported(_ tag: String?) -> PageLocale? {
        guard let tag, tag.utf8.count <= 35, Check.isLanguageTag(tag) else { return nil }
        let parts = tag.split(separator: "-").map(String.init)
        let language = parts[0].lowercased()
        guard Catalogue.languages.contains(language) else { return nil }
        // Case as BCP 47 writes it: language lower, script title, region upper.
        let rest = parts.dropFirst().map { $0.count == 4 ? $0.prefix(1).uppercased() + $0.dropFirst().lowercased() : $0.uppercased() }
        return PageLocale(language: language, tag: ([language] + rest).joined(separator: "-"))
    }

    /// The first language of an `Accept-Language` header we speak, by the browser's order of
    /// preference (its `q` weights; equal weights keep the header's order). Written by hand:
    /// Foundation has no parser for the header, and it is a few lines.
    public static func preferred(acceptLanguage header: String?) -> PageLocale? {
        guard let header, !header.isEmpty else { return nil }
        var ranked: [(tag: String, q: Double, position: Int)] = []
        for (position, item) in header.split(separator: ",").prefix(20).enumerated() {
            let fields = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = fields.first, !tag.isEmpty, tag != "*" else { continue }
            var q = 1.0
            for field in fields.dropFirst() where field.lowercased().hasPrefix("q=") {
                q = Double(field.dropFirst(2)) ?? 0
            }
            if q > 0 { ranked.append((tag, q, position)) }
        }
        ranked.sort { $0.q != $1.q ? $0.q > $1.q : $0.position < $1.position }
        return ranked.lazy.compactMap { Self.supported($0.tag) }.first
    }

    /// The language for a customer: the link's (or session's) locale, else the browser's,
    /// else the organization's default, else English. Each is skipped when it names a
    /// language we do not speak.
    public static func choose(given: String?, acceptLanguage: String?, organizationDefault: String?) -> PageLocale {
        Self.supported(given) ?? Self.preferred(acceptLanguage: acceptLanguage) ?? Self.supported(organizationDefault) ?? .english
    }

    /// The Foundation locale dates and money are written in. A bare `en` reads dates
    /// day-month-year (`1 December 2026`), which no English reader misreads; `en-US` gets
    /// the American order.
    public var foundationLocale: Locale {
        if self.tag.contains("-") { return Locale(identifier: self.tag.replacingOccurrences(of: "-", with: "_")) }
        switch self.language {
        case "en": return Locale(identifier: "en_GB")
        case "es": return Locale(identifier: "es_ES")
        default: return Locale(identifier: self.language)
        }
    }
}
