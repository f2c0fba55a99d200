import Foundation

extension FlowDocument {
    /// Limits a document is held to, so one organization's flows stay small enough to cache
    /// and to render on every page.
    public enum Limits {
        public static let reasons = 1...12
        public static let offers = 0...10
        public static let variants = 2...5
        public static let plans = 1...5
        public static let attributes = 1...20
        public static let attributeValues = 1...50
    }

    /// The document checked and tidied (text trimmed), or a 400 naming the field at fault by
    /// its path (`variants[1].survey.reasons[0].offer`). `phraseKeys` are the phrases `texts`
    /// may override.
    public func validated(phraseKeys: Set<String>) throws -> FlowDocument {
        var copy = self
        copy.name = try Check.line(self.name, "name", maximum: 80)
        if let targeting {
            try Check.targeting(targeting)
        }
        for (type, days) in self.cooldownDays {
            guard OfferType(rawValue: type) != nil else {
                throw Check.fail(
                    "cooldownDays.\(type)", "cooldownDays keys are offer types: \(OfferType.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            guard (0...3650).contains(days) else { throw Check.fail("cooldownDays.\(type)", "A cooldown is 0 to 3650 days.") }
        }
        copy.texts = try Check.texts(self.texts, "texts", phraseKeys: phraseKeys)
        let content = try Check.content(
            survey: self.survey, offers: self.offers, fallbackOffer: self.fallbackOffer, path: "", phraseKeys: phraseKeys)
        copy.survey = content.survey
        copy.offers = content.offers
        if !self.variants.isEmpty {
            guard Limits.variants.contains(self.variants.count) else {
                throw Check.fail("variants", "A test has 2 to 5 variants; leave variants out to test nothing.")
            }
            var keys = Set<String>()
            for (index, variant) in self.variants.enumerated() {
                let path = "variants[\(index)]"
                guard Check.isIdentifier(variant.key, maximum: 20, extra: "-"), keys.insert(variant.key).inserted else {
                    throw Check.fail("\(path).key", "Variant keys are distinct, 1 to 20 of a-z, 0-9, _ and -.")
                }
                guard (1...99).contains(variant.weight) else { throw Check.fail("\(path).weight", "A variant's weight is 1 to 99 (percent).") }
                let offers = variant.offers ?? self.offers
                let checked = try Check.content(
                    survey: variant.survey ?? self.survey, offers: offers,
                    fallbackOffer: variant.offers != nil ? variant.fallbackOffer : (variant.fallbackOffer ?? self.fallbackOffer), path: path + ".",
                    phraseKeys: phraseKeys, ownSurvey: variant.survey != nil, ownOffers: variant.offers != nil)
                if variant.survey != nil { copy.variants[index].survey = checked.survey }
                if variant.offers != nil { copy.variants[index].offers = checked.offers }
                if let texts = variant.texts { copy.variants[index].texts = try Check.texts(texts, "\(path).texts", phraseKeys: phraseKeys) }
            }
            guard self.variants.map(\.weight).reduce(0, +) == 100 else {
                throw Check.fail("variants", "The variants' weights must add up to 100.")
            }
        }
        return copy
    }
}

/// The checks, each naming its field.
enum Check {
    /// `{date}, {plan}`, or `none` for a phrase without placeholders.
    static func listed(_ names: Set<String>) -> String {
        names.isEmpty ? "none" : names.sorted().map { "{\($0)}" }.joined(separator: ", ")
    }

    static func fail(_ param: String, _ message: String) -> CancelflowError {
        .invalid("flow_invalid", message, param: param)
    }

    static func line(_ text: String, _ param: String, maximum: Int) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= maximum, InputText.isAcceptable(trimmed) else {
            throw Self.fail(param, "\(param) must be 1 to \(maximum) characters of text.")
        }
        return trimmed
    }

    static func isIdentifier(_ text: String, maximum: Int, extra: String = "") -> Bool {
        !text.isEmpty && text.count <= maximum
            && text.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || extra.unicodeScalars.contains($0)
            }
    }

