/// One training batch as Algorithm 1 draws it: voices and faces sampled independently.
public struct TrainingBatch: Sendable {
    /// `[n, frames, 64]`, frame-major (the library's feature layout).
    public var voices: [Float]
    public var voiceLabels: [Int]
    /// `[n, 3, 64, 64]` in [-1, 1].
    public var faces: [Float]
    public var faceLabels: [Int]
    public var n: Int
    public var frames: Int
}

/// Draws training batches from a `DatasetIndex`: every training identity's voice features (from
/// the `FeatureCache`) and faces are loaded once; each batch takes one crop length in
/// `cropFrames` (300-800 as Voice2Face), a random identity, utterance and start per voice (an
/// utterance shorter than the crop is tiled), and a random identity and picture per face,
/// mirrored with probability 1/2. Deterministic for a given seed.
public struct BatchSampler: Sendable {
    public let identities: Int
    public var cropFrames: ClosedRange<Int> = 300...800
    let voices: [[(values: [Float], frames: Int)]]
    let faces: [[[Float]]]
    var rng: SplitMix

    /// The generator's state (kept in checkpoints so a resumed run draws the same batches).
    public var randomState: UInt64 {
        get { rng.state }
        set { rng.state = newValue }
    }

    /// `count` values of `std` x N(0, 1) from the sampler's generator (the embedding noise).
    public mutating func gaussians(_ count: Int, std: Float) -> [Float] {
        (0..<count).map { _ in std * NetworkInitializer.gaussian(&rng) }
    }

    /// Loads the training identities of `index`; `progress(done, total)` after each file.
    public init(index: DatasetIndex, cache: FeatureCache, seed: UInt64, progress: (Int, Int) -> Void = { _, _ in }) throws {
        let total = index.train.reduce(0) { $0 + $1.voices.count + $1.faces.count }
        var done = 0
        var voices: [[(values: [Float], frames: Int)]] = []
        var faces: [[[Float]]] = []
        for identity in index.train {
            var v: [(values: [Float], frames: Int)] = []
            for path in identity.voices {
                do { v.append(try cache.features(path)) } catch let e as AVPGANError where e.kind == .noSpeech {
                    // A recording with no speech is skipped, as Voice2Face's loader would find no frames.
                }
                done += 1
                progress(done, total)
            }
            var f: [[Float]] = []
            for path in identity.faces {
                f.append(try FaceImage.load(path))
                done += 1
                progress(done, total)
            }
            guard !v.isEmpty else { throw AVPGANError(.noSpeech, "identity \(identity.name) has no recording with speech") }
            voices.append(v)
            faces.append(f)
        }
        self.identities = index.train.count
        self.voices = voices
        self.faces = faces
        self.rng = SplitMix(seed: seed)
    }

    public mutating func next(batch n: Int) -> TrainingBatch {
        let t = cropFrames.lowerBound + Int(rng.next() % UInt64(cropFrames.count))
        var out = TrainingBatch(voices: [Float](repeating: 0, count: n * t * 64), voiceLabels: [], faces: [], faceLabels: [], n: n, frames: t)
        out.faces.reserveCapacity(n * 3 * 64 * 64)
        for b in 0..<n {
            let id = Int(rng.next() % UInt64(identities))
            let utterance = voices[id][Int(rng.next() % UInt64(voices[id].count))]
            let start = utterance.frames > t ? Int(rng.next() % UInt64(utterance.frames - t + 1)) : 0
            for f in 0..<t {
                let source = (start + f) % utterance.frames
                for m in 0..<64 { out.voices[(b * t + f) * 64 + m] = utterance.values[source * 64 + m] }
            }
            out.voiceLabels.append(id)
        }
        for _ in 0..<n {
            let id = Int(rng.next() % UInt64(identities))
            let face = faces[id][Int(rng.next() % UInt64(faces[id].count))]
            out.faces += rng.next() & 1 == 1 ? FaceImage.flipped(face) : face
            out.faceLabels.append(id)
        }
        return out
    }
}
