/// Does an enhancer restore held-out faces better than bicubic upscaling? (issue 17: by at
/// least 1 dB PSNR). For each held-out face of an `EnhancerFaceSet`, at the enhancer's size S:
/// 1. the truth, optionally degraded first (`Options.degradation`, seeded per face: `seed`
///    and the face's index), is shrunk to `lowSize` px, the size of the generator's portraits
///    by default (the antialiased bilinear of `ImageResize`, PIL's and torch's
///    `antialias=True`), and rounded to 8-bit levels: the low-resolution input;
/// 2. the enhancer restores it as a portrait is enhanced (`Enhancer.enhanceRGB8`: enlarged
///    bilinearly to S, the network, clamped and rounded to 8 bits);
/// 3. the baseline enlarges it to S by `BicubicResize`, clamped and rounded to 8 bits;
/// 4. PSNR and SSIM (`ImageQuality`, on RGB) of each against the truth, averaged over the faces
///    (the PSNRs' mean, not the PSNR of the mean error, as basicsr reports).
/// The sample sheet shows, per row, the input (enlarged by repeating pixels), the enhancer's
/// output and the truth, as a PNG.
public enum EnhancerValidation {
    public struct Options: Sendable {
        /// Side of the low-resolution input in pixels (at most the enhancer's size).
        public var lowSize = 64
        /// Applied to each face before shrinking it (nil: shrinking alone, the measure).
        public var degradation: FaceDegradation? = nil
        /// Seeds the degradations.
        public var seed: UInt64 = 1
        /// Rows of the sample sheet (the first held-out faces); 0 makes no sheet.
        public var sheetRows = 8

        public init() {}
    }

    public struct Report: Sendable {
        public var faces: Int
        /// Mean PSNR (dB) and SSIM of the enhancer's outputs and of the bicubic baseline.
        public var enhancerPSNR: Double, enhancerSSIM: Double
        public var bicubicPSNR: Double, bicubicSSIM: Double
        /// PNG of input | output | truth rows (empty when no rows were asked for).
        public var sheet: [UInt8]

        /// The enhancer's PSNR gain over bicubic, in dB.
        public var gain: Double { enhancerPSNR - bicubicPSNR }
    }

    /// Measures `enhancer` on `faces`' held-out faces (their size must be the enhancer's).
    public static func run(_ enhancer: Enhancer, faces: EnhancerFaceSet, options: Options = Options()) throws -> Report {
        let s = enhancer.size, low = options.lowSize
        guard faces.size == s else {
            throw AVPGANError.invalid("the faces are \(faces.size) px but the enhancer makes \(s) px faces: validate on faces of its size")
        }
        guard (4...s).contains(low) else { throw AVPGANError.invalid("the low-resolution size \(low) must lie in 4...\(s)") }
        guard options.sheetRows >= 0 else { throw AVPGANError.invalid("the sample sheet's rows \(options.sheetRows) must not be negative") }
        try options.degradation?.validate()
        var sums = (ep: 0.0, es: 0.0, bp: 0.0, bs: 0.0)
        var sheet: [Float] = []
        let rows = min(options.sheetRows, faces.validation.count)
        for (n, index) in faces.validation.enumerated() {
            var truth = faces.planes(index)
            let input = try lowResolution(truth, size: s, low: low, degradation: options.degradation,
                                          seed: EnhancerBatchSampler.mix(options.seed, UInt64(index), 0x7A11D))
            var restored = [UInt8](repeating: 0, count: 3 * s * s)
            try input.rgb.withUnsafeBufferPointer {
                try enhancer.enhanceRGB8($0.baseAddress!, width: low, height: low, rowStride: 3 * low, into: &restored)
            }
            let output = planes(restored, size: s)
            let bicubic = try BicubicResize.resize(input.planes, channels: 3, height: low, width: low, outHeight: s, outWidth: s)
                .map { Float(FaceDegradation.level($0)) / 255 }
            sums.ep += try ImageQuality.psnr(output, truth, height: s, width: s)
            sums.es += try ImageQuality.ssim(output, truth, height: s, width: s)
            sums.bp += try ImageQuality.psnr(bicubic, truth, height: s, width: s)
            sums.bs += try ImageQuality.ssim(bicubic, truth, height: s, width: s)
            if n < rows {
                for i in truth.indices { truth[i] = truth[i] * 2 - 1 }
                sheet += nearest(input.planes, from: low, to: s).map { $0 * 2 - 1 } + output.map { $0 * 2 - 1 } + truth
            }
        }
        let count = Double(faces.validation.count)
        let png = rows == 0 ? [] : try FaceGrid.png(sheet, count: 3 * rows, size: s, columns: 3,
                                                   text: [("Description", "enhancer validation: input | output | truth")])
        return Report(faces: faces.validation.count, enhancerPSNR: sums.ep / count, enhancerSSIM: sums.es / count,
                      bicubicPSNR: sums.bp / count, bicubicSSIM: sums.bs / count, sheet: png)
    }

    /// The low-resolution input of a face `truth[3, size, size]` in [0, 1]: as RGB8
    /// `[low, low, 3]` and as planes in [0, 1] (the same 8-bit levels).
    static func lowResolution(_ truth: [Float], size: Int, low: Int, degradation: FaceDegradation?,
                              seed: UInt64) throws -> (rgb: [UInt8], planes: [Float]) {
        let face = try degradation?.degrade(truth, height: size, width: size, seed: seed) ?? truth
        let plane = size * size
        var rgb = [UInt8](repeating: 0, count: 3 * plane)
        for p in 0..<plane { for c in 0..<3 { rgb[3 * p + c] = FaceDegradation.level(face[c * plane + p]) } }
        var small = [Float](repeating: 0, count: 3 * low * low)
        let scratch = try FloatStorage(count: 3 * size * low)
        rgb.withUnsafeBufferPointer { source in
            small.withUnsafeMutableBufferPointer {
                ImageResize.normalizedPlanes(source.baseAddress!, width: size, height: size, size: low, mean: 0, std: 255, bgr: false,
                                             scratch: scratch.pointer, into: $0.baseAddress!)
            }
        }
        let levels = small.map { FaceDegradation.level($0) }
        let lowPlane = low * low
        var lowRGB = [UInt8](repeating: 0, count: 3 * lowPlane)
        for p in 0..<lowPlane { for c in 0..<3 { lowRGB[3 * p + c] = levels[c * lowPlane + p] } }
        return (lowRGB, levels.map { Float($0) / 255 })
    }

    /// RGB8 `[size, size, 3]` as planes `[3, size, size]` in [0, 1].
    static func planes(_ rgb: [UInt8], size: Int) -> [Float] {
        let plane = size * size
        var out = [Float](repeating: 0, count: 3 * plane)
        for p in 0..<plane { for c in 0..<3 { out[c * plane + p] = Float(rgb[3 * p + c]) / 255 } }
        return out
    }

    /// Planes `[3, from, from]` enlarged to `[3, to, to]` by repeating pixels (nearest neighbour).
    static func nearest(_ image: [Float], from: Int, to: Int) -> [Float] {
        var out = [Float](repeating: 0, count: 3 * to * to)
        for c in 0..<3 { for y in 0..<to { for x in 0..<to {
            out[(c * to + y) * to + x] = image[(c * from + y * from / to) * from + x * from / to]
        } } }
        return out
    }
}