    /// A BCP 47 language tag of the simple kind pages use: `fr`, `de-DE`, `pt-BR`, `zh-Hant`.
    static func isLanguageTag(_ tag: String) -> Bool {
        let parts = tag.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, (2...3).contains(first.count), first.allSatisfy({ $0.isASCII && $0.isLetter }), parts.count <= 3 else {
            return false
        }
        return parts.dropFirst().allSatisfy { (2...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
    }

    static func localized(_ text: LocalizedText, _ param: String, maximum: Int) throws -> LocalizedText {
        guard !text.values.isEmpty, text.values.count <= 20 else { throw Self.fail(param, "\(param) needs a text, or at most 20 languages.") }
        guard Set(text.values.keys.map { $0.lowercased() }).count == text.values.count else {
            throw Self.fail(param, "\(param) names a language twice (tags are compared ignoring case).")
        }
        var values: [String: String] = [:]
        for (language, value) in text.values {
            guard language.isEmpty || Self.isLanguageTag(language) else {
                throw Self.fail("\(param).\(language)", "\(language) is not a language tag such as fr or de-DE.")
            }
            values[language] = try Self.line(value, language.isEmpty ? param : "\(param).\(language)", maximum: maximum)
        }
        return LocalizedText(byLanguage: values)
    }

    static func texts(_ texts: [String: [String: String]], _ param: String, phraseKeys: Set<String>) throws -> [String: [String: String]] {
        var result: [String: [String: String]] = [:]
        for (language, phrases) in texts {
            guard Catalogue.languages.contains(language) else {
                throw Self.fail(
                    "\(param).\(language)", "Texts are given per language: \(Catalogue.languages.joined(separator: ", ")) (lower case, no region).")
            }
            for (key, value) in phrases {
                let path = "\(param).\(language).\(key)"
                guard phraseKeys.contains(key), let standard = Catalogue.en[key] else {
                    guard Catalogue.keys.contains(key) else { throw Self.fail(path, "\(key) is not a phrase the pages use.") }
                    throw Self.fail(
                        path,
                        "\(key) is the organization's wording (dashboard Hosted → Wording): a flow's texts cover its survey, offers, confirmation and last page."
                    )
                }
                // A placeholder the phrase does not fill would reach the customer as `{typo}`;
                // `{brand}`, the organization's name, is filled everywhere.
                let allowed = Catalogue.placeholders(standard).union(["brand"])
                let unknown = Catalogue.placeholders(value).subtracting(allowed)
                guard unknown.isEmpty else {
                    throw Self.fail(path, "{\(unknown.sorted()[0])} is not a placeholder of \(key); it may use \(Self.listed(allowed)).")
                }
                result[language, default: [:]][key] = try Self.line(value, path, maximum: 500)
            }
        }
        return result
    }

    static func targeting(_ targeting: FlowTargeting) throws {
        let path = "targeting"
        guard targeting != FlowTargeting() else {
            throw Self.fail(path, "Give at least one condition, or leave targeting out on the default flow.")
        }
        if let plans = targeting.plans {
            guard (1...50).contains(plans.count), plans.allSatisfy({ !$0.isEmpty && $0.count <= 200 && InputText.isAcceptable($0) }) else {
                throw Self.fail("\(path).plans", "List 1 to 50 plan ids or names.")
            }
        }
        if let intervals = targeting.intervals, intervals.isEmpty {
            throw Self.fail("\(path).intervals", "List at least one interval.")
        }
        for (key, value) in [("minTenureDays", targeting.minTenureDays), ("maxTenureDays", targeting.maxTenureDays)] {
            if let value, !(0...36500).contains(value) { throw Self.fail("\(path).\(key)", "\(key) is 0 to 36500.") }
        }
        if let minimum = targeting.minTenureDays, let maximum = targeting.maxTenureDays, minimum >= maximum {
            throw Self.fail("\(path).maxTenureDays", "maxTenureDays must be more than minTenureDays.")
        }
        if let attributes = targeting.attributes {
            guard FlowDocument.Limits.attributes.contains(attributes.count) else {
                throw Self.fail("\(path).attributes", "Target 1 to 20 attributes.")
            }
            for (key, values) in attributes {
                guard Attributes.isKey(key) else { throw Self.fail("\(path).attributes.\(key)", Attributes.keyRule) }
                guard FlowDocument.Limits.attributeValues.contains(values.count), values.allSatisfy(Attributes.isValue) else {
                    throw Self.fail("\(path).attributes.\(key)", "List 1 to 50 values of at most 200 characters.")
                }
            }
        }
    }

    static func content(
        survey: FlowSurvey, offers: [FlowOffer], fallbackOffer: String?, path: String, phraseKeys: Set<String>, ownSurvey: Bool = true,
        ownOffers: Bool = true
    ) throws -> (survey: FlowSurvey, offers: [FlowOffer]) {
        var survey = survey
        var offers = offers
        let surveyPath = ownSurvey ? "\(path)survey" : "survey"
        let offersPath = ownOffers ? "\(path)offers" : "offers"
        if let question = survey.question { survey.question = try Self.localized(question, "\(surveyPath).question", maximum: 200) }
        guard FlowDocument.Limits.reasons.contains(survey.reasons.count) else {
            throw Self.fail("\(surveyPath).reasons", "Give 1 to 12 survey reasons.")
        }
        guard FlowDocument.Limits.offers.contains(offers.count) else { throw Self.fail(offersPath, "A flow has at most 10 offers.") }
        var offerIDs = Set<String>()
        for (index, offer) in offers.enumerated() {
            let param = "\(offersPath)[\(index)]"
            guard Self.isIdentifier(offer.id, maximum: 40), offer.id != FlowReason.noOffer, offerIDs.insert(offer.id).inserted else {
                throw Self.fail("\(param).id", "Offer ids are distinct, 1 to 40 of a-z, 0-9 and _, and not \"none\".")
            }
            offers[index] = try Self.offer(offer, param)
        }
        var reasonIDs = Set<String>()
        for (index, reason) in survey.reasons.enumerated() {
            let param = "\(surveyPath).reasons[\(index)]"
            guard Self.isIdentifier(reason.id, maximum: 40), reasonIDs.insert(reason.id).inserted else {
                throw Self.fail("\(param).id", "Reason ids are distinct, 1 to 40 of a-z, 0-9 and _.")
            }
            survey.reasons[index].label = try Self.localized(reason.label, "\(param).label", maximum: 120)
            if let offer = reason.offer, offer != FlowReason.noOffer, !offerIDs.contains(offer) {
                throw Self.fail("\(param).offer", "\(offer) is not one of the offers' ids (or none).")
            }
        }
        if let fallbackOffer, !offerIDs.contains(fallbackOffer) {
            throw Self.fail("\(path)fallbackOffer", "\(fallbackOffer) is not one of the offers' ids.")
        }
        return (survey, offers)
    }

    static func offer(_ offer: FlowOffer, _ param: String) throws -> FlowOffer {
        var offer = offer
        /// Only the fields the type uses may be given, so that a mistaken type is caught.
        let given: [(String, Bool)] = [
            ("percent", offer.percent != nil), ("months", offer.months != nil), ("plans", offer.plans != nil), ("days", offer.days != nil),
            ("email", offer.email != nil), ("url", offer.url != nil),
        ]
        let uses: Set<String> =
            switch offer.type {
            case .pause: ["months"]
            case .discount: ["percent", "months"]
            case .planChange: ["plans"]
            case .trialExtension: ["days"]
            case .contact: ["email", "url"]
            case .redirect: ["url"]
            }
        if let extra = given.first(where: { $0.1 && !uses.contains($0.0) }) {
            throw Self.fail("\(param).\(extra.0)", "A \(offer.type.rawValue) offer has no \(extra.0).")
        }
        switch offer.type {
        case .pause:
            guard let months = offer.months, (1...12).contains(months) else { throw Self.fail("\(param).months", "A pause is 1 to 12 months.") }
        case .discount:
            guard let percent = offer.percent, (1...100).contains(percent) else {
                throw Self.fail("\(param).percent", "A discount is 1 to 100 percent.")
            }
            guard let months = offer.months, (1...36).contains(months) else {
                throw Self.fail("\(param).months", "A discount lasts 1 to 36 months.")
            }
        case .planChange:
            let plans = offer.plans ?? []
            guard FlowDocument.Limits.plans.contains(plans.count) else { throw Self.fail("\(param).plans", "List 1 to 5 plans.") }
            var ids = Set<String>()
            for (index, plan) in plans.enumerated() {
                let planParam = "\(param).plans[\(index)]"
                guard ids.insert(plan.id).inserted else { throw Self.fail("\(planParam).id", "Plan ids are distinct.") }
                offer.plans?[index].id = try Self.line(plan.id, "\(planParam).id", maximum: 200)
                offer.plans?[index].name = try Self.localized(plan.name, "\(planParam).name", maximum: 120)
                if let amount = plan.amount, !(0...100_000_000).contains(amount) {
                    throw Self.fail("\(planParam).amount", "amount is in minor units, 0 to 100000000.")
                }
                if let currency = plan.currency {
                    guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                        throw Self.fail("\(planParam).currency", "currency is a three-letter ISO 4217 code.")
                    }
                    offer.plans?[index].currency = currency.lowercased()
                }
                if (plan.amount == nil) != (plan.currency == nil) {
                    throw Self.fail("\(planParam).currency", "Give amount and currency together, or neither.")
                }
            }
        case .trialExtension:
            guard let days = offer.days, (1...365).contains(days) else { throw Self.fail("\(param).days", "An extension is 1 to 365 days.") }
        case .contact:
            guard offer.email != nil || offer.url != nil else { throw Self.fail("\(param).email", "A contact offer needs an email or a url.") }
            if let email = offer.email {
                guard email.utf8.count <= 254, InputText.isAcceptable(email), CustomerService.looksLikeEmail(email) else {
                    throw Self.fail("\(param).email", "email must be an email address.")
                }
            }
        case .redirect:
            guard offer.url != nil else { throw Self.fail("\(param).url", "A redirect offer needs a url.") }
        }
        if let url = offer.url {
            guard let parsed = StrictURL.parse(url), parsed.scheme == "https" else {
                throw Self.fail("\(param).url", "url must be an https URL.")
            }
            offer.url = parsed.text
        }
        if let headline = offer.headline { offer.headline = try Self.localized(headline, "\(param).headline", maximum: 120) }
        if let message = offer.message { offer.message = try Self.localized(message, "\(param).message", maximum: 500) }
        return offer
    }
}

/// The `attributes` a link is minted with: string pairs targeting reads (unlike `metadata`,
/// which is only echoed back).
public enum Attributes {
    public static let keyRule = "Attribute keys are 1 to 40 of A-Z, a-z, 0-9, _, - and ."
    public static let maximumCount = 20

    public static func isKey(_ key: String) -> Bool {
        !key.isEmpty && key.count <= 40
            && key.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_-.".unicodeScalars.contains($0)) }
    }

    public static func isValue(_ value: String) -> Bool {
        !value.isEmpty && value.count <= 200 && InputText.isAcceptable(value)
    }
}
