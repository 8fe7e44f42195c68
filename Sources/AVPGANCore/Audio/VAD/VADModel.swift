/// Aggressiveness-dependent settings of the detector, per frame length (10, 20, 30 ms).
struct VADThresholds {
    /// Hangover frames after a short speech burst and after a long one.
    var shortHangover: (Int16, Int16, Int16)
    var longHangover: (Int16, Int16, Int16)
    /// Per-band log-likelihood-ratio threshold (compared with 4 x the band's ratio).
    var bandThreshold: (Int16, Int16, Int16)
    /// Threshold on the band-weighted sum of log-likelihood ratios.
    var globalThreshold: (Int16, Int16, Int16)

    /// Mode 0 ("quality") through 3 ("very aggressive"); nil for any other mode.
    init?(mode: Int) {
        switch mode {
        case 0:
            self.init((8, 4, 3), (14, 7, 5), (24, 21, 24), (57, 48, 57))
        case 1:
            self.init((8, 4, 3), (14, 7, 5), (37, 32, 37), (100, 80, 100))
        case 2:
            self.init((6, 3, 2), (9, 5, 3), (82, 78, 82), (285, 260, 285))
        case 3:
            self.init((6, 3, 2), (9, 5, 3), (94, 94, 94), (1100, 1050, 1100))
        default:
            return nil
        }
    }

    private init(_ a: (Int16, Int16, Int16), _ b: (Int16, Int16, Int16), _ c: (Int16, Int16, Int16), _ d: (Int16, Int16, Int16)) {
        shortHangover = a; longHangover = b; bandThreshold = c; globalThreshold = d
    }

    /// The four settings for a frame of `count` samples at 8 kHz (80, 160 or 240).
    @inline(__always)
    func select(frameCount count: Int) -> (short: Int16, long: Int16, band: Int16, global: Int16) {
        switch count {
        case 80: return (shortHangover.0, longHangover.0, bandThreshold.0, globalThreshold.0)
        case 160: return (shortHangover.1, longHangover.1, bandThreshold.1, globalThreshold.1)
        default: return (shortHangover.2, longHangover.2, bandThreshold.2, globalThreshold.2)
        }
    }
}

/// The detector's statistical part: per band a two-component Gaussian mixture for noise and
/// one for speech over the band's log energy, a likelihood-ratio test per band and over all
/// bands, adaptation of both models, a slowly tracked noise floor per band, and hangover.
///
/// Means are Q7 and standard deviations Q7 on the Q4 feature scale shifted by 3 bits (so a
/// mean of 128 is one feature unit x 8). Component `k` of band `b` lives at index `b + 6 * k`.
final class VADModel {
    static let bands = VADFilterbank.bandCount
    static let components = 2
    static let table = bands * components

    // Initial model, index band + 6 * component.
    private static let noiseWeightTable: [Int16] = [34, 62, 72, 66, 53, 25, 94, 66, 56, 62, 75, 103]
    private static let speechWeightTable: [Int16] = [48, 82, 45, 87, 50, 47, 80, 46, 83, 41, 78, 81]
    private static let noiseMeanTable: [Int16] = [6738, 4892, 7065, 6715, 6771, 3369, 7646, 3863, 7820, 7266, 5020, 4362]
    private static let speechMeanTable: [Int16] = [8306, 10085, 10078, 11823, 11843, 6309, 9473, 9571, 10879, 7581, 8180, 7483]
    private static let noiseStdTable: [Int16] = [378, 1064, 493, 582, 688, 593, 474, 697, 475, 688, 421, 455]
    private static let speechStdTable: [Int16] = [555, 505, 567, 524, 585, 1231, 509, 828, 492, 1540, 1079, 850]
    // Per band: weight in the global test, least speech-noise separation (Q5), and the
    // ceilings of the weighted speech and noise means (Q7).
    private static let bandWeightTable: [Int16] = [6, 8, 10, 12, 14, 16]
    private static let minimumSeparationTable: [Int16] = [544, 544, 576, 576, 576, 576]
    private static let speechCeilingTable: [Int16] = [11392, 11392, 11520, 11520, 11520, 11520]
    private static let noiseCeilingTable: [Int16] = [9216, 9088, 8960, 8832, 8704, 8576]

