import CancelflowCore
import Foundation
import Testing

/// The phrase catalogue and how a language is chosen and written: every language complete,
/// the browser's preferences honoured, dates, money and plurals as each locale writes them.
struct PhrasesTests {
    /// Spaces as typed: formatters put narrow or non-breaking spaces in money and dates.
    static func plain(_ text: String) -> String {
        text.replacingOccurrences(of: "\u{202F}", with: " ").replacingOccurrences(of: "\u{00A0}", with: " ")
    }

    @Test(arguments: ["fr", "de", "es"])
    func everyLanguageHasEveryPhraseWithTheSamePlaceholders(language: String) {
        let table = Catalogue.table(language)
        #expect(Set(table.keys) == Catalogue.keys, "missing: \(Catalogue.keys.subtracting(table.keys).sorted())")
        for (key, english) in Catalogue.table("en") {
            let text = table[key] ?? ""
            #expect(!text.trimmingCharacters(in: CharacterSet.whitespaces).isEmpty, "\(language) \(key) is empty")
            #expect(Catalogue.placeholders(text) == Catalogue.placeholders(english), "\(language) \(key): \(text)")
        }
        // Translated, not copied: most phrases differ from the English.
        let same = Catalogue.keys.filter { table[$0] == Catalogue.table("en")[$0] }
        #expect(same.count < 5, "\(language) copies \(same.sorted())")
    }

    @Test func pluralPhrasesComeInPairs() {
        for key in Catalogue.keys where key.hasSuffix(".one") {
            #expect(Catalogue.keys.contains(String(key.dropLast(4)) + ".other"), "\(key) has no .other")
        }
    }

    @Test func pluralsFollowEachLanguagesRule() {
        #expect(Catalogue.pluralCategory(0, language: "fr") == "one")
        #expect(Catalogue.pluralCategory(1, language: "fr") == "one")
        #expect(Catalogue.pluralCategory(2, language: "fr") == "other")
        #expect(Catalogue.pluralCategory(0, language: "en") == "other")
        #expect(Catalogue.pluralCategory(1, language: "de") == "one")
        let english = Phrases(.english, brand: "Acme")
        #expect(english.plural("offer.pause.headline", count: 1) == "Pause for 1 month instead?")
        #expect(english.plural("offer.pause.headline", count: 3) == "Pause for 3 months instead?")
        let french = Phrases(PageLocale.supported("fr")!, brand: "Acme")
        #expect(french.plural("code.wrong", count: 0) == french("code.wrong.one", ["count": "0"]))
        #expect(french.plural("code.wrong", count: 2) == french("code.wrong.other", ["count": "2"]))
        #expect(french("code.wrong.one", ["count": "0"]) != french("code.wrong.other", ["count": "0"]))
    }

    @Test func theBrowsersPreferenceIsReadByWeightAndOrder() {
        #expect(PageLocale.preferred(acceptLanguage: "de-CH;q=0.5, fr;q=0.9, it")?.tag == "fr")
        #expect(PageLocale.preferred(acceptLanguage: "en-US,en;q=0.9")?.tag == "en-US")
        #expect(PageLocale.preferred(acceptLanguage: "it, pt-BR;q=0.8, es-mx;q=0.7")?.tag == "es-MX")
        // Equal weights keep the header's order; a zero weight means "not this one".
        #expect(PageLocale.preferred(acceptLanguage: "es, de")?.language == "es")
        #expect(PageLocale.preferred(acceptLanguage: "fr;q=0, de;q=0.1")?.language == "de")
        for header in ["", "*", "it, ja", "fr;q=0", ";;;,,,", "x" + String(repeating: "-abcdefghi", count: 10), "fr-", "français"] {
            #expect(PageLocale.preferred(acceptLanguage: header) == nil, "\(header)")
        }
    }

    @Test func theLinkThenTheBrowserThenTheOrganizationDecide() {
        #expect(PageLocale.choose(given: "de-AT", acceptLanguage: "fr", organizationDefault: "es").tag == "de-AT")
        // A language we do not speak is passed over, not obeyed.
        #expect(PageLocale.choose(given: "it", acceptLanguage: "fr", organizationDefault: "es").tag == "fr")
        #expect(PageLocale.choose(given: nil, acceptLanguage: "ja", organizationDefault: "es").tag == "es")
        #expect(PageLocale.choose(given: nil, acceptLanguage: nil, organizationDefault: nil) == .english)
        #expect(PageLocale.supported("FR-ca")?.tag == "fr-CA")
        #expect(PageLocale.supported("zh-hant-tw") == nil)
        #expect(PageLocale.supported("de-latn-de")?.tag == "de-Latn-DE")
    }

