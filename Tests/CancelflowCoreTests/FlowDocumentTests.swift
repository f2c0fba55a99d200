import CancelflowCore
import Crypto
import Foundation
import Testing

/// Flow documents: their JSON, their validation (which names the field at fault), the offer
/// each survey answer leads to, targeting and sticky variant assignment.
struct FlowDocumentTests {
    static let phrases = Catalogue.keys

    /// Monthly customers get a discount for "too expensive", a pause for "not using it".
    static let monthly = FlowDocument(
        name: "Monthly",
        targeting: FlowTargeting(intervals: [.month]),
        survey: FlowSurvey(reasons: [
            FlowReason(id: "too_expensive", label: LocalizedText(byLanguage: ["en": "Too expensive", "fr": "Trop cher"]), offer: "discount"),
            FlowReason(id: "not_using", label: LocalizedText("Not using it enough"), offer: "pause"),
            FlowReason(id: "switching", label: LocalizedText("Switching"), offer: "none"),
            FlowReason(id: "other", label: LocalizedText("Something else")),
        ]),
        offers: [
            FlowOffer(id: "discount", type: .discount, percent: 30, months: 3),
            FlowOffer(id: "pause", type: .pause, months: 2),
            FlowOffer(id: "help", type: .contact, email: "help@example.com"),
        ],
        fallbackOffer: "help",
        cooldownDays: ["discount": 90],
        texts: ["fr": ["survey.intro": "Pourquoi partez-vous ?"]]
    )

    static func decode(_ json: String) throws -> FlowDocument {
        try JSONDecoder().decode(FlowDocument.self, from: Data(json.utf8))
    }

    @Test func documentsRoundTripThroughJSONAndRefuseUnknownKeysAtAnyDepth() throws {
        let encoded = try JSONEncoder().encode(Self.monthly)
        #expect(try JSONDecoder().decode(FlowDocument.self, from: encoded) == Self.monthly)

        let misspelt = #"{"name": "x", "survey": {"reasons": [{"id": "a", "label": "A", "ofer": "b"}]}}"#
        #expect {
            try Self.decode(misspelt)
        } throws: { error in
            guard case DecodingError.dataCorrupted(let context) = error else { return false }
            return context.debugDescription == StrictKeys.unknownKey && context.codingPath.map(\.stringValue).last == "ofer"
                && context.codingPath.first?.stringValue == "survey"
        }
        #expect(throws: DecodingError.self) { try Self.decode(#"{"name": "x", "survey": {"reasons": []}, "fallbackOfer": "y"}"#) }
        // Defaults for what is left out.
        let minimal = try Self.decode(#"{"name": "x", "survey": {"reasons": [{"id": "a", "label": {"en": "A", "de": "B"}}]}}"#)
        #expect(minimal.cancelTiming == .periodEnd && !minimal.clickToCancel && minimal.offers.isEmpty && minimal.variants.isEmpty)
        #expect(minimal.survey.comment)
        #expect(minimal.survey.reasons[0].label.text(for: "de-AT") == "B")
    }

