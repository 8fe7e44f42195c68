/// A generated face and what it came from.
public struct Portrait: Sendable {
    /// `size x size x 3` RGB8.
    public var pixels: [UInt8]
    public var size: Int
    /// The unit voice embedding the face was generated from (after any noise).
    public var embedding: [Float]
    public var features: VoiceFeatures
    public var mapping: PixelMapping
}
