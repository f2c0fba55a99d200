import CancelflowCore
import HTTPTypes
import Hummingbird
import Mustache

/// `{{t.landing.title}}` in a template: the phrase in the page's language. Each name of the
/// path is looked up in turn (`t` → `landing` → `title`); a name that leads to no phrase is
/// missing, so a typo renders as nothing and the template tests, which check every `{{t.…}}`
/// against the catalogue, catch it.
struct PhraseView: MustacheParent {
    let phrases: Phrases
    var prefix = ""

    func child(named: String) -> Any? {
        let key = self.prefix.isEmpty ? named : "\(self.prefix).\(named)"
        if Catalogue.keys.contains(key) { return self.phrases(key) }
        if Catalogue.prefixes.contains(key) { return PhraseView(phrases: self.phrases, prefix: key) }
        return nil
    }
}

/// A page's or email's view with its language: `t` (the phrases) and `lang` (for
/// `<html lang>`) at the root of every template, the view's own names below.
struct Localized<View: MustacheParent>: MustacheParent {
    let view: View
    let phrases: Phrases

    func child(named: String) -> Any? {
        switch named {
        case "t": PhraseView(phrases: self.phrases)
        case "lang": self.phrases.locale.tag
        default: self.view.child(named: named)
        }
    }
}

extension Pages {
    /// The phrases for a page: in the language given (a link's or session's), else the one the
    /// browser prefers, else the organization's default; with the organization's and then the
    /// flow's own wording over the catalogue's.
    static func phrases(
        _ request: Request?, given: String? = nil, brand: String, settings: FlowSettings?, flow: FlowContent? = nil
    ) -> Phrases {
        let locale = PageLocale.choose(
            given: given, acceptLanguage: request?.headers[.acceptLanguage], organizationDefault: settings?.defaultLocale)
        var overrides: [[String: [String: String]]] = []
        if let texts = settings?.texts, !texts.isEmpty { overrides.append(texts) }
        if let texts = flow?.texts, !texts.isEmpty { overrides.append(texts) }
        return Phrases(locale, brand: brand, overrides: overrides)
    }

    /// The phrases of a page that cannot say whose it is: the browser's language, our words.
    static func phrases(_ request: Request?) -> Phrases {
        Self.phrases(request, brand: BrandView.plain.name, settings: nil)
    }

    /// What a refused step says, in the page's language: the phrase for the error's code when
    /// there is one, else the error's own message.
    /// A provider's failure says only that nothing changed: its details are for the logs.
    static func message(for error: CancelflowError, _ t: Phrases) -> String {
        switch error.code {
        case "billing_provider_unconfirmed": return t("error.provider_unconfirmed")
        case "action_in_progress": return t("error.in_progress")
        case "email_invalid": return t("verify.email_invalid")
        default: break
        }
        if Catalogue.keys.contains("error.\(error.code)") { return t("error.\(error.code)") }
        return error.kind == .upstream ? t("error.provider_failed") : error.message
    }
}
