/// Sum and maximum of a float run. A scalar loop is bound by the latency of its single
/// dependent add chain (the compiler may not reorder float adds), so this keeps four
/// independent 4-lane accumulators: SIMD4 maps to one SSE register on every x86-64.
@inline(__always)
func sumAndMax(_ p: UnsafePointer<Float>, count n: Int) -> (sum: Float, max: Float) {
    let raw = UnsafeRawPointer(p)
    var s0 = SIMD4<Float>(), s1 = SIMD4<Float>(), s2 = SIMD4<Float>(), s3 = SIMD4<Float>()
    var m0 = SIMD4<Float>(repeating: -.infinity), m1 = m0, m2 = m0, m3 = m0
    var i = 0
    while i + 16 <= n {
        let a = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD4<Float>.self)
        let b = raw.loadUnaligned(fromByteOffset: 4 * i + 16, as: SIMD4<Float>.self)
        let c = raw.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD4<Float>.self)
        let d = raw.loadUnaligned(fromByteOffset: 4 * i + 48, as: SIMD4<Float>.self)
        s0 += a; s1 += b; s2 += c; s3 += d
        m0.replace(with: a, where: a .> m0)
        m1.replace(with: b, where: b .> m1)
        m2.replace(with: c, where: c .> m2)
        m3.replace(with: d, where: d .> m3)
        i += 16
    }
    var sum = ((s0 + s1) + (s2 + s3)).sum()
    let lanes = pointwiseMax(pointwiseMax(m0, m1), pointwiseMax(m2, m3))
    var peak = Swift.max(Swift.max(lanes[0], lanes[1]), Swift.max(lanes[2], lanes[3]))
    while i < n {
        sum += p[i]
        peak = Swift.max(peak, p[i])
        i += 1
    }
    return (sum, peak)
}

/// Σ p[i] in Double. A single Double chain is bound by the add latency (four cycles per
/// float); this keeps four lanes (lane i % 4) and adds them pairwise at the end.
@inline(__always)
func doubleSum(_ p: UnsafePointer<Float>, count n: Int) -> Double {
    var acc = SIMD4<Double>()
    var i = 0
    while i + 4 <= n {
        acc += SIMD4<Double>(Double(p[i]), Double(p[i + 1]), Double(p[i + 2]), Double(p[i + 3]))
        i += 4
    }
    var sum = (acc[0] + acc[1]) + (acc[2] + acc[3])
    while i < n { sum += Double(p[i]); i += 1 }
    return sum
}

/// Σ a[i] b[i] in Double, four lanes like `doubleSum`.
@inline(__always)
func doubleDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Double {
    var acc = SIMD4<Double>()
    var i = 0
    while i + 4 <= n {
        acc += SIMD4<Double>(Double(a[i]), Double(a[i + 1]), Double(a[i + 2]), Double(a[i + 3]))
            * SIMD4<Double>(Double(b[i]), Double(b[i + 1]), Double(b[i + 2]), Double(b[i + 3]))
        i += 4
    }
    var sum = (acc[0] + acc[1]) + (acc[2] + acc[3])
    while i < n { sum += Double(a[i]) * Double(b[i]); i += 1 }
    return sum
}
