import CancelflowCore
import Foundation
import Testing

/// The A/B figures the outcomes page shows: Wilson intervals and the two-proportion z-test.
struct ExperimentTests {
    static func close(_ value: Double?, _ expected: Double) -> Bool {
        guard let value else { return false }
        return abs(value - expected) < 0.0005
    }

    /// Reference values computed independently (Wilson 1927; e.g. 8 of 10 is 0.490–0.943).
    @Test func wilsonIntervalsMatchReferenceValues() {
        let eight = Wilson.interval(successes: 8, trials: 10)
        #expect(Self.close(eight?.low, 0.4902) && Self.close(eight?.high, 0.9433), "\(String(describing: eight))")
        let none = Wilson.interval(successes: 0, trials: 10)
        #expect(none?.low == 0 && Self.close(none?.high, 0.2775), "\(String(describing: none))")
        let half = Wilson.interval(successes: 50, trials: 100)
        #expect(Self.close(half?.low, 0.4038) && Self.close(half?.high, 0.5962), "\(String(describing: half))")
        #expect(Wilson.interval(successes: 0, trials: 0) == nil)
    }

    @Test func theVerdictSaysPlainlyWhenADifferenceIsNotYetSignificant() {
        // 60 of 100 against 40 of 100: z = 2.83, significant.
        #expect(Self.close(Wilson.zScore(60, 100, 40, 100), 2.8284))
        let clear = ExperimentResult(
            flowID: "flow_1", variants: [VariantResult(key: "a", sessions: 100, saves: 40), VariantResult(key: "b", sessions: 100, saves: 60)])
        #expect(clear.significant.map(\.key) == ["b"] && clear.significant.first?.better == true)
        #expect(clear.verdict.contains("Variant b saves more customers than a"))
        // 52 of 100 against 48 of 100: could be chance.
        let close = ExperimentResult(
            flowID: "flow_1", variants: [VariantResult(key: "a", sessions: 100, saves: 48), VariantResult(key: "b", sessions: 100, saves: 52)])
        #expect(close.significant.isEmpty)
        #expect(close.verdict.hasPrefix("Not yet significant"))
        // A large difference on a handful of sessions is not called either.
        let early = ExperimentResult(
            flowID: "flow_1", variants: [VariantResult(key: "a", sessions: 10, saves: 1), VariantResult(key: "b", sessions: 10, saves: 9)])
        #expect(early.significant.isEmpty && early.verdict.contains("at least 30"))
        // Worse than the control is said too.
        let worse = ExperimentResult(
            flowID: "flow_1",
            variants: [
                VariantResult(key: "a", sessions: 200, saves: 120), VariantResult(key: "b", sessions: 200, saves: 118),
                VariantResult(key: "c", sessions: 200, saves: 70),
            ])
        #expect(worse.significant.map(\.key) == ["c"] && worse.verdict.contains("Variant c saves fewer customers than a"))
    }
}
