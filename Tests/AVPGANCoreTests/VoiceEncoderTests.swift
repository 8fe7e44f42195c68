@testable import AVPGANCore
import XCTest

/// The voice encoder builds its first im2col straight from frame-major features and sizes each
/// buffer to its layer (VoiceEncoder.embed); the embedding must be, bit for bit, what the plain
/// layer-by-layer convolution of the channels-first features gives, for any number of frames.
final class VoiceEncoderTests: XCTestCase {
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

    func testEmbedEqualsPlainConvolutions() throws {
        let model = try Model(path: "\(Fixtures.golden("avpgan"))/model.safetensors")
        var rng = SystemRandomNumberGenerator.Seeded(seed: 7)
        for frames in [1, 2, 3, 31, 32, 33, 1000, 8193, 24_225, 50_001] {
            let features = (0..<(frames * 64)).map { _ in Float.random(in: -3...3, using: &rng) }
            let whole = Self.wholeSignal(model.voiceEncoder, features, frames: frames)
            var embedded = [Float](repeating: 0, count: model.embedDim)
            try model.embed(features: features, frames: frames, melBands: 64, into: &embedded)
            if embedded != whole.embedding {
                let d = zip(embedded, whole.embedding).map { abs($0 - $1) }.max()!
                XCTFail("\(frames) frames: embed differs from the plain convolutions by up to \(d)")
            }
        }
    }
}
