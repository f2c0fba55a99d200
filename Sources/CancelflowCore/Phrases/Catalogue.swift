import Foundation

/// The words of every page and email a customer sees, in each language we speak.
///
/// Written by hand as Swift dictionaries rather than Foundation string catalogues (`.xcstrings`,
/// `.stringsdict`): those need a resource bundle beside the binary, which `cancelflow` as one
/// self-contained file does not have, and their plural rules are not all available on Linux.
/// An organization may override any phrase per language (`FlowSettings.texts`), and a flow or
/// one of its variants again (`FlowDocument.texts`); `Phrases` applies them in that order.
public enum Catalogue {
    /// The languages we have phrases for; English is the reference and the last resort.
    public static let languages = ["en", "fr", "de", "es"]

    /// Every phrase key: what an organization's `texts` may override.
    public static let keys = Set(en.keys)

    /// The phrases of the pages a flow shows once it is chosen (survey, offers, confirmation,
    /// last page, a refused step's error, and the frame around them): what a flow's `texts` may
    /// override. The landing page (before a flow is chosen), the verification pages and the
    /// emails take the organization's wording only.
    public static let flowKeys = keys.filter { key in
        ["page.", "subscription.", "survey.", "offer.", "confirm.", "done.", "error."].contains { key.hasPrefix($0) }
    }

    static let tables: [String: [String: String]] = ["en": en, "fr": fr, "de": de, "es": es]

    /// A language's phrases (English for one we do not speak).
    public static func table(_ language: String) -> [String: String] {
        self.tables[language] ?? self.en
    }

    /// The `{placeholders}` a phrase uses; an override may use these and no others.
    public static func placeholders(_ text: String) -> Set<String> {
        var found = Set<String>()
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}") else { break }
            let name = after[..<close]
            if !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "_") }) { found.insert(String(name)) }
            rest = after[after.index(after: close)...]
        }
        return found
    }

    /// The CLDR plural category of a whole number: French counts 0 and 1 as `one`; English,
    /// German and Spanish only 1. (Spanish's `many`, for round millions, never applies to the
    /// months, days and tries counted here.)
    public static func pluralCategory(_ count: Int, language: String) -> String {
        switch language {
        case "fr": count == 0 || count == 1 ? "one" : "other"
        default: count == 1 ? "one" : "other"
        }
    }

    /// The standard survey reasons a new organization starts with, in every language: a
    /// default flow built from untouched settings speaks the customer's language.
    public static func standardReason(_ english: String) -> LocalizedText? {
        guard let index = FlowSettings.defaultReasons.firstIndex(of: english) else { return nil }
        var values = ["en": english]
        for (language, reasons) in Self.standardReasons { values[language] = reasons[index] }
        return LocalizedText(byLanguage: values)
    }

    /// `FlowSettings.defaultReasons`, in the same order.
    static let standardReasons: [String: [String]] = [
        "fr": [
            "C’est trop cher", "Je ne l’utilise pas assez", "Il manque des fonctionnalités dont j’ai besoin", "Je passe à un autre produit",
            "Problèmes techniques", "Autre chose",
        ],
        "de": [
            "Es ist zu teuer", "Ich nutze es zu wenig", "Mir fehlen Funktionen, die ich brauche", "Ich wechsle zu einem anderen Produkt",
            "Technische Probleme", "Etwas anderes",
        ],
        "es": [
            "Es demasiado caro", "No lo uso lo suficiente", "Le faltan funciones que necesito", "Me cambio a otro producto",
            "Problemas técnicos", "Otro motivo",
        ],
    ]
}

extension Catalogue {
    /// Every dotted beginning of a key (`offer`, `offer.pause`): what a template may name on
    /// its way to a phrase (`{{t.offer.pause.accept}}`).
    public static let prefixes: Set<String> = {
        var prefixes = Set<String>()
        for key in keys {
            var parts = key.split(separator: ".").dropLast()
            while !parts.isEmpty {
                prefixes.insert(parts.joined(separator: "."))
                parts = parts.dropLast()
            }
        }
        return prefixes
    }()
}
