import Crypto

/// HMAC-SHA256 under one fixed key, for messages of at most 55 bytes, without touching the heap.
///
/// Checking a Cancel Link token's tag is on the path of every hosted-page request, and forged
/// tokens must be turned away for next to nothing. swift-crypto's `HMAC` allocates digest
/// contexts on every call; here the key's inner and outer pad blocks are hashed once, up front, so
/// a tag costs two SHA-256 compressions on stack memory. It is the textbook construction
/// (RFC 2104 over FIPS 180-4), and the tests check it against swift-crypto on random keys and
/// messages.
struct ShortMessageHMAC: Sendable {
    /// The largest message that, padded, fits one 64-byte block.
    static let maximumMessage = 55

    private let inner: SHA256State
    private let outer: SHA256State

    init(key: SymmetricKey) {
        var padded = [UInt8](repeating: 0, count: 64)
        key.withUnsafeBytes { bytes in
            if bytes.count > 64 {
                let digest = Array(SHA256.hash(data: Array(bytes)))
                for index in 0..<digest.count { padded[index] = digest[index] }
            } else {
                for index in 0..<bytes.count { padded[index] = bytes[index] }
            }
        }
        var inner = SHA256State.initial
        var outer = SHA256State.initial
        padded.withUnsafeBufferPointer { key in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { block in
                for index in 0..<64 { block[index] = key[index] ^ 0x36 }
                inner.compress(UnsafeBufferPointer(block))
                for index in 0..<64 { block[index] = key[index] ^ 0x5c }
                outer.compress(UnsafeBufferPointer(block))
            }
        }
        self.inner = inner
        self.outer = outer
    }

    /// Writes the 32-byte tag of `message` into `output`.
    func authenticate(_ message: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<UInt8>) {
        precondition(message.count <= Self.maximumMessage && output.count >= 32)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { block in
            // Inner hash: the ipad block (already absorbed) then the message, padded, in one block.
            var state = self.inner
            Self.pad(message, afterBytes: 64, into: block)
            state.compress(UnsafeBufferPointer(block))
            state.write(into: block)
            // Outer hash: the opad block then the 32-byte inner digest.
            var outer = self.outer
            let digest = UnsafeBufferPointer(rebasing: UnsafeBufferPointer(block)[0..<32])
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { second in
                Self.pad(digest, afterBytes: 64, into: second)
                outer.compress(UnsafeBufferPointer(second))
            }
            outer.write(into: output)
        }
    }

    /// One final block: the message, 0x80, zeros, and the total length in bits (big-endian).
    private static func pad(_ message: UnsafeBufferPointer<UInt8>, afterBytes prefix: Int, into block: UnsafeMutableBufferPointer<UInt8>) {
        for index in 0..<64 { block[index] = 0 }
        for index in 0..<message.count { block[index] = message[index] }
        block[message.count] = 0x80
        let bits = UInt64(prefix + message.count) * 8
        for index in 0..<8 { block[63 - index] = UInt8(truncatingIfNeeded: bits >> (8 * UInt64(index))) }
    }
}

/// SHA-256's eight working words and its compression function (FIPS 180-4, section 6.2.2).
struct SHA256State: Sendable {
    var h0, h1, h2, h3, h4, h5, h6, h7: UInt32

    static let initial = SHA256State(
        h0: 0x6a09_e667, h1: 0xbb67_ae85, h2: 0x3c6e_f372, h3: 0xa54f_f53a, h4: 0x510e_527f, h5: 0x9b05_688c, h6: 0x1f83_d9ab,
        h7: 0x5be0_cd19
    )

    static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    /// Absorbs one 64-byte block.
    mutating func compress(_ block: UnsafeBufferPointer<UInt8>) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for t in 0..<16 {
                w[t] = UInt32(block[4 * t]) << 24 | UInt32(block[4 * t + 1]) << 16 | UInt32(block[4 * t + 2]) << 8 | UInt32(block[4 * t + 3])
            }
            for t in 16..<64 {
                let s0 = w[t - 15].rotatedRight(7) ^ w[t - 15].rotatedRight(18) ^ (w[t - 15] >> 3)
                let s1 = w[t - 2].rotatedRight(17) ^ w[t - 2].rotatedRight(19) ^ (w[t - 2] >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, h) = (self.h0, self.h1, self.h2, self.h3, self.h4, self.h5, self.h6, self.h7)
            Self.k.withUnsafeBufferPointer { k in
                for t in 0..<64 {
                    let s1 = e.rotatedRight(6) ^ e.rotatedRight(11) ^ e.rotatedRight(25)
                    let choice = (e & f) ^ (~e & g)
                    let temp1 = h &+ s1 &+ choice &+ k[t] &+ w[t]
                    let s0 = a.rotatedRight(2) ^ a.rotatedRight(13) ^ a.rotatedRight(22)
                    let majority = (a & b) ^ (a & c) ^ (b & c)
                    let temp2 = s0 &+ majority
                    (h, g, f, e, d, c, b, a) = (g, f, e, d &+ temp1, c, b, a, temp1 &+ temp2)
                }
            }
            self.h0 &+= a
            self.h1 &+= b
            self.h2 &+= c
            self.h3 &+= d
            self.h4 &+= e
            self.h5 &+= f
            self.h6 &+= g
            self.h7 &+= h
        }
    }

    /// The digest, big-endian, into the first 32 bytes of `output`.
    func write(into output: UnsafeMutableBufferPointer<UInt8>) {
        // Word by word rather than through an array of the eight: no allocation.
        Self.store(self.h0, at: 0, output)
        Self.store(self.h1, at: 4, output)
        Self.store(self.h2, at: 8, output)
        Self.store(self.h3, at: 12, output)
        Self.store(self.h4, at: 16, output)
        Self.store(self.h5, at: 20, output)
        Self.store(self.h6, at: 24, output)
        Self.store(self.h7, at: 28, output)
    }

    @inline(__always)
    private static func store(_ word: UInt32, at offset: Int, _ output: UnsafeMutableBufferPointer<UInt8>) {
        output[offset] = UInt8(truncatingIfNeeded: word >> 24)
        output[offset + 1] = UInt8(truncatingIfNeeded: word >> 16)
        output[offset + 2] = UInt8(truncatingIfNeeded: word >> 8)
        output[offset + 3] = UInt8(truncatingIfNeeded: word)
    }
}

extension UInt32 {
    @inline(__always)
    func rotatedRight(_ count: UInt32) -> UInt32 {
        (self >> count) | (self << (32 - count))
    }
}
