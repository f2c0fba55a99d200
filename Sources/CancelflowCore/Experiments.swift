import Foundation

/// One variant of a flow under test, over a period.
public struct VariantResult: Sendable, Equatable {
    public var key: String
    /// Sessions of this variant decided in the period (every outcome but `abandoned`).
    public var sessions: Int
    /// Of those, the ones where the customer stayed (`FlowOutcome.isSave`).
    public var saves: Int

    public init(key: String, sessions: Int, saves: Int) {
        self.key = key
        self.sessions = sessions
        self.saves = saves
    }

    /// Saves over sessions; nil before any session.
    public var saveRate: Double? { self.sessions == 0 ? nil : Double(self.saves) / Double(self.sessions) }

    /// The save rate's 95 % Wilson score interval.
    public var interval: (low: Double, high: Double)? { Wilson.interval(successes: self.saves, trials: self.sessions) }
}

/// A flow's test over a period, and what can be said of it.
public struct ExperimentResult: Sendable, Equatable {
    public var flowID: String
    /// The variants, the first (the control) first.
    public var variants: [VariantResult]
    /// Variants whose save rate differs from the control's at the 95 % level (a two-proportion
    /// z-test), with the direction.
    public var significant: [(key: String, better: Bool)]

    public static func == (lhs: ExperimentResult, rhs: ExperimentResult) -> Bool {
        lhs.flowID == rhs.flowID && lhs.variants == rhs.variants && lhs.significant.map(\.key) == rhs.significant.map(\.key)
            && lhs.significant.map(\.better) == rhs.significant.map(\.better)
    }

    /// Each variant's counts compared with the first's.
    public init(flowID: String, variants: [VariantResult]) {
        self.flowID = flowID
        self.variants = variants
        self.significant = []
        guard let control = variants.first else { return }
        for variant in variants.dropFirst() {
            if let z = Wilson.zScore(variant.saves, variant.sessions, control.saves, control.sessions), abs(z) >= Wilson.z95 {
                self.significant.append((variant.key, z > 0))
            }
        }
    }

    /// A sentence for the merchant.
    public var verdict: String {
        guard let control = self.variants.first else { return "No sessions yet." }
        if self.variants.contains(where: { $0.sessions < Wilson.minimumSessions }) {
            return
                "Not yet significant: each variant needs at least \(Wilson.minimumSessions) finished sessions before the difference means anything."
        }
        guard !self.significant.isEmpty else {
            return "Not yet significant: the difference between the variants could still be chance (95 % level). Keep the test running."
        }
        return self.significant.map { result in
            "Variant \(result.key) saves \(result.better ? "more" : "fewer") customers than \(control.key); the difference is significant at the 95 % level."
        }.joined(separator: " ")
    }
}

/// Binomial proportions: the Wilson score interval and the two-proportion z-test.
public enum Wilson {
    /// The 97.5th percentile of the standard normal distribution.
    public static let z95 = 1.959964
    /// Below this many finished sessions in a variant, the normal approximation behind the
    /// z-test is too rough to call anything significant.
    public static let minimumSessions = 30

    /// The 95 % Wilson score interval of `successes` in `trials`; nil for no trials.
    public static func interval(successes: Int, trials: Int, z: Double = z95) -> (low: Double, high: Double)? {
        guard trials > 0 else { return nil }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let margin = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot() / (1 + z2 / n)
        return (max(0, centre - margin), min(1, centre + margin))
    }

    /// The pooled two-proportion z statistic of a against b; nil when either is too small to
    /// say anything (fewer than `minimumSessions`) or nothing varies.
    public static func zScore(_ successesA: Int, _ trialsA: Int, _ successesB: Int, _ trialsB: Int) -> Double? {
        guard trialsA >= self.minimumSessions, trialsB >= self.minimumSessions else { return nil }
        let (a, b) = (Double(trialsA), Double(trialsB))
        let pooled = Double(successesA + successesB) / (a + b)
        let error = (pooled * (1 - pooled) * (1 / a + 1 / b)).squareRoot()
        guard error > 0 else { return nil }
        return (Double(successesA) / a - Double(successesB) / b) / error
    }
}
