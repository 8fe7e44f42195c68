/// torchvision's `roi_align` (aligned false, the default GFPGAN uses to crop eyes and mouths
/// from faces) on NCHW images, and its reverse mode. Box k of image `b` spans `[x1, x2] x
/// [y1, y2]` (times `spatialScale`), at least 1 px each way; each of its `P x P` output bins
/// averages `g x g` bilinear samples at the bin's sub-cell centres, g = `samplingRatio`, or
/// `ceil(box side / P)` when that is not positive. A sample more than 1 px outside the picture
/// reads 0; one inside the last pixel or the border strip reads the edge.
enum RoIAlign {
    struct Box: Equatable, Sendable {
        var image: Int
        var x1: Float, y1: Float, x2: Float, y2: Float
    }

    /// The four taps (flat pixel indices) and weights of every sample of one box, bin by bin:
    /// bin `(ph, pw)`'s samples are `taps[bin]`, each with the bins' common `1 / count`.
    struct Taps {
        var index: [[Int]] = [], weight: [[Float]] = []
    }

    static func taps(_ box: Box, height: Int, width: Int, output p: Int, spatialScale: Float, samplingRatio: Int) -> Taps {
        let x0 = box.x1 * spatialScale, y0 = box.y1 * spatialScale
        let roiWidth = max(box.x2 * spatialScale - x0, 1), roiHeight = max(box.y2 * spatialScale - y0, 1)
        let binWidth = roiWidth / Float(p), binHeight = roiHeight / Float(p)
        let gridH = samplingRatio > 0 ? samplingRatio : Int((roiHeight / Float(p)).rounded(.up))
        let gridW = samplingRatio > 0 ? samplingRatio : Int((roiWidth / Float(p)).rounded(.up))
        let scale = 1 / Float(max(gridH * gridW, 1))
        var taps = Taps()
        for ph in 0..<p {
            for pw in 0..<p {
                var index: [Int] = [], weight: [Float] = []
                for iy in 0..<gridH {
                    let y = y0 + Float(ph) * binHeight + (Float(iy) + 0.5) * binHeight / Float(gridH)
                    for ix in 0..<gridW {
                        let x = x0 + Float(pw) * binWidth + (Float(ix) + 0.5) * binWidth / Float(gridW)
                        guard y >= -1, y <= Float(height), x >= -1, x <= Float(width) else { continue }
                        var yy = max(y, 0), xx = max(x, 0)
                        var yLow = Int(yy), xLow = Int(xx), yHigh = yLow + 1, xHigh = xLow + 1
                        if yLow >= height - 1 { yLow = height - 1; yHigh = yLow; yy = Float(yLow) }
                        if xLow >= width - 1 { xLow = width - 1; xHigh = xLow; xx = Float(xLow) }
                        let ly = yy - Float(yLow), lx = xx - Float(xLow), hy = 1 - ly, hx = 1 - lx
                        index += [yLow * width + xLow, yLow * width + xHigh, yHigh * width + xLow, yHigh * width + xHigh]
                        weight += [hy * hx * scale, hy * lx * scale, ly * hx * scale, ly * lx * scale]
                    }
                }
                taps.index.append(index)
                taps.weight.append(weight)
            }
        }
        return taps
    }

    /// `out[K, C, P, P]` from `input[N, C, H, W]` for the K `boxes`.
    static func forward(_ input: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int, boxes: [Box], output p: Int,
                        spatialScale: Float = 1, samplingRatio: Int = -1, into out: UnsafeMutablePointer<Float>) throws {
        let plane = height * width
        for (k, box) in boxes.enumerated() {
            guard (0..<batch).contains(box.image), box.x1.isFinite, box.y1.isFinite, box.x2.isFinite, box.y2.isFinite else {
                throw AVPGANError.invalid("RoI box \(k) (\(box)) is not a finite box of one of the \(batch) images")
            }
            let t = taps(box, height: height, width: width, output: p, spatialScale: spatialScale, samplingRatio: samplingRatio)
            for c in 0..<channels {
                let source = input + (box.image * channels + c) * plane, target = out + (k * channels + c) * p * p
                for bin in 0..<(p * p) {
                    var v: Float = 0
                    for (i, w) in zip(t.index[bin], t.weight[bin]) { v += source[i] * w }
                    target[bin] = v
                }
            }
        }
    }

    /// Reverse mode: ADDS to `gradInput[N, C, H, W]` each output bin's gradient spread back over
    /// the samples it read, with their weights.
    static func backward(_ gradOutput: UnsafePointer<Float>, batch: Int, channels: Int, height: Int, width: Int, boxes: [Box], output p: Int,
                         spatialScale: Float = 1, samplingRatio: Int = -1, into gradInput: UnsafeMutablePointer<Float>) throws {
        let plane = height * width
        for (k, box) in boxes.enumerated() {
            guard (0..<batch).contains(box.image) else { throw AVPGANError.invalid("RoI box \(k) names image \(box.image) of \(batch)") }
            let t = taps(box, height: height, width: width, output: p, spatialScale: spatialScale, samplingRatio: samplingRatio)
            for c in 0..<channels {
                let target = gradInput + (box.image * channels + c) * plane, source = gradOutput + (k * channels + c) * p * p
                for bin in 0..<(p * p) {
                    let g = source[bin]
                    for (i, w) in zip(t.index[bin], t.weight[bin]) { target[i] += g * w }
                }
            }
        }
    }
}
