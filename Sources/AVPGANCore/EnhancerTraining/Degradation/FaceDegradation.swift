#if canImport(Glibc)
import Glibc
#endif

/// The degradation that makes an enhancer's training input from a high-resolution face,
/// GFPGAN's recipe (its `FFHQDegradationDataset` with `train_gfpgan_v1.yml`'s ranges, the
/// defaults here): blur with a random Gaussian kernel (isotropic or anisotropic), shrink by a
/// random factor, add Gaussian noise, JPEG-compress at a random quality, enlarge back to the
/// face's size, and round to 8-bit levels. Shrinking by up to 8 takes a 128 px face down to
/// 16 px and a 256 px one to 32 px, so the generator's 64 px faces lie inside the range.
/// Each stage can be switched off (its range nil); the random draws are made whether a stage
/// is on or not, so switching one off leaves the others' parameters as they were.
/// docs/enhancer-training.md describes it. Colour jitter and grey conversion are not done.
public struct FaceDegradation: Sendable, Equatable {
    /// Side of the blur kernel (odd).
    public var kernelSize = 41
    /// Chance of an isotropic kernel (else anisotropic, rotated by a uniform angle in [-π, π]).
    public var isotropicProbability = 0.5
    /// Range of each σ of the kernel, in pixels of the face; nil: no blur.
    public var blurSigma: ClosedRange<Double>? = 0.1...10
    /// Range of the shrink factor; nil: no resizing.
    public var downsample: ClosedRange<Double>? = 0.8...8
    /// Range of the noise's σ in 8-bit levels (of 255); nil: no noise.
    public var noiseSigma: ClosedRange<Double>? = 0...20
    /// Range of the JPEG quality; nil: no compression.
    public var jpegQuality: ClosedRange<Double>? = 60...100

    public init() {}

    /// The random parameters of one degradation.
    public struct Draw: Equatable, Sendable {
        public var isotropic: Bool
        public var sigmaX: Double, sigmaY: Double, theta: Double
        public var scale: Double
        public var noiseSigma: Double
        public var quality: Int
        /// Seeds the noise's generator.
        public var noiseSeed: UInt64
    }

    /// Draws the parameters for `seed`, always in the same order.
    public func draw(seed: UInt64) -> Draw {
        var random = SplitMix(seed: seed)
        func uniform(_ range: ClosedRange<Double>?) -> Double {
            let u = random.openUnitDouble()
            guard let range else { return 0 }
            return range.lowerBound + u * (range.upperBound - range.lowerBound)
        }
        let isotropic = random.openUnitDouble() < isotropicProbability
        let sigmaX = uniform(blurSigma), sigmaY = uniform(blurSigma)
        let theta = uniform(-Double.pi...Double.pi)
        let scale = uniform(downsample), noise = uniform(noiseSigma), quality = uniform(jpegQuality)
        return Draw(isotropic: isotropic, sigmaX: sigmaX, sigmaY: isotropic ? sigmaX : sigmaY, theta: isotropic ? 0 : theta,
                    scale: scale, noiseSigma: noise, quality: min(100, max(1, Int(quality))), noiseSeed: random.next())
    }

    /// Checks the settings; the error names the field.
    public func validate() throws {
        guard kernelSize >= 1, kernelSize % 2 == 1, kernelSize <= 201 else {
            throw AVPGANError.invalid("degradation kernel size \(kernelSize) must be odd, 1...201")
        }
        guard (0...1).contains(isotropicProbability) else {
            throw AVPGANError.invalid("degradation isotropic probability \(isotropicProbability) is outside 0...1")
        }
        if let s = blurSigma, !(s.lowerBound > 0 && s.upperBound.isFinite) {
            throw AVPGANError.invalid("degradation blur sigma \(s) must be positive and finite")
        }
        if let d = downsample, !(d.lowerBound > 0 && d.upperBound.isFinite) {
            throw AVPGANError.invalid("degradation downsample range \(d) must be positive and finite")
        }
        if let n = noiseSigma, !(n.lowerBound >= 0 && n.upperBound.isFinite) {
            throw AVPGANError.invalid("degradation noise sigma \(n) must be non-negative and finite")
        }
        if let q = jpegQuality, !(q.lowerBound >= 1 && q.upperBound <= 100) {
            throw AVPGANError.invalid("degradation JPEG quality \(q) must lie in 1...100")
        }
    }