    /// Each broken document is refused with the path of the field at fault.
    @Test func validationNamesTheFieldAtFault() throws {
        #expect(try Self.monthly.validated(phraseKeys: Self.phrases) == Self.monthly)
        typealias Break = (inout FlowDocument) -> Void
        let cases: [(String, Break)] = [
            ("name", { $0.name = "  " }),
            ("survey.reasons", { $0.survey.reasons = [] }),
            ("survey.reasons[1].offer", { $0.survey.reasons[1].offer = "refund" }),
            ("survey.reasons[2].id", { $0.survey.reasons[2].id = "too_expensive" }),
            ("survey.reasons[0].label.xx_y", { $0.survey.reasons[0].label = LocalizedText(byLanguage: ["xx_y": "A"]) }),
            ("survey.reasons[0].label", { $0.survey.reasons[0].label = LocalizedText(byLanguage: ["fr": "A", "FR": "B"]) }),
            ("offers[0].percent", { $0.offers[0].percent = 0 }),
            ("offers[1].percent", { $0.offers[1].percent = 10 }),
            ("offers[1].months", { $0.offers[1].months = 13 }),
            ("offers[2].email", { $0.offers[2].email = "not an address" }),
            ("offers[2].id", { $0.offers[2].id = "discount" }),
            ("offers[2].url", { $0.offers[2].url = "http://example.com/help" }),
            ("offers[3].url", { $0.offers.append(FlowOffer(id: "docs", type: .redirect)) }),
            ("offers[3].plans", { $0.offers.append(FlowOffer(id: "cheaper", type: .planChange, plans: [])) }),
            (
                "offers[3].plans[1].id",
                {
                    let plan = PlanOption(id: "price_1", name: LocalizedText("Basic"))
                    $0.offers.append(FlowOffer(id: "cheaper", type: .planChange, plans: [plan, plan]))
                }
            ),
            ("offers[3].days", { $0.offers.append(FlowOffer(id: "trial", type: .trialExtension, days: 400)) }),
            ("fallbackOffer", { $0.fallbackOffer = "gone" }),
            ("targeting", { $0.targeting = FlowTargeting() }),
            ("targeting.maxTenureDays", { $0.targeting = FlowTargeting(minTenureDays: 30, maxTenureDays: 30) }),
            ("targeting.attributes.bad key", { $0.targeting = FlowTargeting(attributes: ["bad key": ["x"]]) }),
            ("cooldownDays.refund", { $0.cooldownDays = ["refund": 3] }),
            ("cooldownDays.pause", { $0.cooldownDays = ["pause": -1] }),
            ("texts.fr.nope", { $0.texts = ["fr": ["nope": "x"]] }),
            ("variants", { $0.variants = [FlowVariant(key: "a", weight: 100)] }),
            ("variants", { $0.variants = [FlowVariant(key: "a", weight: 50), FlowVariant(key: "b", weight: 40)] }),
            ("variants[1].key", { $0.variants = [FlowVariant(key: "a", weight: 50), FlowVariant(key: "a", weight: 50)] }),
            ("variants[0].weight", { $0.variants = [FlowVariant(key: "a", weight: 0), FlowVariant(key: "b", weight: 100)] }),
            (
                "variants[1].survey.reasons[0].offer",
                {
                    let survey = FlowSurvey(reasons: [FlowReason(id: "x", label: LocalizedText("X"), offer: "gone")])
                    $0.variants = [FlowVariant(key: "a", weight: 50), FlowVariant(key: "b", weight: 50, survey: survey)]
                }
            ),
            // A variant with offers of its own: the flow's reasons must name those.
            (
                "survey.reasons[0].offer",
                {
                    let offers = [FlowOffer(id: "other", type: .pause, months: 1)]
                    $0.variants = [FlowVariant(key: "a", weight: 50), FlowVariant(key: "b", weight: 50, offers: offers)]
                }
            ),
        ]
        for (param, breakIt) in cases {
            var document = Self.monthly
            breakIt(&document)
            #expect {
                try document.validated(phraseKeys: Self.phrases)
            } throws: { error in
                (error as? CancelflowError)?.param == param && (error as? CancelflowError)?.code == "flow_invalid"
            }
        }
    }

    @Test func validationTidiesText() throws {
        var document = Self.monthly
        document.name = "  Monthly  "
        document.offers[2] = FlowOffer(id: "help", type: .contact, url: "https://EXAMPLE.com/help")
        let checked = try document.validated(phraseKeys: Self.phrases)
        #expect(checked.name == "Monthly")
        #expect(checked.offers[2].url == "https://example.com/help")
    }

    @Test func eachReasonLeadsToItsOfferOrTheFallback() throws {
        let content = Self.monthly.content(variant: nil)
        #expect(content.offer(forReason: "too_expensive")?.type == .discount)
        #expect(content.offer(forReason: "not_using")?.type == .pause)
        #expect(content.offer(forReason: "switching") == nil, "none means no offer, even with a fallback")
        #expect(content.offer(forReason: "other")?.id == "help", "no offer of its own: the fallback")
        #expect(content.offer(forReason: "unknown")?.id == "help")

        var tested = Self.monthly
        let wording = FlowSurvey(question: LocalizedText("What made you decide?"), reasons: Self.monthly.survey.reasons)
        tested.variants = [
            FlowVariant(key: "a", weight: 50), FlowVariant(key: "b", weight: 50, survey: wording, texts: ["fr": ["offer.decline": "Non merci"]]),
        ]
        #expect(tested.content(variant: "a").survey == Self.monthly.survey)
        let b = tested.content(variant: "b")
        #expect(b.survey.question?.text(for: "en") == "What made you decide?")
        #expect(b.texts["fr"] == ["survey.intro": "Pourquoi partez-vous ?", "offer.decline": "Non merci"])
        #expect(b.offer(forReason: "too_expensive")?.type == .discount, "the flow's offers when the variant has none")
    }

    static func subscription(
        plan: String? = "price_pro", name: String? = "Pro", interval: BillingInterval? = .month, status: SubscriptionStatus = .active,
        startedDaysAgo: Double = 100
    ) -> Subscription {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var subscription = Subscription(
            id: "sub_1", customerID: "cus_1", status: status, planName: name, interval: interval,
            createdAt: now.addingTimeInterval(-startedDaysAgo * 86400), updatedAt: now)
        subscription.planID = plan
        return subscription
    }

    @Test func targetingMatchesOnlyItsSegment() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func audience(_ subscription: Subscription?, _ attributes: [String: String] = [:]) -> FlowAudience {
            FlowAudience(subscription: subscription, attributes: attributes, now: now)
        }
        let byPlan = FlowTargeting(plans: ["price_pro", "Team"])
        #expect(byPlan.matches(audience(Self.subscription())))
        #expect(byPlan.matches(audience(Self.subscription(plan: nil, name: "Team"))), "by name too")
        #expect(!byPlan.matches(audience(Self.subscription(plan: "price_basic", name: "Basic"))))
        #expect(!byPlan.matches(audience(nil)), "no subscription, no plan")

        let yearly = FlowTargeting(intervals: [.year])
        #expect(!yearly.matches(audience(Self.subscription())))
        #expect(yearly.matches(audience(Self.subscription(interval: .year))))

        let newcomers = FlowTargeting(maxTenureDays: 30)
        #expect(newcomers.matches(audience(Self.subscription(startedDaysAgo: 29.9))))
        #expect(!newcomers.matches(audience(Self.subscription(startedDaysAgo: 30))))
        let loyal = FlowTargeting(minTenureDays: 365)
        #expect(loyal.matches(audience(Self.subscription(startedDaysAgo: 365))))
        #expect(!loyal.matches(audience(Self.subscription(startedDaysAgo: 364))))
        var started = Self.subscription(startedDaysAgo: 1)
        started.startedAt = now.addingTimeInterval(-400 * 86400)
        #expect(loyal.matches(audience(started)), "the provider's start date over when we first saw it")

        #expect(FlowTargeting(trial: true).matches(audience(Self.subscription(status: .trialing))))
        #expect(!FlowTargeting(trial: true).matches(audience(Self.subscription())))
        #expect(FlowTargeting(trial: false).matches(audience(Self.subscription())))

        let enterprise = FlowTargeting(intervals: [.month], attributes: ["segment": ["enterprise", "agency"], "region": ["eu"]])
        #expect(enterprise.matches(audience(Self.subscription(), ["segment": "agency", "region": "eu", "other": "x"])))
        #expect(!enterprise.matches(audience(Self.subscription(), ["segment": "agency"])), "every attribute must hold")
        #expect(!enterprise.matches(audience(Self.subscription(), ["segment": "smb", "region": "eu"])))
        #expect(!enterprise.matches(audience(Self.subscription(interval: .year), ["segment": "agency", "region": "eu"])))
    }

    /// 10,000 simulated customers split across the variants within ±2.5 % of each share (the
    /// standard deviation of a 50 % share is 0.5 %, so this is five of them), the same customer
    /// always lands in the same variant, and another key splits them differently.
    @Test func variantAssignmentIsStickyAndFollowsTheWeights() throws {
        let key = SymmetricKey(size: .bits256)
        let assigner = VariantAssigner(key: key)
        let again = VariantAssigner(key: key)
        let other = VariantAssigner(key: SymmetricKey(size: .bits256))
        var flow = Self.monthly
        flow.variants = [FlowVariant(key: "a", weight: 20), FlowVariant(key: "b", weight: 30), FlowVariant(key: "c", weight: 50)]
        var counts: [String: Int] = [:]
        var differ = 0
        for index in 0..<10_000 {
            let customer = "cus_\(index)"
            let variant = try #require(assigner.variant(of: flow, flowID: "flow_1", organizationID: "org_1", customerID: customer))
            counts[variant, default: 0] += 1
            #expect(again.variant(of: flow, flowID: "flow_1", organizationID: "org_1", customerID: customer) == variant)
            if other.variant(of: flow, flowID: "flow_1", organizationID: "org_1", customerID: customer) != variant { differ += 1 }
        }
        for (variant, share) in [("a", 0.2), ("b", 0.3), ("c", 0.5)] {
            let seen = Double(counts[variant] ?? 0) / 10_000
            #expect(abs(seen - share) <= 0.025, "\(variant): \(seen) against \(share)")
        }
        #expect(differ > 3_000, "another key assigns independently (\(differ) of 10,000 moved)")
        #expect(assigner.variant(of: Self.monthly, flowID: "flow_1", organizationID: "org_1", customerID: "cus_1") == nil, "no test, no variant")
    }

    @Test func localizedTextFallsBackFromRegionToLanguageToAnyLanguage() {
        let text = LocalizedText(byLanguage: ["en": "Too expensive", "fr": "Trop cher", "fr-CA": "Trop cher, eh"])
        #expect(text.text(for: "fr-CA") == "Trop cher, eh")
        #expect(text.text(for: "fr-BE") == "Trop cher")
        #expect(text.text(for: "FR") == "Trop cher")
        #expect(text.text(for: "de") == "Too expensive", "English when the language is missing")
        #expect(LocalizedText(byLanguage: ["es": "Caro", "de": "Teuer"]).text(for: "fr") == "Teuer", "else the first by tag")
        #expect(LocalizedText("Same everywhere").text(for: "de") == "Same everywhere")
    }

    @Test func theSettingsFromBeforeFlowsBecomeTheDefaultFlow() throws {
        var settings = FlowSettings.defaults
        settings.offer = .pause(months: 2)
        settings.cancelTiming = .immediately
        let document = try FlowDocument(legacy: settings).validated(phraseKeys: [])
        #expect(document.survey.reasons.map { $0.label.text(for: "en") } == settings.surveyReasons)
        #expect(document.offers == [FlowOffer(id: "pause", type: .pause, months: 2)])
        #expect(document.content(variant: nil).offer(forReason: document.survey.reasons[3].id)?.type == .pause)
        #expect(document.cancelTiming == .immediately && document.targeting == nil)
        settings.offer = .none
        #expect(FlowDocument(legacy: settings).content(variant: nil).offer(forReason: "reason_1") == nil)
    }

    /// A plan change or free time read back from its recorded form matches what was done: the
    /// plan's id (even one with a colon) and the new end, to the second.
    @Test func planChangesAndFreeTimeReadBackFromTheirFingerprint() throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let change = BillingAction.changePlan(planID: "plan:basic", name: "Basic", amount: 500, currency: "usd")
        let read = try #require(BillingAction(fingerprint: change.fingerprint, start: start))
        #expect(read.fingerprint == change.fingerprint && read.outcome == .planChanged)
        let until = start.addingTimeInterval(14 * 86400)
        let extend = BillingAction.extendTrial(days: 14, until: until)
        #expect(BillingAction(fingerprint: extend.fingerprint, start: start) == extend)
        #expect(BillingAction(fingerprint: "change_plan:", start: start) == nil)
        var subscription = Self.subscription()
        subscription.currentPeriodEnd = until
        #expect(BillingMatching.isApplied(extend, to: subscription, since: start))
        subscription.currentPeriodEnd = start
        #expect(!BillingMatching.isApplied(extend, to: subscription, since: start))
        subscription.planID = "plan:basic"
        #expect(BillingMatching.isApplied(read, to: subscription, since: start))
    }
}
