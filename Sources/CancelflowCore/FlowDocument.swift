import Foundation

/// A cancel flow as data: the survey, the offers, whom it is for, the variants under test and
/// the texts. An organization has several; the first whose targeting matches a customer wins,
/// and the one without targeting (its default flow) catches the rest. Documents are what the
/// API's `/v1/flows` reads and writes and what the dashboard edits, so their JSON form is the
/// contract: decoding refuses unknown keys (a misspelt `fallbackOfer` must not be silently
/// dropped), and `validated()` names the field at fault with its full path.
public struct FlowDocument: Sendable, Equatable, Codable {
    /// The merchant's name for it, shown in the dashboard.
    public var name: String
    /// Whom the flow is for; nil on the default flow.
    public var targeting: FlowTargeting?
    /// Click-to-cancel: the first page already carries the cancel button and at most one offer
    /// is shown.
    public var clickToCancel: Bool
    /// When a confirmed cancellation takes effect.
    public var cancelTiming: CancelTiming
    /// The survey.
    public var survey: FlowSurvey
    /// The offers the survey's reasons may lead to.
    public var offers: [FlowOffer]
    /// The offer for a reason that names none (an offer's `id`); nil for no offer.
    public var fallbackOffer: String?
    /// Days after a customer accepted an offer of a type before one of that type is offered
    /// to them again, by offer type; types not listed have no cooldown.
    public var cooldownDays: [String: Int]
    /// Phrase overrides by language (`fr`, `de-DE`) and phrase key.
    public var texts: [String: [String: String]]
    /// The variants under test; empty when nothing is being tested.
    public var variants: [FlowVariant]

    /// Creates a document.
    public init(
        name: String, targeting: FlowTargeting? = nil, clickToCancel: Bool = false, cancelTiming: CancelTiming = .periodEnd,
        survey: FlowSurvey, offers: [FlowOffer] = [], fallbackOffer: String? = nil, cooldownDays: [String: Int] = [:],
        texts: [String: [String: String]] = [:], variants: [FlowVariant] = []
    ) {
        self.name = name
        self.targeting = targeting
        self.clickToCancel = clickToCancel
        self.cancelTiming = cancelTiming
        self.survey = survey
        self.offers = offers
        self.fallbackOffer = fallbackOffer
        self.cooldownDays = cooldownDays
        self.texts = texts
        self.variants = variants
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, targeting, clickToCancel, cancelTiming, survey, offers, fallbackOffer, cooldownDays, texts, variants
    }

    /// The document's top-level keys, for the API to refuse any other.
    public static let fieldNames = CodingKeys.allCases.map(\.rawValue)

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try c.decode(String.self, forKey: .name)
        self.targeting = try c.decodeIfPresent(FlowTargeting.self, forKey: .targeting)
        self.clickToCancel = try c.decodeIfPresent(Bool.self, forKey: .clickToCancel) ?? false
        self.cancelTiming = try c.decodeIfPresent(CancelTiming.self, forKey: .cancelTiming) ?? .periodEnd
        self.survey = try c.decode(FlowSurvey.self, forKey: .survey)
        self.offers = try c.decodeIfPresent([FlowOffer].self, forKey: .offers) ?? []
        self.fallbackOffer = try c.decodeIfPresent(String.self, forKey: .fallbackOffer)
        self.cooldownDays = try c.decodeIfPresent([String: Int].self, forKey: .cooldownDays) ?? [:]
        self.texts = try c.decodeIfPresent([String: [String: String]].self, forKey: .texts) ?? [:]
        self.variants = try c.decodeIfPresent([FlowVariant].self, forKey: .variants) ?? []
    }

    /// The default flow of an organization that has configured nothing.
    public static let standard = FlowDocument(
        name: "Default",
        survey: FlowSurvey(
            reasons: FlowSettings.defaultReasons.enumerated().map { FlowReason(id: "reason_\($0.offset + 1)", label: LocalizedText($0.element)) }),
        offers: [FlowOffer(id: "discount", type: .discount, percent: 20, months: 3)],
        fallbackOffer: "discount"
    )

    /// The part of the document a customer in `variant` sees (the document itself when the
    /// variant overrides nothing or is not one of its variants).
    public func content(variant: String?) -> FlowContent {
        let chosen = self.variants.first { $0.key == variant }
        var texts = self.texts
        for (language, phrases) in chosen?.texts ?? [:] { texts[language, default: [:]].merge(phrases) { $1 } }
        return FlowContent(
            survey: chosen?.survey ?? self.survey,
            offers: chosen?.offers ?? self.offers,
            fallbackOffer: chosen?.offers != nil ? chosen?.fallbackOffer : (chosen?.fallbackOffer ?? self.fallbackOffer),
            texts: texts
        )
    }
}

/// What one variant of a flow shows: its survey, offers and texts.
public struct FlowContent: Sendable, Equatable {
    public var survey: FlowSurvey
    public var offers: [FlowOffer]
    public var fallbackOffer: String?
    public var texts: [String: [String: String]]

