@testable import AVPGANCore
import XCTest

/// The voice encoder runs in tiles of `VoiceEncoder.tileFrames` frames (VoiceEncoder.embed).
/// Up to one tile, the embedding must be, bit for bit, what the plain layer-by-layer
/// convolution of the channels-first features gives; longer inputs must give the same bits at
/// any thread count and stay within 1e-5 of the plain convolutions.
final class VoiceEncoderTests: XCTestCase {
    override func tearDown() { try? Threads.set(0) }

    /// The plain encoder: features transposed to channels first, then every layer's Conv2d
    /// (its own im2col) over the whole sequence, as embed computed it before.
    static func wholeSignal(_ encoder: VoiceEncoder, _ features: [Float], frames: Int) -> (embedding: [Float], layers: [[Float]]) {
        var x = [Float](repeating: 0, count: 64 * frames)
        for t in 0..<frames { for m in 0..<64 { x[m * frames + t] = features[t * 64 + m] } }
        var width = frames, layers: [[Float]] = []
        for block in encoder.blocks {
            let outWidth = (width - 1) / 2 + 1
            var y = [Float](repeating: 0, count: block.conv.outChannels * outWidth)
            var cols = [Float](repeating: 0, count: block.conv.scratchCount(batch: 1, h: 1, w: width))
            x.withUnsafeMutableBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    cols.withUnsafeMutableBufferPointer { cp in
                        block.conv.forward(FeatureMap(data: xp.baseAddress!, channels: block.conv.inChannels, batch: 1, height: 1, width: width),
                                           into: FeatureMap(data: yp.baseAddress!, channels: block.conv.outChannels, batch: 1, height: 1, width: outWidth),
                                           epilogue: block.epilogue, cols: cp.baseAddress!)
                    }
                }
            }
            layers.append(y)
            x = y
            width = outWidth
        }
        var e = [Float](repeating: 0, count: encoder.embedDim)
        Reductions.timeMean(x, channels: encoder.embedDim, length: width, into: &e)
        Reductions.l2Normalize(&e, count: encoder.embedDim)
        return (e, layers)
    }

    static func random(frames: Int, seed: UInt64) -> [Float] {
        var rng = SystemRandomNumberGenerator.Seeded(seed: seed)
        return (0..<(frames * 64)).map { _ in Float.random(in: -3...3, using: &rng) }
    }

    func testOneTileEqualsPlainConvolutions() throws {
        let model = try Model(path: "\(Fixtures.golden("avpgan"))/model.safetensors")
        for frames in [1, 2, 3, 31, 32, 33, 1000, VoiceEncoder.tileFrames - 1, VoiceEncoder.tileFrames] {
            let features = Self.random(frames: frames, seed: 7)
            let whole = Self.wholeSignal(model.voiceEncoder, features, frames: frames)
            var embedded = [Float](repeating: 0, count: model.embedDim)
            try model.embed(features: features, frames: frames, melBands: 64, into: &embedded)
            if embedded != whole.embedding {
                let d = zip(embedded, whole.embedding).map { abs($0 - $1) }.max()!
                XCTFail("\(frames) frames: embed differs from the plain convolutions by up to \(d)")
            }
        }
    }

    func testTilesAreDeterministicAndCloseToPlainConvolutions() throws {
        let model = try Model(path: "\(Fixtures.golden("avpgan"))/model.safetensors")
        let tile = VoiceEncoder.tileFrames
        for frames in [tile + 1, 2 * tile + 33, 24_225, 50_001] {
            let features = Self.random(frames: frames, seed: UInt64(frames))
            var results: [[Float]] = []
            for threads in [1, 2, 3, 1] {
                try Threads.set(threads)
                var e = [Float](repeating: 0, count: model.embedDim)
                try model.embed(features: features, frames: frames, melBands: 64, into: &e)
                results.append(e)
            }
            for (i, e) in results.enumerated().dropFirst() where e != results[0] {
                XCTFail("\(frames) frames: run \(i) (threads 1, 2, 3, 1) differs from the first at 1 thread")
            }
            let whole = Self.wholeSignal(model.voiceEncoder, features, frames: frames).embedding
            let scale = whole.map { abs($0) }.max()!
            let d = zip(results[0], whole).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(d, 1e-5 * scale, "\(frames) frames: tiles vs plain convolutions")
        }
    }

    /// Each tile's ranges reach back over the receptive field: the first level covers frames
    /// 2^layers x (start) - (2^layers - 1) on, clipped to the signal, and the ranges tile the
    /// last level exactly.
    func testTileRangesCoverTheReceptiveField() throws {
        let model = try Model(path: "\(Fixtures.golden("avpgan"))/model.safetensors")
        let encoder = model.voiceEncoder, layers = encoder.blocks.count
        var lengths = [100_000]
        for _ in 0..<layers { lengths.append((lengths.last! - 1) / 2 + 1) }
        let r = encoder.ranges(last: 10..<20, lengths: lengths)
        XCTAssertEqual(r[0], (10 << layers) - ((1 << layers) - 1)..<(20 << layers))
        XCTAssertEqual(encoder.ranges(last: 0..<5, lengths: lengths)[0], 0..<(5 << layers))
        XCTAssertEqual(encoder.ranges(last: (lengths[layers] - 1)..<lengths[layers], lengths: lengths)[0].upperBound, 100_000)
    }
}
