/// Face retrieval by pixel distance, the learning check of the synthetic data set: each probe
/// (a face generated from one recording) is ranked against a gallery holding one reference face
/// per identity (the mean of that identity's pictures); the probe is a hit at rank r when its
/// own identity is the r-th nearest by mean squared difference over `[3, S, S]` in [-1, 1].
public struct FaceRetrieval: Sendable {
    /// Gallery faces, `[identities, 3, S, S]`.
    public let gallery: [Float]
    public let identities: Int
    public let faceFloats: Int

    /// One probe's outcome.
    public struct Ranking: Sendable, Equatable {
        /// The true identity's gallery index.
        public var identity: Int
        /// 1 = nearest.
        public var rank: Int
        /// Mean squared difference to its own identity's gallery face.
        public var ownDistance: Float
    }

    /// A gallery from `faces[i]` = the pictures (planar `[3, S, S]` each) of identity i.
    public init(faces: [[[Float]]], faceFloats: Int) throws {
        guard faces.count >= 2 else { throw AVPGANError.invalid("retrieval needs at least 2 identities, got \(faces.count)") }
        var gallery = [Float](repeating: 0, count: faces.count * faceFloats)
        for (i, pictures) in faces.enumerated() {
            guard !pictures.isEmpty else { throw AVPGANError.invalid("identity \(i) has no face pictures") }
            for p in pictures {
                guard p.count == faceFloats else { throw AVPGANError.invalid("a face has \(p.count) values, expected \(faceFloats)") }
                for k in 0..<faceFloats { gallery[i * faceFloats + k] += p[k] }
            }
            let scale = 1 / Float(pictures.count)
            for k in 0..<faceFloats { gallery[i * faceFloats + k] *= scale }
        }
        self.gallery = gallery
        self.identities = faces.count
        self.faceFloats = faceFloats
    }

    /// Mean squared difference of `face` to every gallery face.
    public func distances(_ face: UnsafePointer<Float>) -> [Float] {
        gallery.withUnsafeBufferPointer { g in
            (0..<identities).map { i in
                let row = g.baseAddress! + i * faceFloats
                var sum: Float = 0
                for k in 0..<faceFloats { let d = face[k] - row[k]; sum += d * d }
                return sum / Float(faceFloats)
            }
        }
    }

    /// The rank of `identity` for the probe `face` (ties count against the probe).
    public func rank(_ face: UnsafePointer<Float>, identity: Int) -> Ranking {
        let d = distances(face)
        let own = d[identity]
        let closer = d.enumerated().filter { $0.offset != identity && $0.element <= own }.count
        return Ranking(identity: identity, rank: closer + 1, ownDistance: own)
    }

    /// Summary of many rankings over `identities` candidates.
    public struct Summary: Sendable {
        public var probes: Int
        public var identities: Int
        public var top1: Double
        public var top5: Double
        public var meanRank: Double
        /// Top-1 accuracy of guessing: 1 / identities.
        public var chanceTop1: Double { 1 / Double(identities) }
        /// Top-5 accuracy of guessing.
        public var chanceTop5: Double { min(5, Double(identities)) / Double(identities) }
        /// Mean rank of guessing: (identities + 1) / 2.
        public var chanceMeanRank: Double { Double(identities + 1) / 2 }

        public init(_ rankings: [Ranking], identities: Int) {
            probes = rankings.count
            self.identities = identities
            let n = Double(max(rankings.count, 1))
            top1 = Double(rankings.filter { $0.rank == 1 }.count) / n
            top5 = Double(rankings.filter { $0.rank <= 5 }.count) / n
            meanRank = Double(rankings.reduce(0) { $0 + $1.rank }) / n
        }
    }
}