    /// The offer a survey answer leads to: the reason's own (`none` for no offer), else the
    /// fallback.
    public func offer(forReason reasonID: String) -> FlowOffer? {
        let reason = self.survey.reasons.first { $0.id == reasonID }
        let id = reason?.offer ?? self.fallbackOffer
        guard let id, id != FlowReason.noOffer else { return nil }
        return self.offers.first { $0.id == id }
    }
}

/// The "why are you leaving?" question.
public struct FlowSurvey: Sendable, Equatable, Codable {
    /// The question; the language's standard wording when nil.
    public var question: LocalizedText?
    /// The answers offered.
    public var reasons: [FlowReason]
    /// Whether the customer may add a comment.
    public var comment: Bool

    public init(question: LocalizedText? = nil, reasons: [FlowReason], comment: Bool = true) {
        self.question = question
        self.reasons = reasons
        self.comment = comment
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case question, reasons, comment }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.question = try c.decodeIfPresent(LocalizedText.self, forKey: .question)
        self.reasons = try c.decode([FlowReason].self, forKey: .reasons)
        self.comment = try c.decodeIfPresent(Bool.self, forKey: .comment) ?? true
    }
}

/// One survey answer, and the offer it leads to.
public struct FlowReason: Sendable, Equatable, Codable {
    /// `offer` value meaning "no offer for this reason", even when the flow has a fallback.
    public static let noOffer = "none"

    /// Stable id, recorded on the session and in webhooks (`too_expensive`).
    public var id: String
    /// What the customer reads.
    public var label: LocalizedText
    /// The offer's `id`, or `none`; the flow's fallback when nil.
    public var offer: String?

    public init(id: String, label: LocalizedText, offer: String? = nil) {
        self.id = id
        self.label = label
        self.offer = offer
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case id, label, offer }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try c.decode(String.self, forKey: .id)
        self.label = try c.decode(LocalizedText.self, forKey: .label)
        self.offer = try c.decodeIfPresent(String.self, forKey: .offer)
    }
}

/// A variant under test: a share of the flow's customers and what it shows them differently.
/// Whatever it leaves out is the flow's own.
public struct FlowVariant: Sendable, Equatable, Codable {
    /// `a`, `b`, `short_survey`: recorded on sessions and in webhooks.
    public var key: String
    /// Its share of the traffic, in percent; the variants' shares add up to 100.
    public var weight: Int
    public var survey: FlowSurvey?
    public var offers: [FlowOffer]?
    public var fallbackOffer: String?
    public var texts: [String: [String: String]]?

    public init(
        key: String, weight: Int, survey: FlowSurvey? = nil, offers: [FlowOffer]? = nil, fallbackOffer: String? = nil,
        texts: [String: [String: String]]? = nil
    ) {
        self.key = key
        self.weight = weight
        self.survey = survey
        self.offers = offers
        self.fallbackOffer = fallbackOffer
        self.texts = texts
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case key, weight, survey, offers, fallbackOffer, texts }

    public init(from decoder: any Decoder) throws {
        try StrictKeys.check(decoder, CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.key = try c.decode(String.self, forKey: .key)
        self.weight = try c.decode(Int.self, forKey: .weight)
        self.survey = try c.decodeIfPresent(FlowSurvey.self, forKey: .survey)
        self.offers = try c.decodeIfPresent([FlowOffer].self, forKey: .offers)
        self.fallbackOffer = try c.decodeIfPresent(String.self, forKey: .fallbackOffer)
        self.texts = try c.decodeIfPresent([String: [String: String]].self, forKey: .texts)
    }
}

/// Text a merchant writes, either one string for every language or one per language
/// (`{"en": "Too expensive", "fr": "Trop cher"}`).
public struct LocalizedText: Sendable, Equatable, Codable {
    /// By language tag; the key `""` holds the text for every language.
    public var values: [String: String]

    public init(_ text: String) { self.values = ["": text] }
    public init(byLanguage values: [String: String]) { self.values = values }

    /// The text for a language: an exact match, the same language without its region, the text
    /// for every language, English, then the first by tag.
    public func text(for language: String) -> String {
        let lower = language.lowercased()
        let base = String(lower.split(separator: "-").first ?? "")
        let byLower = Dictionary(self.values.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
        return byLower[lower] ?? byLower[base] ?? byLower[""] ?? byLower["en"] ?? self.values.sorted { $0.key < $1.key }.first?.value ?? ""
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self.values = ["": text]
        } else {
            self.values = try container.decode([String: String].self)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if self.values.count == 1, let text = self.values[""] {
            try container.encode(text)
        } else {
            try container.encode(self.values)
        }
    }
}

/// Refuses keys a document type does not know.
public enum StrictKeys {
    /// The `debugDescription` of the error it throws, for the API to recognise.
    public static let unknownKey = "unknown key"

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func check<Keys: CodingKey & CaseIterable>(_ decoder: any Decoder, _ keys: Keys.Type) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let known = Set(Keys.allCases.map(\.stringValue))
        if let unknown = container.allKeys.map(\.stringValue).sorted().first(where: { !known.contains($0) }) {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath + [AnyKey(stringValue: unknown)], debugDescription: Self.unknownKey))
        }
    }
}
