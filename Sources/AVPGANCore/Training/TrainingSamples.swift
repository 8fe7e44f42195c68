/// The sample sheet a GAN training session (`GANTrainingSession`, `avpgan train`) writes every
/// N steps: for up to 8 fixed recordings (the first of each held-out identity, else of the
/// training identities), the speaker's real picture in the top row and the face the current
/// generator makes of that recording below it, as one PNG. The same recordings at every step,
/// so the sheets show training progress.
public struct TrainingSamples {
    /// Log-mel features (`frames` x `LogMelExtractor.bands`) of each sample recording.
    public let features: [(values: [Float], frames: Int)]
    /// Each identity's real picture as `FaceImage.load` reads it: planar 3 x S x S in [-1, 1], S = `FaceImage.trainingSize`.
    public let pictures: [[Float]]
    public let names: [String]

    /// The first recording with speech and the first picture of up to `count` identities.
    public init(index: DatasetIndex, cache: FeatureCache, count: Int = 8) throws {
        var features: [(values: [Float], frames: Int)] = [], pictures: [[Float]] = [], names: [String] = []
        for identity in (index.test.isEmpty ? index.train : index.test) where features.count < count {
            guard let voice = identity.voices.first, let face = identity.faces.first else { continue }
            do { features.append(try cache.features(voice)) } catch let e as AVPGANError where e.kind == .noSpeech { continue }
            pictures.append(try FaceImage.load(face))
            names.append(identity.name)
        }
        self.features = features
        self.pictures = pictures
        self.names = names
    }

    /// The sheet for `model` (the run's current export) as PNG bytes; `step` goes in its comment.
    public func png(model: Model, step: Int) throws -> [UInt8] {
        let e = model.embedDim, floats = model.imageFloats, n = features.count
        guard n > 0 else { throw AVPGANError(.invalidArgument, "no recording with speech to draw samples from") }
        var embeddings = [Float](repeating: 0, count: n * e)
        for (i, f) in features.enumerated() {
            try embeddings.withUnsafeMutableBufferPointer {
                try model.embed(features: f.values, frames: f.frames, melBands: LogMelExtractor.bands, into: $0.baseAddress! + i * e)
            }
        }
        var faces = [Float](repeating: 0, count: n * floats)
        try model.generate(embeddings: embeddings, count: n, embedDim: e, into: &faces)
        return try FaceGrid.png(pictures.flatMap { $0 } + faces, count: 2 * n, size: model.imageSize, columns: n,
                                text: [("Comment", "avpgan train, step \(step): top row real pictures of \(names.joined(separator: ", ")); bottom row the faces generated from one recording of each")])
    }
}