    /// Floors of the speech means, per component (Q7).
    private static let speechMeanFloor: (Int16, Int16) = (640, 768)
    /// Floor of every standard deviation (Q7).
    private static let stdFloor: Int16 = 384
    /// Longest run of speech frames counted for the hangover choice.
    private static let longBurst: Int16 = 6
    /// Number of smallest recent features kept per band, and their lifetime in frames.
    private static let floorSlots = 16
    private static let floorLifetime: Int16 = 100

    // One allocation, laid out as below (all Int16).
    private let storage: UnsafeMutablePointer<Int16>
    private let noiseMeans, speechMeans, noiseStds, speechStds: UnsafeMutablePointer<Int16>
    private let noiseWeights, speechWeights, bandWeights, minimumSeparation, speechCeiling, noiseCeiling: UnsafeMutablePointer<Int16>
    /// Per band, the 16 smallest recent features in ascending order and their ages.
    private let floorValues, floorAges: UnsafeMutablePointer<Int16>
    /// Per band, the smoothed noise floor (Q4).
    private let noiseFloor: UnsafeMutablePointer<Int16>
    // Per-frame scratch: (x - mean) / std^2 per component (Q11) and component posteriors (Q14).
    private let noiseDelta, speechDelta, noisePosterior, speechPosterior: UnsafeMutablePointer<Int16>

    /// Frames with enough energy that updated the model.
    private var updatedFrames: Int32 = 0
    private var hangover: Int16 = 0
    private var speechRun: Int16 = 0

    init() {
        let t = Self.table, b = Self.bands, slots = Self.floorSlots * b
        let total = 4 * t + 2 * t + 4 * b + 2 * slots + b + 4 * t
        storage = .allocate(capacity: total)
        storage.initialize(repeating: 0, count: total)
        var next = storage
        func take(_ n: Int) -> UnsafeMutablePointer<Int16> { defer { next += n }; return next }
        noiseMeans = take(t); speechMeans = take(t); noiseStds = take(t); speechStds = take(t)
        noiseWeights = take(t); speechWeights = take(t)
        bandWeights = take(b); minimumSeparation = take(b); speechCeiling = take(b); noiseCeiling = take(b)
        floorValues = take(slots); floorAges = take(slots)
        noiseFloor = take(b)
        noiseDelta = take(t); speechDelta = take(t); noisePosterior = take(t); speechPosterior = take(t)
        for i in 0..<t {
            noiseWeights[i] = Self.noiseWeightTable[i]
            speechWeights[i] = Self.speechWeightTable[i]
        }
        for i in 0..<b {
            bandWeights[i] = Self.bandWeightTable[i]
            minimumSeparation[i] = Self.minimumSeparationTable[i]
            speechCeiling[i] = Self.speechCeilingTable[i]
            noiseCeiling[i] = Self.noiseCeilingTable[i]
        }
        reset()
    }

    deinit { storage.deallocate() }

    /// Back to the initial model, as a new detector.
    func reset() {
        for i in 0..<Self.table {
            noiseMeans[i] = Self.noiseMeanTable[i]
            speechMeans[i] = Self.speechMeanTable[i]
            noiseStds[i] = Self.noiseStdTable[i]
            speechStds[i] = Self.speechStdTable[i]
        }
        for i in 0..<(Self.floorSlots * Self.bands) {
            floorValues[i] = 10000
            floorAges[i] = 0
        }
        for i in 0..<Self.bands { noiseFloor[i] = 1600 }
        updatedFrames = 0
        hangover = 0
        speechRun = 0
    }

