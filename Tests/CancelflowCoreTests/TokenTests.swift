import CancelflowCore
import Foundation
import Testing

@Suite struct CancelTokenTests {
    let codec = CancelTokenCodec(serverSecret: try! ServerSecret("a-server-secret-of-at-least-32-characters"))

    @Test func mintedTokensHaveThePrefixLengthAndAlphabet() {
        let (token, hash) = self.codec.mint()
        #expect(token.hasPrefix("cl_"))
        #expect(token.count == CancelTokenCodec.tokenLength)
        #expect(token.dropFirst(3).allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) })
        #expect(hash == CancelTokenCodec.hash(token))
        #expect(hash.count == 64)
        #expect(!hash.contains(token))
    }

    @Test func mintedTokensVerifyAndAreUnique() {
        var seen = Set<String>()
        for _ in 0..<1000 {
            let (token, _) = self.codec.mint()
            #expect(self.codec.isAuthentic(token))
            seen.insert(token)
        }
        #expect(seen.count == 1000)
    }

    @Test func everySingleCharacterChangeIsRejected() {
        let (token, _) = self.codec.mint()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var chars = Array(token)
        for index in 3..<chars.count {
            let original = chars[index]
            let replacement = alphabet.first { $0 != original }!
            chars[index] = replacement
            #expect(!self.codec.isAuthentic(String(chars)), "changed position \(index)")
            chars[index] = original
        }
        #expect(self.codec.isAuthentic(String(chars)))
    }

    @Test func malformedAndForeignTokensAreRejected() {
        let (token, _) = self.codec.mint()
        let other = CancelTokenCodec(serverSecret: try! ServerSecret("another-server-secret-of-32-characters!!"))
        #expect(!other.isAuthentic(token), "a token from another server secret")
        #expect(!self.codec.isAuthentic(""))
        #expect(!self.codec.isAuthentic("cl_"))
        #expect(!self.codec.isAuthentic("cl_abc123"))
        #expect(!self.codec.isAuthentic(String(token.dropLast())))
        #expect(!self.codec.isAuthentic(token + "a"))
        #expect(!self.codec.isAuthentic("xx_" + token.dropFirst(3)))
        #expect(!self.codec.isAuthentic(token.uppercased()))
        #expect(!self.codec.isAuthentic("cl_" + String(repeating: "a", count: 48)))
        #expect(!self.codec.isAuthentic("cl_" + String(repeating: "!", count: 48)))
    }

    @Test func shortServerSecretsAreRefused() {
        #expect(throws: CancelflowError.self) { try ServerSecret("too-short") }
        #expect(ServerSecret.generateText().count >= 32)
        #expect(!String(describing: try! ServerSecret("a-server-secret-of-at-least-32-characters")).contains("server-secret"))
    }
}

@Suite struct APIKeyTests {
    @Test(arguments: Mode.allCases)
    func generatedKeysCarryTheirModeAndAValidChecksum(mode: Mode) {
        let key = APIKeyFormat.generate(mode: mode)
        #expect(key.hasPrefix("ck_\(mode.rawValue)_"))
        #expect(APIKeyFormat.mode(of: key) == mode)
        #expect(APIKeyFormat.hint(key) == String(key.suffix(4)))
        #expect(APIKeyFormat.hash(key) != key)
    }

    @Test func aMistypedKeyFailsItsChecksum() {
        let key = APIKeyFormat.generate(mode: .live)
        var chars = Array(key)
        let index = 12
        chars[index] = chars[index] == "a" ? "b" : "a"
        #expect(APIKeyFormat.mode(of: String(chars)) == nil)
        #expect(APIKeyFormat.mode(of: String(key.dropLast())) == nil)
        #expect(APIKeyFormat.mode(of: "ck_prod_" + key.dropFirst(8)) == nil)
        #expect(APIKeyFormat.mode(of: "") == nil)
    }

    @Test func appIDsAreModePrefixedAndUnique() {
        let ids = (0..<100).map { _ in Identifier.appID(mode: .test) }
        #expect(Set(ids).count == 100)
        #expect(ids.allSatisfy { $0.hasPrefix("app_test_") && $0.count == 25 })
    }

    @Test func constantTimeEqualsComparesWholeValues() {
        #expect(constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!constantTimeEquals(Array("abc".utf8), Array("abcd".utf8)))
        #expect(constantTimeEquals([UInt8](), [UInt8]()))
    }
}

@Suite struct Base32Tests {
    @Test func roundTripsEveryLength() {
        for length in 0..<40 {
            let bytes = SecureRandom.bytes(length)
            let text = Base32.encode(bytes)
            #expect(Base32.decode(Array(text.utf8)) == bytes)
        }
    }

    @Test func knownVectors() {
        // RFC 4648 section 10, lower-cased and unpadded.
        #expect(Base32.encode(Array("f".utf8)) == "my")
        #expect(Base32.encode(Array("foobar".utf8)) == "mzxw6ytboi")
        #expect(Base32.decode(Array("mzxw6ytboi".utf8)) == Array("foobar".utf8))
        #expect(Base32.decode(Array("MZXW6YTBOI".utf8)) == nil)
        #expect(Base32.decode(Array("mz".utf8)) == nil, "non-zero trailing bits")
    }
}
