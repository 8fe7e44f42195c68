@testable import AVPGANCore
import Dispatch
import XCTest

/// `SubPixelWeights`: a generator layer keeps its weights as read until its first forward, then
/// only their regrouped copy, completed by the first forward that takes the sub-pixel Winograd
/// way; its col2im results do not change with that; concurrent first calls agree.
final class SubPixelWeightsTests: XCTestCase {
    static let (c, o, side) = (32, 16, 8)
    /// 4 images of 8x8 are 64 tiles: the sub-pixel way. One image (16 tiles): col2im.
    static let (wide, narrow) = (4, 1)

    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(s % 2_000_000) / 1_000_000 - 1
        }
    }

    func layer(subPixel: Bool) throws -> ConvTranspose2d {
        ConvTranspose2d(weight: try FloatStorage(values(Self.c * Self.o * 16, seed: 3)), inChannels: Self.c, outChannels: Self.o,
                        geometry: .square(4, stride: 2, padding: 1), subPixel: subPixel)
    }

    /// The layer's output (CNHW) for `batch` images of the fixed input, bias 0.1 and ReLU.
    func run(_ conv: ConvTranspose2d, batch: Int) throws -> [Float] {
        let (c, o, h) = (Self.c, Self.o, Self.side)
        var x = values(c * batch * h * h, seed: 5)
        var out = [Float](repeating: .nan, count: o * batch * 4 * h * h)
        var cols = [Float](repeating: .nan, count: conv.scratchCount(batch: batch, h: h, w: h))
        let epilogue = Epilogue(scale: nil, shift: try FloatStorage([Float](repeating: 0.1, count: o)), activation: .relu)
        x.withUnsafeMutableBufferPointer { xin in
            out.withUnsafeMutableBufferPointer { yout in
                conv.forward(FeatureMap(data: xin.baseAddress!, channels: c, batch: batch, height: h, width: h),
                             into: FeatureMap(data: yout.baseAddress!, channels: o, batch: batch, height: 2 * h, width: 2 * h),
                             epilogue: epilogue, cols: &cols)
            }
        }
        return out
    }

    /// "original", "taps", "transformed", or "fixed" for a layer without the sub-pixel way.
    func state(_ conv: ConvTranspose2d) -> String {
        guard case let .subPixel(lazy) = conv.weights else { return "fixed" }
        switch lazy.current {
        case .original: return "original"
        case .taps: return "taps"
        case .transformed: return "transformed"
        }
    }

    func testTransformsOnTheFirstSubPixelForwardOnly() throws {
        let conv = try layer(subPixel: true)
        XCTAssertEqual(state(conv), "original", "a freshly built layer already holds transformed weights (the load would pay for them)")
        XCTAssertFalse(conv.usesSubPixel(batch: Self.narrow, h: Self.side, w: Self.side))
        _ = try run(conv, batch: Self.narrow)
        XCTAssertEqual(state(conv), "taps", "after a col2im forward (16 tiles)")
        XCTAssertTrue(conv.usesSubPixel(batch: Self.wide, h: Self.side, w: Self.side))
        _ = try run(conv, batch: Self.wide)
        XCTAssertEqual(state(conv), "transformed", "after a sub-pixel forward (64 tiles)")
        let direct = try layer(subPixel: true)
        _ = try run(direct, batch: Self.wide)
        XCTAssertEqual(state(direct), "transformed", "after a first forward by the sub-pixel way")
        let training = try layer(subPixel: false)
        _ = try run(training, batch: Self.wide)
        XCTAssertEqual(state(training), "fixed", "a layer built without subPixel")
    }

    /// The col2im way reads the regrouped taps whether or not the Winograd components exist:
    /// a portrait does not change with the calls made before it; and it is the plain layer's
    /// sum (the GEMMs' shapes differ, so not bit for bit).
    func testCol2imResultsDoNotDependOnTheCallsBefore() throws {
        let plain = try layer(subPixel: false), conv = try layer(subPixel: true)
        let expected = try run(plain, batch: Self.narrow)
        let before = try run(conv, batch: Self.narrow)
        _ = try run(conv, batch: Self.wide)
        XCTAssertEqual(state(conv), "transformed")
        let after = try run(conv, batch: Self.narrow)
        let first = before.indices.first { before[$0].bitPattern != after[$0].bitPattern }
        XCTAssertNil(first, "the col2im way changed after a sub-pixel forward, at output \(first ?? -1)")
        let d = maxAbsDifference(before, expected)
        XCTAssertLessThan(d.value, 1e-5, "col2im on the regrouped taps differs from a plain layer's by \(d.value) at \(d.index)")
    }

    func testConcurrentFirstCallsAgreeWithASequentialRun() throws {
        let sequential = try layer(subPixel: true)
        let expected = [try run(sequential, batch: Self.wide), try run(sequential, batch: Self.narrow)]
        let shared = try layer(subPixel: true)
        let threads = 6
        var results = [[[Float]]](repeating: [], count: threads)
        let lock = PThreadMutex()
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            // Half the threads start with the col2im way, half with the sub-pixel way.
            let order = t % 2 == 0 ? [Self.wide, Self.narrow] : [Self.narrow, Self.wide]
            var got: [Int: [Float]] = [:]
            for batch in order { got[batch] = try? run(shared, batch: batch) }
            lock.withLock { results[t] = [got[Self.wide] ?? [], got[Self.narrow] ?? []] }
        }
        XCTAssertEqual(state(shared), "transformed")
        for t in 0..<threads {
            XCTAssertEqual(results[t][0], expected[0], "thread \(t): the sub-pixel forward differs from a sequential run")
            XCTAssertEqual(results[t][1], expected[1], "thread \(t): the col2im forward differs from a sequential run")
        }
    }
}