    /// The component-weighted likelihood of `feature` (Q4) under a Gaussian with `mean` and
    /// `std` (Q7), returned in Q20 (1 / std in Q10 times exp(-(x - mean)^2 / (2 std^2)) in
    /// Q10); `delta` receives (x - mean) / std^2 in Q11.
    @inline(__always)
    static func gaussian(_ feature: Int16, mean: Int16, std: Int16, delta: inout Int16) -> Int32 {
        let s = VADFixedPoint.s16
        // 1 / std in Q10, rounded.
        let inverseStd = s(VADFixedPoint.divide(131072 &+ Int32(std >> 1), by: std))
        let inverseQ8 = Int32(inverseStd >> 2)
        let inverseVariance = s((inverseQ8 &* inverseQ8) >> 2)
        let offset = s(Int32(s(Int32(feature) << 3)) &- Int32(mean))
        delta = s((Int32(inverseVariance) &* Int32(offset)) >> 10)
        // (x - mean)^2 / (2 std^2) in Q10; exp is then 2^(-that * log2(e)).
        let exponent = (Int32(delta) &* Int32(offset)) >> 9
        var value: Int16 = 0
        if exponent < 22005 {
            let power = 0 &- s((5909 &* exponent) >> 12) // -exponent * log2(e), Q10
            value = 0x0400 | (power & 0x03FF)
            let shift = ((~power) >> 10) &+ 1
            value = s(Int32(value) >> Int32(shift))
        }
        return Int32(inverseStd) &* Int32(value)
    }

    /// Updates band `band`'s noise floor with this frame's feature and returns it (Q4).
    /// The floor follows the third smallest of the last 100 frames' features, smoothed:
    /// quickly downwards, slowly upwards.
    @inline(__always)
    private func trackFloor(_ feature: Int16, band: Int) -> Int16 {
        let values = floorValues + band * Self.floorSlots, ages = floorAges + band * Self.floorSlots
        // Age the entries; an entry reaching its lifetime is dropped and the rest move down
        // (the entry moved into its slot is not aged this frame).
        var expiringCount: Int16 = 0
        for i in 0..<16 { expiringCount &+= ages[i] == Self.floorLifetime ? 1 : 0 }
        let expiring = expiringCount != 0
        var i = expiring ? 0 : 16
        if !expiring { for j in 0..<16 { ages[j] &+= 1 } }
        while i < 16 {
            if ages[i] != Self.floorLifetime {
                ages[i] &+= 1
            } else {
                var j = i
                while j < 15 { values[j] = values[j + 1]; ages[j] = ages[j + 1]; j += 1 }
                ages[15] = 101
                values[15] = 10000
            }
            i += 1
        }
        // Where the feature goes: the first slot holding a larger value (halving search over
        // the two groups of eight), or nowhere if it is not smaller than the last.
        var position = -1
        var base = -1
        if feature < values[7] { base = 0 } else if feature < values[15] { base = 8 }
        if base >= 0 {
            if !(feature < values[base + 3]) { base += 4 }
            if !(feature < values[base + 1]) { base += 2 }
            if !(feature < values[base]) { base += 1 }
            position = base
        }
        if position >= 0 {
            var k = 15
            while k > position { values[k] = values[k - 1]; ages[k] = ages[k - 1]; k -= 1 }
            values[position] = feature
            ages[position] = 1
        }
        var candidate: Int16 = 1600
        if updatedFrames > 2 { candidate = values[2] } else if updatedFrames > 0 { candidate = values[0] }
        let previous = noiseFloor[band]
        var alpha: Int32 = 0
        if updatedFrames > 0 { alpha = candidate < previous ? 6553 : 32439 } // 0.2 / 0.99, Q15
        let mixed = (alpha &+ 1) &* Int32(previous) &+ (32767 &- alpha) &* Int32(candidate) &+ 16384
        noiseFloor[band] = VADFixedPoint.s16(mixed >> 15)
        return noiseFloor[band]
    }

    /// Adds `shift` to both components' means of `band` in `means` and returns their weighted sum (Q14).
    @inline(__always)
    private static func shiftAndWeigh(_ means: UnsafeMutablePointer<Int16>, _ weights: UnsafeMutablePointer<Int16>,
                                      band: Int, shift: Int16) -> Int32 {
        let a = band, b = band + bands
        means[a] = means[a] &+ shift
        means[b] = means[b] &+ shift
        return Int32(means[a]) &* Int32(weights[a]) &+ Int32(means[b]) &* Int32(weights[b])
    }

