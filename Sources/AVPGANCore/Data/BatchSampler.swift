/// One training batch as Algorithm 1 draws it: voices and faces sampled independently.
public struct TrainingBatch: Sendable {
    /// `[n, frames, LogMelExtractor.bands]`, frame-major (the library's feature layout).
    public var voices: [Float]
    public var voiceLabels: [Int]
    /// `[n, 3, S, S]` in [-1, 1], S = `FaceImage.trainingSize`.
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
        (0..<count).map { _ in std * rng.gaussian() }
    }

    /// Loads the training identities of `index`, decoding files on all threads (features come
    /// from the cache or are computed and stored); `progress(done, total)` after each file,
    /// called under a lock from whichever thread finished it.
    public init(index: DatasetIndex, cache: FeatureCache, seed: UInt64, progress: (Int, Int) -> Void = { _, _ in }) throws {
        let voicePaths = index.train.flatMap(\.voices), facePaths = index.train.flatMap(\.faces)
        let total = voicePaths.count + facePaths.count
        var voiceResults = [Result<(values: [Float], frames: Int)?, Error>](repeating: .success(nil), count: voicePaths.count)
        var faceResults = [Result<[Float], Error>](repeating: .success([]), count: facePaths.count)
        let lock = PThreadMutex()
        var done = 0
        func finished() {
            lock.lock()
            done += 1
            progress(done, total)
            lock.unlock()
        }
        voiceResults.withUnsafeMutableBufferPointer { out in
            parallelFor(voicePaths.count, costPerItem: 1 << 20) { i in
                do { out[i] = .success(try cache.features(voicePaths[i])) } catch let e as AVPGANError where e.kind == .noSpeech {
                    // A recording with no speech is skipped, as Voice2Face's loader would find no frames.
                    out[i] = .success(nil)
                } catch { out[i] = .failure(error) }
                finished()
            }
        }
        faceResults.withUnsafeMutableBufferPointer { out in
            parallelFor(facePaths.count, costPerItem: 1 << 20) { i in
                out[i] = Result { try FaceImage.load(facePaths[i]) }
                finished()
            }
        }
        var voices: [[(values: [Float], frames: Int)]] = []
        var faces: [[[Float]]] = []
        var v0 = 0, f0 = 0
        for identity in index.train {
            let v = try voiceResults[v0..<(v0 + identity.voices.count)].compactMap { try $0.get() }
            let f = try faceResults[f0..<(f0 + identity.faces.count)].map { try $0.get() }
            v0 += identity.voices.count
            f0 += identity.faces.count
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
        let bands = LogMelExtractor.bands, side = FaceImage.trainingSize
        var out = TrainingBatch(voices: [Float](repeating: 0, count: n * t * bands), voiceLabels: [], faces: [], faceLabels: [], n: n, frames: t)
        out.faces.reserveCapacity(n * 3 * side * side)
        for b in 0..<n {
            let id = Int(rng.next() % UInt64(identities))
            let utterance = voices[id][Int(rng.next() % UInt64(voices[id].count))]
            let start = utterance.frames > t ? Int(rng.next() % UInt64(utterance.frames - t + 1)) : 0
            copyTiledCrop(utterance, start: start, length: t, into: &out.voices, at: b * t * bands)
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

/// Copies the crop of `length` frames from frame `start` of an utterance (`[frames, bands]`,
/// frame-major, `bands` = `LogMelExtractor.bands`) into `out` from float `offset`, going round
/// to its first frame where it ends first (a short utterance is tiled). Both samplers crop so.
func copyTiledCrop(_ utterance: (values: [Float], frames: Int), start: Int, length: Int, into out: inout [Float], at offset: Int) {
    let bands = LogMelExtractor.bands
    for f in 0..<length {
        let source = (start + f) % utterance.frames
        for m in 0..<bands { out[offset + f * bands + m] = utterance.values[source * bands + m] }
    }
}
