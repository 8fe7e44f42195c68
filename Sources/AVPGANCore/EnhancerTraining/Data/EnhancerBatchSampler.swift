/// One training batch of an enhancer: `input` the degraded faces and `truth` the faces, both
/// NCHW `[count, 3, size, size]` RGB in [-1, 1] (`x · 2 - 1` of the [0, 1] pictures);
/// `components` the eye and mouth regions of each face (mirrored with it).
public struct EnhancerBatch: Sendable {
    public let count: Int, size: Int
    public var input: [Float]
    public var truth: [Float]
    /// Each row's face (an index into the set's `paths`), and whether it was mirrored.
    public var faces: [Int]
    public var mirrored: [Bool]
    var components: [FacialComponents]
}

/// The batches of an `EnhancerFaceSet`'s training faces, as GFPGAN's `FFHQDegradationDataset`
/// makes its samples: each face mirrored left to right with probability 1/2 (`use_hflip`,
/// landmarks mirrored too), then degraded by `degradation` (`FaceDegradation`) into the input.
///
/// The samples form one stream: sample `p` is position `p mod n` of epoch `p / n` (n training
/// faces), each epoch a seeded shuffle of the training faces; batch after batch takes the next
/// samples, across epoch ends. Each sample's mirror and degradation come from a generator
/// seeded by (seed, epoch, face), so `position` alone is the sampler's state: setting it back
/// draws the same batches again, byte for byte, at any thread count.
public struct EnhancerBatchSampler: Sendable {
    public let faces: EnhancerFaceSet
    public var degradation: FaceDegradation
    public var seed: UInt64
    /// Mirror half the samples (GFPGAN's `use_hflip`, on in its configurations).
    public var mirror = true
    /// Degrade the faces into inputs; false (the face prior's training, which sees real faces
    /// only) leaves each batch's `input` empty and draws the same mirrors.
    public var degrades = true
    /// Samples drawn so far.
    public var position = 0
    /// The last epoch's order, kept to draw its samples without shuffling again.
    private var order: (epoch: Int, faces: [Int])?

    public init(faces: EnhancerFaceSet, degradation: FaceDegradation = FaceDegradation(), seed: UInt64 = 1) {
        self.faces = faces
        self.degradation = degradation
        self.seed = seed
    }

    public var epoch: Int { position / faces.training.count }

    /// The training faces in epoch `epoch`'s order.
    public func order(epoch: Int) -> [Int] {
        var out = faces.training
        var random = SplitMix(seed: Self.mix(seed, UInt64(epoch), 0x0E90C4))
        for i in stride(from: out.count - 1, to: 0, by: -1) { out.swapAt(i, Int(random.next() % UInt64(i + 1))) }
        return out
    }

    /// The next `count` samples as one batch.
    public mutating func next(batch count: Int) throws -> EnhancerBatch {
        guard (1...4096).contains(count) else { throw AVPGANError.invalid("the batch size is \(count); expected 1...4096") }
        try degradation.validate()
        let n = faces.training.count
        var plan: [(face: Int, epoch: Int)] = []
        for p in position..<(position + count) {
            let e = p / n
            if order?.epoch != e { order = (e, order(epoch: e)) }
            plan.append((order!.faces[p % n], e))
        }
        position += count
        let size = faces.size, floats = 3 * size * size
        let degrades = self.degrades
        var input = [Float](repeating: 0, count: degrades ? count * floats : 0)
        var truth = [Float](repeating: 0, count: count * floats)
        var mirrored = [Bool](repeating: false, count: count)
        var failure: [AVPGANError?] = Array(repeating: nil, count: count)
        let (faces, degradation, seed, mirror) = (self.faces, self.degradation, self.seed, self.mirror)
        input.withUnsafeMutableBufferPointer { inputs in
            truth.withUnsafeMutableBufferPointer { truths in
                mirrored.withUnsafeMutableBufferPointer { flips in
                    failure.withUnsafeMutableBufferPointer { failures in
                        parallelFor(count, costPerItem: 64 * floats) { i in
                            var random = SplitMix(seed: Self.mix(seed, UInt64(plan[i].epoch), UInt64(plan[i].face)))
                            let flip = mirror && random.next() >> 63 == 1
                            let degradationSeed = random.next()
                            let face = faces.planes(plan[i].face, mirrored: flip)
                            for k in 0..<floats { truths[i * floats + k] = face[k] * 2 - 1 }
                            do {
                                if degrades {
                                    let degraded = try degradation.degrade(face, height: size, width: size, seed: degradationSeed)
                                    for k in 0..<floats { inputs[i * floats + k] = degraded[k] * 2 - 1 }
                                }
                            } catch let e as AVPGANError {
                                failures[i] = e
                            } catch {
                                failures[i] = AVPGANError(.internal, "degrading '\(faces.paths[plan[i].face])': \(error)")
                            }
                            flips[i] = flip
                        }
                    }
                }
            }
        }
        if let e = failure.compactMap({ $0 }).first { throw e }
        return EnhancerBatch(count: count, size: size, input: input, truth: truth, faces: plan.map(\.face), mirrored: mirrored,
                             components: zip(plan, mirrored).map { faces.components($0.face, mirrored: $1) })
    }

    /// A 64-bit hash of three numbers (SplitMix64's finaliser over their mix).
    static func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var random = SplitMix(seed: a)
        random.state ^= b &* 0xD6E8_FEB8_6659_FD93
        random.state = random.next() ^ (c &* 0xA076_1D64_78BD_642F)
        return random.next()
    }
}