    /// Decides one frame from its six features and total-energy measure and adapts the model.
    /// `frameCount` is the frame's length at 8 kHz (80, 160 or 240). Returns true for speech
    /// (including hangover frames).
    func decide(features: UnsafePointer<Int16>, totalEnergy: Int16, frameCount: Int, thresholds: VADThresholds) -> Bool {
        let s = VADFixedPoint.s16
        let limits = thresholds.select(frameCount: frameCount)
        let bands = Self.bands
        var speech = false

        if totalEnergy > VADFilterbank.minimumEnergy {
            var weightedRatioSum: Int32 = 0
            for band in 0..<bands {
                var noiseLikelihood: Int32 = 0, speechLikelihood: Int32 = 0
                var firstNoise: Int32 = 0, firstSpeech: Int32 = 0
                for k in 0..<Self.components {
                    let g = band + k * bands
                    let pn = Int32(noiseWeights[g]) &* Self.gaussian(features[band], mean: noiseMeans[g], std: noiseStds[g],
                                                                       delta: &noiseDelta[g])
                    let ps = Int32(speechWeights[g]) &* Self.gaussian(features[band], mean: speechMeans[g], std: speechStds[g],
                                                                        delta: &speechDelta[g])
                    if k == 0 { firstNoise = pn; firstSpeech = ps }
                    noiseLikelihood &+= pn
                    speechLikelihood &+= ps
                }
                // log2 ratio, approximated by the difference of the likelihoods' bit lengths.
                let noiseBits: Int32 = noiseLikelihood == 0 ? 31 : VADFixedPoint.headroom(noiseLikelihood)
                let speechBits: Int32 = speechLikelihood == 0 ? 31 : VADFixedPoint.headroom(speechLikelihood)
                let ratio = s(noiseBits &- speechBits)
                weightedRatioSum &+= Int32(ratio) &* Int32(bandWeights[band])
                if Int32(ratio) &* 4 > Int32(limits.band) { speech = true }

                // Posterior of each component within its model (Q14).
                let noiseQ15 = s(noiseLikelihood >> 12)
                noisePosterior[band + bands] = 0
                if noiseQ15 > 0 {
                    let top = Int32(bitPattern: (UInt32(bitPattern: firstNoise) & 0xFFFF_F000) << 2)
                    noisePosterior[band] = s(VADFixedPoint.divide(top, by: noiseQ15))
                    noisePosterior[band + bands] = 16384 &- noisePosterior[band]
                } else {
                    noisePosterior[band] = 16384
                }
                let speechQ15 = s(speechLikelihood >> 12)
                speechPosterior[band] = 0
                speechPosterior[band + bands] = 0
                if speechQ15 > 0 {
                    let top = Int32(bitPattern: (UInt32(bitPattern: firstSpeech) & 0xFFFF_F000) << 2)
                    speechPosterior[band] = s(VADFixedPoint.divide(top, by: speechQ15))
                    speechPosterior[band + bands] = 16384 &- speechPosterior[band]
                }
            }
            if weightedRatioSum >= Int32(limits.global) { speech = true }

            adapt(features: features, speech: speech)
            updatedFrames &+= 1
        }

        // Hangover: keep saying speech for a few frames after a burst, longer after a long one.
        if !speech {
            if hangover > 0 {
                speech = true
                hangover -= 1
            }
            speechRun = 0
        } else {
            speechRun += 1
            if speechRun > Self.longBurst {
                speechRun = Self.longBurst
                hangover = limits.long
            } else {
                hangover = limits.short
            }
        }
        return speech
    }

