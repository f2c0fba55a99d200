import Foundation

/// The phrases of one page or email: the catalogue's in the customer's language, with the
/// organization's and the flow's own wording laid over them, and the locale's ways of writing
/// dates, money and plurals.
public struct Phrases: Sendable {
    public let locale: PageLocale
    /// The organization's name, which every `{brand}` becomes.
    public let brand: String
    let table: [String: String]
    let formatting: Locale

    /// `overrides` are `texts` maps (language → key → text), the weakest first: the
    /// organization's, then the flow's, then its variant's.
    public init(_ locale: PageLocale, brand: String, overrides: [[String: [String: String]]] = []) {
        self.locale = locale
        self.brand = brand
        self.formatting = locale.foundationLocale
        var table = Catalogue.table(locale.language)
        // An override is for its language only: a French page never shows an English one.
        for texts in overrides {
            if let own = texts[locale.language] { table.merge(own) { $1 } }
        }
        self.table = table
    }

    /// The phrase, its placeholders filled (`{brand}` always); the key itself when no phrase
    /// has it, so a typo shows on the page rather than an empty space.
    public func callAsFunction(_ key: String, _ values: [String: String] = [:]) -> String {
        guard let text = self.table[key] ?? Catalogue.en[key] else { return key }
        return Self.fill(text, values, brand: self.brand)
    }

    /// A phrase with plural forms (`key.one`, `key.other`), chosen by `count`, which also
    /// fills `{count}`.
    public func plural(_ key: String, count: Int, _ values: [String: String] = [:]) -> String {
        var values = values
        values["count"] = String(count)
        return self("\(key).\(Catalogue.pluralCategory(count, language: self.locale.language))", values)
    }

    /// The phrase whose key names a plan when there is one (`key.plan`), else `key`.
    public func withPlan(_ key: String, plan: String?, _ values: [String: String] = [:]) -> String {
        guard let plan else { return self(key, values) }
        return self("\(key).plan", values.merging(["plan": plan]) { $1 })
    }

    /// A day as the locale writes it (`1 December 2026`, `1 décembre 2026`), in UTC: the
    /// billing provider's dates are instants, and the pages do not know the customer's zone.
    public func day(_ date: Date) -> String {
        date.formatted(Date.FormatStyle(date: .long, time: .omitted, locale: self.formatting, timeZone: Self.utc))
    }

    /// An amount in the currency's minor unit (cents; yen have none), as the locale writes it.
    public func money(_ amount: Int, currency: String) -> String {
        let code = currency.uppercased()
        let divisor: Decimal = Self.zeroDecimalCurrencies.contains(code) ? 1 : (Self.threeDecimalCurrencies.contains(code) ? 1000 : 100)
        let major = Decimal(amount) / divisor
        return major.formatted(.currency(code: code).locale(self.formatting))
    }

    /// A text of the merchant's (a reason's label, an offer's headline) in this language.
    public func text(_ text: LocalizedText) -> String {
        text.text(for: self.locale.tag)
    }

    static func fill(_ text: String, _ values: [String: String], brand: String) -> String {
        guard text.contains("{") else { return text }
        var result = ""
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}") else {
                rest = rest[open...]
                break
            }
            let name = String(after[..<close])
            if name == "brand" {
                result += brand
            } else if let value = values[name] {
                result += value
            } else {
                result += "{\(name)}"
            }
            rest = after[after.index(after: close)...]
        }
        return result + rest
    }

    static let utc = TimeZone(identifier: "UTC")!

    /// Currencies with three decimals (Stripe's list): 1000 minor units to the major one.
    static let threeDecimalCurrencies: Set<String> = ["BHD", "JOD", "KWD", "OMR", "TND"]

    /// Currencies whose amounts have no minor unit (Stripe's list).
    static let zeroDecimalCurrencies: Set<String> = [
        "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
    ]
}
