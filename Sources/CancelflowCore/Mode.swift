/// Test or live: every credential, link, customer and event belongs to exactly one mode,
/// and nothing ever crosses from one to the other.
public enum Mode: String, Sendable, Codable, CaseIterable, Hashable {
    case test
    case live

    /// Whether this is live mode, as the API's `livemode` field reports it.
    public var isLive: Bool { self == .live }
}
