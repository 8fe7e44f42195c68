/// The weights of one inference `ConvTranspose2d` k4 s2 p1 (the generator's upsampling), made
/// ready on first use rather than at load, and held once:
///
/// - as read from the file (`[in, out, 4, 4]`) until the first forward;
/// - then regrouped by tap (`SubPixelWinograd.Weights.taps`, the same floats; the original is
///   released): what the col2im way reads, whatever was computed before, so that a layer's
///   results never depend on the calls made before it;
/// - plus, from the first forward that takes the sub-pixel Winograd way, the five other
///   components of each parity's `G g Gᵀ` (`extras`, 1.25x the floats of the weights).
///
/// A model load therefore transforms nothing, a portrait at batch 1 makes `extras` only for the
/// layers whose maps are large enough, and no layer keeps two copies of its weights. A model is
/// shared by concurrent calls: each step runs once, under a lock, and a caller keeps the
/// storage it was handed alive for as long as it computes with it.
final class SubPixelWeights: @unchecked Sendable {
    enum Layout {
        /// `[in, out, 4, 4]` row-major, as read.
        case original(FloatStorage)
        /// `taps` alone.
        case taps(FloatStorage)
        /// `taps` and `extras`.
        case transformed(FloatStorage, FloatStorage)
    }

    let inChannels: Int
    let outChannels: Int
    // The layout is stored as plain optional references, not as a `Layout`: an enum of several
    // class payloads keeps its case in the references' spare bits, where LeakSanitizer (and any
    // conservative scanner) no longer sees a pointer and reports the live storage as leaked.
    private var original: FloatStorage?
    private var taps: FloatStorage?
    private var extras: FloatStorage?
    private let mutex = PThreadMutex()

    init(original: FloatStorage, inChannels: Int, outChannels: Int) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.original = original
    }

    /// The layout now (a snapshot: its storage stays valid while the caller holds it).
    var current: Layout { mutex.withLock { layout } }

    /// The stored references as a `Layout` (under the lock).
    private var layout: Layout {
        if let taps { return extras.map { .transformed(taps, $0) } ?? .taps(taps) }
        return .original(original!)
    }

    /// The weights regrouped by tap, made now if no call has yet made them, with `extras` when
    /// `winograd` (made now if needed). Nil when memory for them cannot be allocated: the caller
    /// then computes by col2im from `original`, the only layout it is left with.
    func prepare(winograd: Bool) -> (taps: FloatStorage, extras: FloatStorage?)? {
        mutex.withLock {
            if taps == nil, let w = original {
                guard let made = try? FloatStorage(count: SubPixelWinograd.tapCount(inChannels: inChannels, outChannels: outChannels),
                                                   filledBy: {
                    SubPixelWinograd.splitTaps(w.pointer, inChannels: inChannels, outChannels: outChannels, into: $0)
                }) else { return nil }
                (taps, original) = (made, nil)
            }
            guard let taps else { return nil }
            if let extras { return (taps, extras) }
            guard winograd else { return (taps, nil) }
            guard let made = try? FloatStorage(count: SubPixelWinograd.extraCount(inChannels: inChannels, outChannels: outChannels),
                                               filledBy: {
                SubPixelWinograd.makeExtras(taps: taps.pointer, inChannels: inChannels, outChannels: outChannels, into: $0)
            }) else { return (taps, nil) }
            extras = made
            return (taps, made)
        }
    }
}