    @Test func datesAndMoneyAreWrittenAsTheLocaleWritesThem() throws {
        let day = try #require(ISO8601DateFormatter().date(from: "2026-12-01T12:00:00Z"))
        let cases: [(String, String, String)] = [
            ("en", "1 December 2026", "€12.99"),
            ("en-US", "December 1, 2026", "€12.99"),
            ("fr", "1 décembre 2026", "12,99 €"),
            ("de", "1. Dezember 2026", "12,99 €"),
            ("es", "1 de diciembre de 2026", "12,99 €"),
        ]
        for (tag, date, money) in cases {
            let t = Phrases(try #require(PageLocale.supported(tag)), brand: "Acme")
            #expect(Self.plain(t.day(day)) == date, "\(tag)")
            #expect(Self.plain(t.money(1299, currency: "eur")) == money, "\(tag)")
        }
        // Yen have no minor unit: 1200 is ¥1,200, not ¥12.
        let english = Phrases(.english, brand: "Acme")
        #expect(Self.plain(english.money(1200, currency: "JPY")).contains("1,200"), "\(english.money(1200, currency: "JPY"))")
    }

    @Test func theFlowsWordsBeatTheOrganizationsWhichBeatTheCatalogues() {
        let french = PageLocale.supported("fr")!
        let organization = ["fr": ["landing.title": "Résilier chez {brand}", "survey.intro": "Dites-nous tout"], "de": ["page.keep": "Bleiben"]]
        let flow = ["fr": ["survey.intro": "Un mot ?"]]
        let t = Phrases(french, brand: "Acme", overrides: [organization, flow])
        #expect(t("landing.title") == "Résilier chez Acme")
        #expect(t("survey.intro") == "Un mot ?")
        #expect(t("page.keep") == Catalogue.table("fr")["page.keep"], "another language's override is not used")
        #expect(t("no.such.phrase") == "no.such.phrase")
        // Values are filled in one pass: a customer named "{brand}" stays so.
        #expect(t("email.hi", ["name": "{brand}"]).contains("{brand}") && !t("email.hi", ["name": "{brand}"]).contains("Acme"))
    }

    @Test func overridesAreCheckedByLanguagePhraseAndPlaceholder() throws {
        var settings = FlowSettings.defaults
        settings.texts = ["fr": ["landing.title": "Résilier chez {brand}"]]
        #expect(try settings.validated().texts == settings.texts)
        let refusals: [([String: [String: String]], String)] = [
            (["it": ["landing.title": "Annulla"]], "texts.it"),
            (["fr-CA": ["landing.title": "Annuler"]], "texts.fr-CA"),
            (["fr": ["landing.tilte": "Résilier"]], "texts.fr.landing.tilte"),
            (["fr": ["landing.title": "Résilier {plan}"]], "texts.fr.landing.title"),
            (["fr": ["landing.title": "  "]], "texts.fr.landing.title"),
        ]
        for (texts, param) in refusals {
            settings.texts = texts
            #expect(throws: CancelflowError.self, "\(texts)") { try settings.validated() }
            do { _ = try settings.validated() } catch let error as CancelflowError { #expect(error.param == param, "\(error)") }
        }
        settings.texts = [:]
        settings.defaultLocale = "it"
        #expect(throws: CancelflowError.self) { try settings.validated() }
        settings.defaultLocale = "de-at"
        #expect(try settings.validated().defaultLocale == "de-AT")
    }

    @Test func theStandardReasonsSpeakEveryLanguage() throws {
        let document = FlowDocument(legacy: .defaults)
        let first = try #require(document.survey.reasons.first)
        #expect(first.label.text(for: "en") == "It's too expensive")
        #expect(first.label.text(for: "fr-CA") != first.label.text(for: "en"))
        #expect(first.label.text(for: "de") != first.label.text(for: "en"))
        // A reason of the merchant's own stays as written.
        var settings = FlowSettings.defaults
        settings.surveyReasons = ["Too pricey"]
        #expect(FlowDocument(legacy: settings).survey.reasons.first?.label.text(for: "fr") == "Too pricey")
    }
}