    /// Moves the noise model (on noise frames) or the speech model (on speech frames) towards
    /// the frame, pulls the noise means towards the tracked floor, and keeps the models apart
    /// and under their ceilings.
    @inline(__always)
    private func adapt(features: UnsafePointer<Int16>, speech: Bool) {
        let s = VADFixedPoint.s16
        let bands = Self.bands
        var speechCeilingForMeans = Int32(12800)
        for band in 0..<bands {
            let floor = trackFloor(features[band], band: band)
            let noiseCentre = s(Self.shiftAndWeigh(noiseMeans, noiseWeights, band: band, shift: 0) >> 6) // Q8
            let feature = Int32(features[band])

            for k in 0..<Self.components {
                let g = band + k * bands
                let nm = noiseMeans[g], sm = speechMeans[g]
                var nsd = noiseStds[g], ssd = speechStds[g]

                var noiseMean = nm
                if !speech {
                    let step = s((Int32(noisePosterior[g]) &* Int32(noiseDelta[g])) >> 11)
                    noiseMean = s(Int32(nm) &+ Int32(s((Int32(step) &* 655) >> 22)))
                }
                // Long-term pull of the noise model towards the tracked floor.
                let pull = s((Int32(floor) << 4) &- Int32(noiseCentre))
                noiseMean = s(Int32(noiseMean) &+ Int32(s((Int32(pull) &* 154) >> 9)))
                let low = Int16((k + 5) << 7), high = s(Int32((72 + k - band) << 7))
                if noiseMean < low { noiseMean = low }
                if noiseMean > high { noiseMean = high }
                noiseMeans[g] = noiseMean

                if speech {
                    let step = s((Int32(speechPosterior[g]) &* Int32(speechDelta[g])) >> 11)
                    let moveQ8 = s((Int32(step) &* 6554) >> 21)
                    var speechMean = s(Int32(sm) &+ ((Int32(moveQ8) &+ 1) >> 1))
                    let ceiling = s(speechCeilingForMeans &+ 640)
                    let floorMean = k == 0 ? Self.speechMeanFloor.0 : Self.speechMeanFloor.1
                    if speechMean < floorMean { speechMean = floorMean }
                    if speechMean > ceiling { speechMean = ceiling }
                    speechMeans[g] = speechMean

                    let centred = s(feature &- Int32(s((Int32(sm) &+ 4) >> 3)))
                    let normalised = ((Int32(speechDelta[g]) &* Int32(centred)) >> 3) &- 4096
                    let weighted = (Int32(speechPosterior[g] >> 2) &* normalised) >> 4
                    let divisor = s(Int32(ssd) &* 10)
                    var change = VADFixedPoint.signedQuotient(weighted, by: divisor)
                    change = change &+ 128
                    ssd = ssd &+ (change >> 8)
                    if ssd < Self.stdFloor { ssd = Self.stdFloor }
                    speechStds[g] = ssd
                } else {
                    let centred = s(feature &- Int32(nm >> 3))
                    let normalised = ((Int32(noiseDelta[g]) &* Int32(centred)) >> 3) &- 4096
                    let posterior = s((Int32(noisePosterior[g]) &+ 2) >> 2)
                    let weighted = (Int32(posterior) &* normalised) >> 14
                    var change = VADFixedPoint.signedQuotient(weighted, by: nsd)
                    change = change &+ 32
                    nsd = nsd &+ (change >> 6)
                    if nsd < Self.stdFloor { nsd = Self.stdFloor }
                    noiseStds[g] = nsd
                }
            }

            // Keep the weighted speech mean at least a minimum above the weighted noise mean.
            var noiseSum = Self.shiftAndWeigh(noiseMeans, noiseWeights, band: band, shift: 0)
            var speechSum = Self.shiftAndWeigh(speechMeans, speechWeights, band: band, shift: 0)
            let separation = s(Int32(s(speechSum >> 9)) &- Int32(s(noiseSum >> 9)))
            if separation < minimumSeparation[band] {
                let gap = Int32(s(Int32(minimumSeparation[band]) &- Int32(separation)))
                speechSum = Self.shiftAndWeigh(speechMeans, speechWeights, band: band, shift: s((13 &* gap) >> 2))
                noiseSum = Self.shiftAndWeigh(noiseMeans, noiseWeights, band: band, shift: 0 &- s((3 &* gap) >> 2))
            }

            // Ceilings of the weighted means.
            speechCeilingForMeans = Int32(speechCeiling[band])
            var excess = s(speechSum >> 7)
            if excess > speechCeiling[band] {
                excess = excess &- speechCeiling[band]
                speechMeans[band] = speechMeans[band] &- excess
                speechMeans[band + bands] = speechMeans[band + bands] &- excess
            }
            excess = s(noiseSum >> 7)
            if excess > noiseCeiling[band] {
                excess = excess &- noiseCeiling[band]
                noiseMeans[band] = noiseMeans[band] &- excess
                noiseMeans[band + bands] = noiseMeans[band + bands] &- excess
            }
        }
    }
}
