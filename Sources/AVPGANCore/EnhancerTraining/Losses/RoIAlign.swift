/// torchvision's `roi_align` as GFPGAN's facial-component losses call it (`spatial_scale` 1,
/// `sampling_ratio` -1, `aligned` False), forward and backward, in Float as torchvision's CPU
/// kernel computes it.
///
/// A box `(x1, y1, x2, y2)` in pixels (no half-pixel offset, so pixel i's centre is at i) is cut
/// into `size x size` bins; each bin averages `g x g'` bilinear samples at the centres of a
/// regular grid in the bin, `g = ceil(box height / size)` (`g'` from the width), box sides at
/// least 1. A sample outside `[-1, height] x [-1, width]` counts as 0; one in `[-1, 0]` is
/// clamped to the edge.
enum RoIAlign {
    /// A box on image `image` of the batch, in pixels.
    struct Box: Equatable {
        var image: Int
        var x1: Float, y1: Float, x2: Float, y2: Float
    }

    /// The four taps of one sample: indices into a plane and their weights.
    struct Sample {
        var i1 = 0, i2 = 0, i3 = 0, i4 = 0
        var w1: Float = 0, w2: Float = 0, w3: Float = 0, w4: Float = 0
    }

    /// Every sample of every bin of `box` (bins row-major, samples row-major within a bin),
    /// and the count each bin's sum is divided by.
    static func samples(_ box: Box, size: Int, height: Int, width: Int) -> (samples: [Sample], perBin: Int) {
        let roiW = max(box.x2 - box.x1, 1), roiH = max(box.y2 - box.y1, 1)
        let binH = roiH / Float(size), binW = roiW / Float(size)
        let gridH = Int(binH.rounded(.up)), gridW = Int(binW.rounded(.up))
        var out: [Sample] = []
        out.reserveCapacity(size * size * gridH * gridW)
        for ph in 0..<size {
            for pw in 0..<size {
                for iy in 0..<gridH {
                    let y = box.y1 + Float(ph) * binH + (Float(iy) + 0.5) * binH / Float(gridH)
                    for ix in 0..<gridW {
                        let x = box.x1 + Float(pw) * binW + (Float(ix) + 0.5) * binW / Float(gridW)
                        out.append(sample(y: y, x: x, height: height, width: width))
                    }
                }
            }
        }
        return (out, max(gridH * gridW, 1))
    }

    /// torchvision's bilinear tap weights at `(y, x)`.
    static func sample(y yIn: Float, x xIn: Float, height: Int, width: Int) -> Sample {
        if yIn < -1 || yIn > Float(height) || xIn < -1 || xIn > Float(width) { return Sample() }
        var y = max(yIn, 0), x = max(xIn, 0)
        var yLow = Int(y), xLow = Int(x), yHigh: Int, xHigh: Int
        if yLow >= height - 1 { yLow = height - 1; yHigh = yLow; y = Float(yLow) } else { yHigh = yLow + 1 }
        if xLow >= width - 1 { xLow = width - 1; xHigh = xLow; x = Float(xLow) } else { xHigh = xLow + 1 }
        let ly = y - Float(yLow), lx = x - Float(xLow), hy = 1 - ly, hx = 1 - lx
        return Sample(i1: yLow * width + xLow, i2: yLow * width + xHigh, i3: yHigh * width + xLow, i4: yHigh * width + xHigh,
                      w1: hy * hx, w2: hy * lx, w3: ly * hx, w4: ly * lx)
    }

    /// Crops `boxes` from `images` (NCHW `[batch, channels, height, width]`) into `out`
    /// (OVERWRITTEN, `[boxes.count, channels, size, size]`).
    static func forward(_ images: UnsafePointer<Float>, channels: Int, height: Int, width: Int, boxes: [Box], size: Int,
                        into out: UnsafeMutablePointer<Float>) {
        forEachBin(channels: channels, height: height, width: width, boxes: boxes, size: size) { k, c, count, bins in
            let src = images + (boxes[k].image * channels + c) * height * width, dst = out + (k * channels + c) * size * size
            for (b, taps) in bins.enumerated() {
                var v: Float = 0
                for s in taps {
                    v += s.w1 * src[s.i1] + s.w2 * src[s.i2] + s.w3 * src[s.i3] + s.w4 * src[s.i4]
                }
                dst[b] = v / Float(count)
            }
        }
    }

    /// Reverse mode: `gradImages` (NCHW, like the images) gets each crop's gradient `gradOut`
    /// (`[boxes.count, channels, size, size]`) ADDED, `dy · w / count` at each tap, in box order
    /// (so overlapping boxes sum the same way at any thread count: channels are split, boxes are not).
    static func backward(_ gradOut: UnsafePointer<Float>, channels: Int, height: Int, width: Int, boxes: [Box], size: Int,
                         into gradImages: UnsafeMutablePointer<Float>) {
        forEachBin(channels: channels, height: height, width: width, boxes: boxes, size: size) { k, c, count, bins in
            let dst = gradImages + (boxes[k].image * channels + c) * height * width, g = gradOut + (k * channels + c) * size * size
            for (b, taps) in bins.enumerated() {
                let dy = g[b]
                for s in taps where s.w1 != 0 || s.w2 != 0 || s.w3 != 0 || s.w4 != 0 {
                    dst[s.i1] += dy * s.w1 / Float(count)
                    dst[s.i2] += dy * s.w2 / Float(count)
                    dst[s.i3] += dy * s.w3 / Float(count)
                    dst[s.i4] += dy * s.w4 / Float(count)
                }
            }
        }
    }

    /// The samples of box after box, each box's channels split over threads (a channel whole on
    /// one thread): `body(box, channel, count, bins)` with `bins` the box's samples bin by bin
    /// (row-major) and `count` the divisor of a bin's sum.
    private static func forEachBin(channels: Int, height: Int, width: Int, boxes: [Box], size: Int,
                                   _ body: (_ box: Int, _ channel: Int, _ count: Int, _ bins: BinSamples) -> Void) {
        for (k, box) in boxes.enumerated() {
            let (taps, count) = samples(box, size: size, height: height, width: width)
            let bins = BinSamples(samples: taps, bins: size * size)
            parallelFor(channels, costPerItem: taps.count * 8) { c in body(k, c, count, bins) }
        }
    }

    /// A box's samples seen bin by bin: element `b` is the slice of bin `b`'s samples.
    struct BinSamples: RandomAccessCollection {
        let samples: [Sample]
        let bins: Int
        var perBin: Int { samples.count / bins }
        var startIndex: Int { 0 }
        var endIndex: Int { bins }
        subscript(b: Int) -> ArraySlice<Sample> { samples[(b * perBin)..<((b + 1) * perBin)] }
    }
}
