import Crypto
import Foundation
import Testing

@testable import CancelflowCore

/// SHA-256 hex through swift-crypto and formatting of this file's own, not the service's `Hex`.
private func independentSHA256(_ text: String) -> String {
    SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
}

@Suite struct CancelTokenTests {
    let codec = CancelTokenCodec(serverSecret: try! ServerSecret("a-server-secret-of-at-least-32-characters"))

    @Test func mintedTokensHaveThePrefixLengthAndAlphabet() {
        let (token, hash) = self.codec.mint()
        #expect(token.hasPrefix("cl_"))
        #expect(token.count == CancelTokenCodec.tokenLength)
        #expect(token.dropFirst(3).allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) })
        #expect(hash == independentSHA256(token), "what is stored is the token's SHA-256")
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
        #expect(APIKeyFormat.hash(key) == independentSHA256(key))
    }

    /// Published and independently computed vectors, so the hashing and the checksum are not
    /// only checked against themselves.
    @Test func hashesAndChecksumsMatchIndependentVectors() {
        // FIPS 180-2's "abc" vector, and a token hashed by Python's hashlib.
        #expect(CancelTokenCodec.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(CancelTokenCodec.hash("cl_example") == "45e427e8909ee2c3eb3cd252528001ff8e5163db2a78825500bd72a286a9afc5")
        // CRC-32's published check value.
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        // Keys whose checksums Python's zlib.crc32 computed: both are recognised, for their mode.
        #expect(APIKeyFormat.mode(of: "ck_test_abcdefghijklmnopqrstuvwxyz234567dcpirru") == .test)
        #expect(APIKeyFormat.mode(of: "ck_live_mfrggzdfmztwq2lknnwg23tpobyxe43ubf7amdt") == .live)
        #expect(APIKeyFormat.mode(of: "ck_test_abcdefghijklmnopqrstuvwxyz234567dcpirrv") == nil)
        #expect(
            APIKeyFormat.hash("ck_test_abcdefghijklmnopqrstuvwxyz234567dcpirru")
                == "d9648002b632f256da9cd9a7d92e373028720e1218b36be2682a84ab0c5df258")
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
