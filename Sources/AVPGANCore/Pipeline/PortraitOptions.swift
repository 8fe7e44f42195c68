/// Everything one portrait can be asked for, as one value: the front end's options, the pixel
/// mapping, embedding noise, an optional enhancer and what the PNG carries. The C API's
/// portrait params convert to this field for field.
public struct PortraitOptions: Sendable {
    public var frontEnd: FrontEndOptions
    /// nil = the model's default.
    public var pixels: PixelMapping?
    /// Standard deviation of Gaussian noise added to the unit embedding before re-normalising
    /// (0 = none, at most 10); `seed` makes it repeatable.
    public var noise: Float
    public var seed: UInt64
    /// Restores and enlarges the generator's 8-bit face to the enhancer's size (as
    /// `Enhancer.enhanceRGB8` does with any picture); nil = the generator's face as it is.
    public var enhancer: Enhancer?
    /// The PNG carries provenance text chunks (`PortraitPNG`).
    public var provenance: Bool
    /// The PNG carries its creation time (and so is no longer the same bytes for the same input).
    public var timestamp: Bool

    public init(frontEnd: FrontEndOptions = FrontEndOptions(), pixels: PixelMapping? = nil, noise: Float = 0, seed: UInt64 = 0,
                enhancer: Enhancer? = nil, provenance: Bool = true, timestamp: Bool = false) {
        self.frontEnd = frontEnd
        self.pixels = pixels
        self.noise = noise
        self.seed = seed
        self.enhancer = enhancer
        self.provenance = provenance
        self.timestamp = timestamp
    }

    /// The check a portrait makes of its options before it reads any audio: noise in 0...10.
    public func check() throws {
        guard noise.isFinite, noise >= 0, noise <= 10 else {
            throw AVPGANError.invalid("noise is \(noise), expected 0...10")
        }
    }
}
