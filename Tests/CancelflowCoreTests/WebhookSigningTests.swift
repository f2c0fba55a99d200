import CancelflowCore
import Foundation
import Testing

@Suite struct WebhookSigningTests {
    /// The example the Standard Webhooks specification publishes.
    @Test func matchesTheSpecificationsTestVector() {
        let signature = StandardWebhooks.signature(
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: 1_614_265_330,
            body: #"{"test": 2432232314}"#
        )
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func generatedSecretsCarry32RandomBytes() {
        let secret = StandardWebhooks.generateSecret()
        #expect(secret.hasPrefix("whsec_"))
        #expect(Data(base64Encoded: String(secret.dropFirst(6)))?.count == 32)
        #expect(StandardWebhooks.generateSecret() != secret)
        #expect(StandardWebhooks.signature(secret: "whsec_***", id: "a", timestamp: 1, body: "") == nil)
    }

    @Test func retriesFollowTheScheduleThenStop() {
        let now = Date(timeIntervalSince1970: 0)
        let expected: [TimeInterval] = [5, 300, 1800, 7200, 18000, 36000, 36000]
        for (index, delay) in expected.enumerated() {
            #expect(RetrySchedule.nextAttempt(after: index + 1, now: now, retryAfter: nil, jitter: 0) == now.addingTimeInterval(delay))
            let jittered = RetrySchedule.nextAttempt(after: index + 1, now: now, retryAfter: nil, jitter: 0.1)!
            #expect(abs(jittered.timeIntervalSince(now) - delay * 1.1) < 0.001)
        }
        #expect(RetrySchedule.nextAttempt(after: 8, now: now, retryAfter: nil, jitter: 0) == nil)
        #expect(RetrySchedule.maximumAttempts == 8)
        // Retry-After asking for longer is honoured (up to the longest delay); shorter is not.
        #expect(RetrySchedule.nextAttempt(after: 1, now: now, retryAfter: 120, jitter: 0) == now.addingTimeInterval(120))
        #expect(RetrySchedule.nextAttempt(after: 2, now: now, retryAfter: 1, jitter: 0) == now.addingTimeInterval(300))
    }
}
