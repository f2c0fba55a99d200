import Crypto
import Foundation
import Testing

@testable import CancelflowCore

/// The allocation-free HMAC-SHA256 behind token checks must agree with swift-crypto's, bit for bit.
@Suite struct ShortMessageHMACTests {
    @Test func agreesWithSwiftCryptoOnRandomKeysAndMessages() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<2000 {
            // Keys of every interesting size: short, a block, longer than a block (hashed first).
            let keyLength = [0, 1, 16, 32, 63, 64, 65, 100][round % 8]
            let key = SymmetricKey(data: (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let message = (0..<Int.random(in: 0...ShortMessageHMAC.maximumMessage, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            let expected = Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
            var actual = [UInt8](repeating: 0, count: 32)
            message.withUnsafeBufferPointer { input in
                actual.withUnsafeMutableBufferPointer { ShortMessageHMAC(key: key).authenticate(input, into: $0) }
            }
            #expect(actual == expected, "key \(keyLength) bytes, message \(message.count) bytes")
            if actual != expected { return }
        }
    }

    /// RFC 4231 test case 2 ("Jefe").
    @Test func matchesThePublishedTestVector() {
        let key = SymmetricKey(data: Array("Jefe".utf8))
        let message = Array("what do ya want for nothing?".utf8)
        var actual = [UInt8](repeating: 0, count: 32)
        message.withUnsafeBufferPointer { input in
            actual.withUnsafeMutableBufferPointer { ShortMessageHMAC(key: key).authenticate(input, into: $0) }
        }
        #expect(Hex.encode(actual) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
