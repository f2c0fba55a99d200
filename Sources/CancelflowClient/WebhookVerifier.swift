import Crypto
import Foundation
import HTTPTypes

/// Checks that a webhook request came from Cancelflow, on the receiving side (Standard Webhooks):
/// an HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` under the endpoint's `whsec_`
/// secret, compared in constant time, with a timestamp close to now so that a captured request
/// cannot be replayed later.
///
/// ```swift
/// let verifier = try WebhookVerifier(secret: endpointSecret)
/// let event = try verifier.verify(payload: body, headers: request.headerFields)
/// ```
///
/// Verify the raw body exactly as received, before any JSON parsing: re-encoded JSON does not
/// hash the same. During a secret rotation Cancelflow signs with the old and the new secret, so a
/// receiver holding either one accepts the request.
public struct WebhookVerifier: Sendable {
    let key: SymmetricKey
    /// How far the signed timestamp may be from the receiver's clock, either way.
    public let tolerance: Duration

    /// `secret` is the endpoint's `whsec_…` value, as creating or rotating the endpoint showed it.
    public init(secret: String, tolerance: Duration = .seconds(300)) throws {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst("whsec_".count)) : secret
        guard let bytes = Data(base64Encoded: encoded), !bytes.isEmpty else {
            throw WebhookVerificationError.invalidSecret
        }
        self.key = SymmetricKey(data: bytes)
        self.tolerance = tolerance
    }

    /// Verifies a request given its header fields; returns the event it carries.
    public func verify(payload: Data, headers: HTTPFields, now: Date = Date()) throws -> Event {
        func header(_ name: String) throws -> String {
            guard let field = HTTPField.Name(name), let value = headers[field] else {
                throw WebhookVerificationError.missingHeader(name)
            }
            return value
        }
        return try self.verify(
            payload: payload, id: try header("webhook-id"), timestamp: try header("webhook-timestamp"),
            signature: try header("webhook-signature"), now: now
        )
    }

    /// Verifies a request given its headers as a dictionary (names in any case).
    public func verify(payload: Data, headers: [String: String], now: Date = Date()) throws -> Event {
        func header(_ name: String) throws -> String {
            guard let value = headers.first(where: { $0.key.lowercased() == name })?.value else {
                throw WebhookVerificationError.missingHeader(name)
            }
            return value
        }
        return try self.verify(
            payload: payload, id: try header("webhook-id"), timestamp: try header("webhook-timestamp"),
            signature: try header("webhook-signature"), now: now
        )
    }

    /// Verifies a request, then reads its body as a typed event: `CancelFlowCompletedEvent` for
    /// `cancel_flow.completed` (outcome, survey, billing), `CancelLinkEvent` for the link events.
    /// Check `type` first: the untyped `verify(payload:headers:now:)` returns it.
    public func verify<Payload: Decodable>(
        payload: Data, headers: [String: String], as type: Payload.Type, now: Date = Date()
    ) throws -> Payload {
        _ = try self.verify(payload: payload, headers: headers, now: now)
        do {
            return try CancelflowDates.decoder().decode(Payload.self, from: payload)
        } catch {
            throw WebhookVerificationError.malformedPayload
        }
    }

    /// The typed form, for header fields as Hummingbird and HTTPTypes give them.
    public func verify<Payload: Decodable>(
        payload: Data, headers: HTTPFields, as type: Payload.Type, now: Date = Date()
    ) throws -> Payload {
        var named: [String: String] = [:]
        for field in headers { named[field.name.canonicalName] = field.value }
        return try self.verify(payload: payload, headers: named, as: type, now: now)
    }

    /// Verifies the three Standard Webhooks values and the body; returns the event it carries.
    public func verify(payload: Data, id: String, timestamp: String, signature: String, now: Date = Date()) throws -> Event {
        guard let seconds = Int64(timestamp) else { throw WebhookVerificationError.invalidTimestamp }
        let skew = Swift.abs(now.timeIntervalSince1970 - Double(seconds))
        let tolerance = Double(self.tolerance.components.seconds)
        guard skew <= tolerance else { throw WebhookVerificationError.timestampOutOfTolerance }
        var signed = Data("\(id).\(timestamp).".utf8)
        signed.append(payload)
        // Every `v1,` value is tried: during a rotation there are two, one per secret.
        let matched = signature.split(separator: " ").contains { candidate in
            guard candidate.hasPrefix("v1,"), let mac = Data(base64Encoded: String(candidate.dropFirst(3))) else { return false }
            return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: signed, using: self.key)
        }
        guard matched else { throw WebhookVerificationError.noMatchingSignature }
        do {
            return try CancelflowDates.decoder().decode(Event.self, from: payload)
        } catch {
            throw WebhookVerificationError.malformedPayload
        }
    }
}

/// Why a webhook request was refused. Answer any of them with a 4xx and do not act on the body.
public enum WebhookVerificationError: Error, Equatable, Sendable {
    /// The secret is not a `whsec_` value with a base64 key.
    case invalidSecret
    /// A Standard Webhooks header is missing.
    case missingHeader(String)
    /// `webhook-timestamp` is not a number of seconds.
    case invalidTimestamp
    /// The request was signed too long ago, or in the future: perhaps a replay.
    case timestampOutOfTolerance
    /// No signature matches: not from Cancelflow, altered, or signed with another secret.
    case noMatchingSignature
    /// Signed correctly, but not an event this SDK can read.
    case malformedPayload
}
