/// A JSON value whose objects keep their keys in the order given. Foundation's `JSONEncoder`
/// on Linux writes keys in hash order, which changes from run to run; API responses are written
/// through this instead so that fields come in the documented order and the same value always
/// serialises to the same bytes.
public indirect enum OrderedJSON: Sendable {
    case object([(String, OrderedJSON)])
    case array([OrderedJSON])
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    /// Text that is already JSON (a stored event envelope), written as it is.
    case raw(String)

    /// `.string` for a value, `.null` for nil.
    public static func optional(_ value: String?) -> OrderedJSON {
        value.map(OrderedJSON.string) ?? .null
    }

    /// `.int` for a value, `.null` for nil.
    public static func optional(_ value: Int?) -> OrderedJSON {
        value.map(OrderedJSON.int) ?? .null
    }

    /// A map with its keys sorted, so its bytes do not depend on hash order.
    public static func sortedMap(_ map: [String: String]) -> OrderedJSON {
        .object(map.keys.sorted().map { ($0, .string(map[$0]!)) })
    }

    /// The UTF-8 bytes of the value.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        self.write(to: &out)
        return out
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .string(let text):
            Self.writeString(text, to: &out)
        case .int(let value):
            out.append(contentsOf: String(value).utf8)
        case .bool(let value):
            out.append(contentsOf: (value ? "true" : "false").utf8)
        case .null:
            out.append(contentsOf: "null".utf8)
        case .raw(let json):
            out.append(contentsOf: json.utf8)
        }
    }

    static func writeString(_ text: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: Array("\\u00".utf8))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// A wire type that writes itself as ordered JSON.
public protocol OrderedJSONRepresentable {
    /// The value as ordered JSON.
    var orderedJSON: OrderedJSON { get }
}

extension CancelSession: OrderedJSONRepresentable {
    /// The seed's fields first, in the seed's order, then ours.
    public var orderedJSON: OrderedJSON {
        var members: [(String, OrderedJSON)] = []
        if let url = self.url { members.append(("url", .string(url))) }
        if let token = self.token { members.append(("token", .string(token))) }
        members += [
            ("expiresAt", .string(self.expiresAt)),
            ("customerId", .string(self.customerId)),
            ("subscriptionId", .optional(self.subscriptionId)),
            ("status", .string(self.status)),
            ("id", .string(self.id)),
            ("singleUse", .bool(self.singleUse)),
            ("livemode", .bool(self.livemode)),
            ("createdAt", .string(self.createdAt)),
            ("consumedAt", .optional(self.consumedAt)),
            ("revokedAt", .optional(self.revokedAt)),
            ("returnUrl", .optional(self.returnUrl)),
            ("metadata", .sortedMap(self.metadata)),
            ("attributes", .sortedMap(self.attributes)),
            ("locale", .optional(self.locale)),
        ]
        return .object(members)
    }
}

extension ListPage: OrderedJSONRepresentable where Item: OrderedJSONRepresentable {
    /// `object`, `data`, `hasMore`, `nextCursor`.
    public var orderedJSON: OrderedJSON {
        .object([
            ("object", .string(self.object)),
            ("data", .array(self.data.map(\.orderedJSON))),
            ("hasMore", .bool(self.hasMore)),
            ("nextCursor", .optional(self.nextCursor)),
        ])
    }
}

extension ErrorBody: OrderedJSONRepresentable {
    /// `{"error": {"type", "code", "message", "param"?, "request_id"?}}`.
    public var orderedJSON: OrderedJSON {
        var members: [(String, OrderedJSON)] = [
            ("type", .string(self.error.type)),
            ("code", .string(self.error.code)),
            ("message", .string(self.error.message)),
        ]
        if let param = self.error.param { members.append(("param", .string(param))) }
        if let requestID = self.error.requestID { members.append(("request_id", .string(requestID))) }
        return .object([("error", .object(members))])
    }
}

extension SubscriptionBody: OrderedJSONRepresentable {
    /// Identity first, then billing state.
    public var orderedJSON: OrderedJSON {
        .object([
            ("id", .string(self.id)),
            ("customerId", .string(self.customerId)),
            ("status", .string(self.status)),
            ("planName", .optional(self.planName)),
            ("amount", .optional(self.amount)),
            ("currency", .optional(self.currency)),
            ("interval", .optional(self.interval)),
            ("currentPeriodEnd", .optional(self.currentPeriodEnd)),
            ("planId", .optional(self.planId)),
            ("startedAt", .optional(self.startedAt)),
            ("cancelAtPeriodEnd", .bool(self.cancelAtPeriodEnd)),
            ("canceledAt", .optional(self.canceledAt)),
            ("pauseResumesAt", .optional(self.pauseResumesAt)),
            ("discountPercent", .optional(self.discountPercent)),
            ("discountEndsAt", .optional(self.discountEndsAt)),
            ("livemode", .bool(self.livemode)),
            ("createdAt", .string(self.createdAt)),
            ("updatedAt", .string(self.updatedAt)),
        ])
    }
}

extension CustomerBody: OrderedJSONRepresentable {
    /// Identity first, then subscriptions.
    public var orderedJSON: OrderedJSON {
        .object([
            ("id", .string(self.id)),
            ("email", .optional(self.email)),
            ("name", .optional(self.name)),
            ("livemode", .bool(self.livemode)),
            ("createdAt", .string(self.createdAt)),
            ("updatedAt", .string(self.updatedAt)),
            ("subscriptions", .array(self.subscriptions.map(\.orderedJSON))),
        ])
    }
}
