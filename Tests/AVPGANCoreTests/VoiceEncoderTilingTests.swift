@testable import AVPGANCore
import XCTest

/// The voice encoder computes its layers a tile at a time (VoiceEncoder.embed); the embedding
/// must be the one the whole-signal convolutions give, bit for bit, for any number of frames.
final class VoiceEncoderTilingTests: XCTestCase {
    /// The whole-signal encoder: every layer over the whole sequence (what embed computed before
    /// it was tiled), with each layer's output for the caller to compare.
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

    func testTilesEqualWholeSignal() throws {
        let model = try Model(path: "\(Fixtures.golden("avpgan"))/model.safetensors")
        var rng = SystemRandomNumberGenerator.Seeded(seed: 7)
        for frames in [1, 2, 31, 32, 33, 1000, 8191, 8192, 8193, 8224, 20_001, 24_200, 50_000] {
            let features = (0..<(frames * 64)).map { _ in Float.random(in: -3...3, using: &rng) }
            let whole = Self.wholeSignal(model.voiceEncoder, features, frames: frames)
            var tiled = [Float](repeating: 0, count: model.embedDim)
            try model.embed(features: features, frames: frames, melBands: 64, into: &tiled)
            if tiled != whole.embedding {
                let d = zip(tiled, whole.embedding).map { abs($0 - $1) }.max()!
                XCTFail("\(frames) frames: the tiled embedding differs from the whole-signal one by up to \(d)")
            }
        }
    }
}
