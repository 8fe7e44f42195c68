import CKernels

/// SHA-256 (FIPS 180-4), incremental, for the provenance of generated images (model file
/// and input audio digests). The core links no crypto library: the compression is Swift, or
/// the CPU's SHA extensions where CPUID reports them (`Sources/CKernels/sha256_ni.c`;
/// docs/performance.md has both speeds).
public struct SHA256 {
    /// True when this CPU has the SHA extensions.
    static let shaExtensionsAvailable = avpk_sha_ni_available() != 0

    /// Whether this hasher compresses with the SHA extensions (tests turn it off to check the
    /// Swift compression against them).
    var usesSHAExtensions = SHA256.shaExtensionsAvailable

    /// The 64 round constants (one table, in Sources/CKernels/sha256_ni.c).
    private static let k = Array(UnsafeBufferPointer(start: avpk_sha256_round_constants(), count: 64))

    private var h: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
    private var block = [UInt8]()
    private var length: UInt64 = 0

    public init() { block.reserveCapacity(64) }

    /// The hex digest of `bytes`.
    public static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.hexDigest()
    }

    public mutating func update<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        length &+= UInt64(bytes.count)
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in absorb(UnsafeRawBufferPointer(buffer)) }
        if handled == nil { Array(bytes).withUnsafeBytes { absorb($0) } }
    }

    /// Fills the pending block, then compresses whole blocks straight from `input`.
    private mutating func absorb(_ input: UnsafeRawBufferPointer) {
        var at = 0
        if !block.isEmpty {
            let take = min(64 - block.count, input.count)
            block.append(contentsOf: input[0..<take])
            at = take
            if block.count == 64 {
                block.withUnsafeBytes { compress($0.baseAddress!, blocks: 1) }
                block.removeAll(keepingCapacity: true)
            }
        }
        let blocks = (input.count - at) / 64
        if blocks > 0 {
            compress(input.baseAddress! + at, blocks: blocks)
            at += 64 * blocks
        }
        if at < input.count { block.append(contentsOf: input[at...]) }
    }

    public mutating func finalize() -> [UInt8] {
        let bits = length &* 8
        var tail = block
        tail.append(0x80)
        while tail.count % 64 != 56 { tail.append(0) }
        for i in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i)))) }
        tail.withUnsafeBytes { compress($0.baseAddress!, blocks: $0.count / 64) }
        block.removeAll()
        return [h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7].flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (24 - 8 * UInt32($0))) } }
    }

    public mutating func hexDigest() -> String {
        let digits = Array("0123456789abcdef")
        return String(finalize().flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    /// Compresses `blocks` consecutive 64-byte blocks at `p`: with the SHA extensions when this
    /// hasher uses them, else one block at a time in Swift.
    private mutating func compress(_ p: UnsafeRawPointer, blocks: Int) {
        if usesSHAExtensions {
            withUnsafeMutableBytes(of: &h) { avpk_sha256_blocks($0.baseAddress!.assumingMemoryBound(to: UInt32.self), p, blocks) }
            return
        }
        for i in 0..<blocks { compress(p + 64 * i) }
    }

    /// One 64-byte block at `p`, in Swift.
    private mutating func compress(_ p: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for i in 0..<16 { w[i] = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
            @inline(__always) func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }
            for i in 16..<64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7)
            SHA256.k.withUnsafeBufferPointer { k in
                for i in 0..<64 {
                    let t1 = hh &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[i] &+ w[i]
                    let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
                    (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
                }
            }
            h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e, h.5 &+ f, h.6 &+ g, h.7 &+ hh)
        }
    }
}