    /// The degraded `[3, H, W]` face (values in [0, 1], multiples of 1/255) from `face[3, H, W]`
    /// (RGB, [0, 1]) for `seed`. The same seed gives the same bytes at any thread count.
    public func degrade(_ face: [Float], height: Int, width: Int, seed: UInt64) throws -> [Float] {
        try validate()
        guard height > 0, width > 0, face.count == 3 * height * width else {
            throw AVPGANError.invalid("a face to degrade must be 3 x \(height) x \(width) floats, not \(face.count)")
        }
        return try degrade(face, height: height, width: width, draw: draw(seed: seed))
    }

    /// `degrade` with given parameters (the stages switched off here are skipped).
    public func degrade(_ face: [Float], height: Int, width: Int, draw: Draw) throws -> [Float] {
        var image = face, h = height, w = width
        if blurSigma != nil {
            let kernel = BlurKernel.gaussian(size: kernelSize, sigmaX: draw.sigmaX, sigmaY: draw.sigmaY, theta: draw.theta)
            var out = [Float](repeating: 0, count: image.count)
            let scratch = try FloatStorage(count: ImageFilter.scratchCount(height: h, width: w, kernel: kernelSize))
            image.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    ImageFilter.filter(src.baseAddress!, channels: 3, height: h, width: w, kernel: kernel, size: kernelSize,
                                       into: dst.baseAddress!, scratch: scratch.pointer)
                }
            }
            image = out
        }
        if downsample != nil {
            let small = (h: max(1, Self.floorDivide(h, draw.scale)), w: max(1, Self.floorDivide(w, draw.scale)))
            image = try Self.resized(image, height: h, width: w, to: small)
            (h, w) = small
        }
        if noiseSigma != nil {
            var random = SplitMix(seed: draw.noiseSeed)
            let sigma = Float(draw.noiseSigma / 255)
            for i in image.indices { image[i] = min(1, max(0, image[i] + sigma * Float(random.preciseGaussian()))) }
        }
        if jpegQuality != nil {
            var bytes = [UInt8](repeating: 0, count: image.count)
            let plane = h * w
            for c in 0..<3 { for p in 0..<plane { bytes[p * 3 + c] = Self.level(image[c * plane + p]) } }
            let decoded = try JPEGCodec.decodeRGB8(try JPEGCodec.encodeRGB8(bytes, width: w, height: h, quality: draw.quality)).pixels
            for c in 0..<3 { for p in 0..<plane { image[c * plane + p] = Float(decoded[p * 3 + c]) / 255 } }
        }
        if (h, w) != (height, width) { image = try Self.resized(image, height: h, width: w, to: (height, width)) }
        return image.map { Float(Self.level($0)) / 255 }
    }

    /// `Int(n // scale)` as Python computes a float floor division (GFPGAN's shrunken size):
    /// from the remainder `fmod(n, scale)`, so 36 // 0.8 is 44 (0.8 is a little above 4/5).
    static func floorDivide(_ n: Int, _ scale: Double) -> Int {
        let x = Double(n), remainder = fmod(x, scale)
        let quotient = (x - remainder) / scale
        var result = quotient.rounded(.down)
        if quotient - result > 0.5 { result += 1 }
        return Int(result)
    }

    /// The nearest 8-bit level of `v` (clamped to [0, 1] first; halves round away from zero).
    static func level(_ v: Float) -> UInt8 { UInt8((min(1, max(0, v)) * 255).rounded()) }

    static func resized(_ image: [Float], height: Int, width: Int, to size: (h: Int, w: Int)) throws -> [Float] {
        var out = [Float](repeating: 0, count: 3 * size.h * size.w)
        let scratch = try FloatStorage(count: LinearResize.scratchCount(height: height, outWidth: size.w))
        image.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                LinearResize.resize(src.baseAddress!, channels: 3, height: height, width: width, outHeight: size.h, outWidth: size.w,
                                    into: dst.baseAddress!, scratch: scratch.pointer)
            }
        }
        return out
    }
}
