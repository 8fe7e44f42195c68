/// 48 -> 8 kHz conversion of the detector, on 10 ms blocks (480 samples in, 80 out):
/// halve (48 -> 24 kHz) with a pair of three-stage all-pass chains, low-pass at 24 kHz with a
/// polyphase pair of such chains, resample 3:2 (24 -> 16 kHz) with an 8-tap polyphase FIR,
/// halve again (16 -> 8 kHz). Intermediate values are 32-bit, mostly on a Q15-shifted scale.
/// All filter states carry from block to block.
final class VADSixthRateDecimator {
    // Three-stage all-pass coefficients (Q14-ish) of the two polyphase branches.
    private static let branchA: (Int32, Int32, Int32) = (821, 6110, 12382)
    private static let branchB: (Int32, Int32, Int32) = (3050, 9368, 15063)
    // 3:2 FIR, the two output phases.
    private static let phase0: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32) = (778, -2050, 1087, 23285, 12903, -3783, 441, 222)
    private static let phase1: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32) = (222, 441, -3783, 12903, 23285, 1087, -2050, 778)

    // States: 48->24 (8), 24 kHz low-pass (16), 3:2 history (8), 16->8 (8); then scratch (736).
    private let memory: UnsafeMutablePointer<Int32>
    private var halve48: UnsafeMutablePointer<Int32> { memory }
    private var lowPass24: UnsafeMutablePointer<Int32> { memory + 8 }
    private var history24: UnsafeMutablePointer<Int32> { memory + 24 }
    private var halve16: UnsafeMutablePointer<Int32> { memory + 32 }
    private var work: UnsafeMutablePointer<Int32> { memory + 40 }
    private static let words = 40 + 736

    init() {
        memory = .allocate(capacity: Self.words)
        memory.initialize(repeating: 0, count: Self.words)
    }

    deinit { memory.deallocate() }

    func reset() { memory.update(repeating: 0, count: Self.words) }

    /// One three-stage all-pass chain step on `x` with states `s[0...3]`; returns half the output.
    @inline(__always)
    private static func chain(_ x: Int32, _ s: UnsafeMutablePointer<Int32>, _ c: (Int32, Int32, Int32)) -> Int32 {
        var d = ((x &- s[1]) &+ (1 << 13)) >> 14
        let a = s[0] &+ d &* c.0
        s[0] = x
        d = (a &- s[2]) >> 14
        if d < 0 { d &+= 1 }
        let b = s[1] &+ d &* c.1
        s[1] = a
        d = (b &- s[3]) >> 14
        if d < 0 { d &+= 1 }
        s[3] = s[2] &+ d &* c.2
        s[2] = b
        return s[3] >> 1
    }

    /// 48 -> 24 kHz: `count` int16 samples to `count / 2` values on the Q15 scale.
    @inline(__always)
    private static func halveToWide(_ x: UnsafePointer<Int16>, count: Int, _ y: UnsafeMutablePointer<Int32>, _ s: UnsafeMutablePointer<Int32>) {
        let half = count >> 1
        for i in 0..<half { y[i] = chain((Int32(x[2 * i]) << 15) &+ (1 << 14), s, branchB) }
        for i in 0..<half { y[i] = y[i] &+ chain((Int32(x[2 * i + 1]) << 15) &+ (1 << 14), s + 4, branchA) }
    }

    /// Low-pass at the same rate (`count` values in and out), Q15 in, int16 scale out.
    @inline(__always)
    private static func lowPass(_ x: UnsafePointer<Int32>, count: Int, _ y: UnsafeMutablePointer<Int32>, _ s: UnsafeMutablePointer<Int32>) {
        let half = count >> 1
        var delayed = s[12]
        for i in 0..<half {
            y[2 * i] = chain(delayed, s, branchB)
            delayed = x[2 * i + 1]
        }
        for i in 0..<half { y[2 * i] = (y[2 * i] &+ chain(x[2 * i], s + 4, branchA)) >> 15 }
        for i in 0..<half { y[2 * i + 1] = chain(x[2 * i], s + 8, branchB) }
        for i in 0..<half { y[2 * i + 1] = (y[2 * i + 1] &+ chain(x[2 * i + 1], s + 12, branchA)) >> 15 }
    }

    /// 3 -> 2 samples, `blocks` times; reads `3 * blocks + 6` values (8 of history first).
    @inline(__always)
    private static func threeToTwo(_ x: UnsafePointer<Int32>, blocks: Int, _ y: UnsafeMutablePointer<Int32>) {
        let p = phase0, q = phase1
        for m in 0..<blocks {
            let v = x + 3 * m
            var a: Int32 = 1 << 14
            a &+= p.0 &* v[0]; a &+= p.1 &* v[1]; a &+= p.2 &* v[2]; a &+= p.3 &* v[3]
            a &+= p.4 &* v[4]; a &+= p.5 &* v[5]; a &+= p.6 &* v[6]; a &+= p.7 &* v[7]
            var b: Int32 = 1 << 14
            b &+= q.0 &* v[1]; b &+= q.1 &* v[2]; b &+= q.2 &* v[3]; b &+= q.3 &* v[4]
            b &+= q.4 &* v[5]; b &+= q.5 &* v[6]; b &+= q.6 &* v[7]; b &+= q.7 &* v[8]
            y[2 * m] = a
            y[2 * m + 1] = b
        }
    }

    /// 16 -> 8 kHz: `count` Q15 values (overwritten) to `count / 2` saturated int16 samples.
    @inline(__always)
    private static func halveToShort(_ x: UnsafeMutablePointer<Int32>, count: Int, _ y: UnsafeMutablePointer<Int16>, _ s: UnsafeMutablePointer<Int32>) {
        let half = count >> 1
        for i in 0..<half { x[2 * i] = chain(x[2 * i], s, branchB) }
        for i in 0..<half { x[2 * i + 1] = chain(x[2 * i + 1], s + 4, branchA) }
        for i in 0..<half {
            let v = (x[2 * i] &+ x[2 * i + 1]) >> 15
            y[i] = Int16(clamping: v)
        }
    }

    /// Converts one 10 ms block: 480 samples at 48 kHz to 80 at 8 kHz.
    func run(_ block: UnsafePointer<Int16>, into output: UnsafeMutablePointer<Int16>) {
        let t = work
        Self.halveToWide(block, count: 480, t + 256, halve48)
        Self.lowPass(t + 256, count: 240, t + 16, lowPass24)
        // The 3:2 stage sees the previous block's last 8 low-passed values before this block's.
        for i in 0..<8 {
            t[8 + i] = history24[i]
            history24[i] = t[248 + i]
        }
        // Outputs (t[0..<160]) trail the inputs being read (t[8 + 3m...]), so in place is safe.
        Self.threeToTwo(UnsafePointer(t + 8), blocks: 80, t)
        Self.halveToShort(t, count: 160, output, halve16)
    }
}
