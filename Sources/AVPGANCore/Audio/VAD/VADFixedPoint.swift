/// Integer primitives of the WebRTC detector's fixed-point arithmetic.
///
/// The detector is defined by 16- and 32-bit two's-complement arithmetic: products are taken in
/// 32 bits, narrowing to 16 bits keeps the low bits, right shifts of signed values are
/// arithmetic. Every helper here reproduces exactly that, so decisions match bit for bit.
@usableFromInline
enum VADFixedPoint {
    /// Narrows a 32-bit value to 16 bits, keeping the low 16 bits (no trap).
    @inline(__always) @usableFromInline
    static func s16(_ x: Int32) -> Int16 { Int16(truncatingIfNeeded: x) }

    /// Left shifts `x` can take before its sign bit would change; 0 for 0.
    @inline(__always)
    static func headroom(_ x: Int32) -> Int32 {
        x == 0 ? 0 : Int32((x < 0 ? ~x : x).leadingZeroBitCount) - 1
    }

    /// Leading zero bits of an unsigned value; 0 for 0.
    @inline(__always)
    static func headroom(_ x: UInt32) -> Int32 {
        x == 0 ? 0 : Int32(x.leadingZeroBitCount)
    }

    /// 32-by-16-bit division truncating toward zero; a zero divisor gives Int32.max.
    @inline(__always)
    static func divide(_ numerator: Int32, by denominator: Int16) -> Int32 {
        denominator == 0 ? Int32.max : numerator / Int32(denominator)
    }

    /// `divide` of a signed numerator as WebRTC's Gaussian updates do it: the magnitude divided,
    /// wrapped to 16 bits (`s16`), and the sign put back (a numerator <= 0 is negated first).
    @inline(__always)
    static func signedQuotient(_ numerator: Int32, by denominator: Int16) -> Int16 {
        numerator > 0 ? s16(divide(numerator, by: denominator)) : 0 &- s16(divide(0 &- numerator, by: denominator))
    }

    /// The sum of squares of `count` samples, each square shifted right by a common amount
    /// chosen from the peak magnitude and the count so the sum fits 32 bits.
    /// Returns the (unsigned) sum and the shift applied.
    @inline(__always)
    static func scaledEnergy(_ x: UnsafePointer<Int16>, count: Int) -> (energy: UInt32, shift: Int32) {
        // Peak magnitude, where negating -32768 wraps back to -32768 (and so never wins).
        var peak: Int16 = -1
        for i in 0..<count {
            let v = x[i]
            let magnitude = v > 0 ? v : 0 &- v
            if magnitude > peak { peak = magnitude }
        }
        var shift: Int32 = 0
        if peak != 0 {
            let bitsInCount = Int32(32 - UInt32(count).leadingZeroBitCount)
            let room = headroom(Int32(peak) &* Int32(peak))
            shift = room > bitsInCount ? 0 : bitsInCount - room
        }
        var sum: Int32 = 0
        for i in 0..<count {
            let v = Int32(x[i])
            sum &+= (v &* v) >> shift
        }
        return (UInt32(bitPattern: sum), shift)
    }
}
