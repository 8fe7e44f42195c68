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
    private var layout: Layout
    private let mutex = PThreadMutex()

    init(original: FloatStorage, inChannels: Int, outChannels: Int) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        layout = .original(original)
    }

    /// The layout now (a snapshot: its storage stays valid while the caller holds it).
    var current: Layout { mutex.withLock { layout } }

    /// The weights regrouped by tap, made now if no call has yet made them, with `extras` when
    /// `winograd` (made now if needed). Nil when memory for them cannot be allocated: the caller
    /// then computes by col2im from `original`, the only layout it is left with.
    func prepare(winograd: Bool) -> (taps: FloatStorage, extras: FloatStorage?)? {
        mutex.withLock {
            if case let .original(w) = layout {
                guard let taps = try? FloatStorage(count: SubPixelWinograd.tapCount(inChannels: inChannels, outChannels: outChannels),
                                                   filledBy: {
                    SubPixelWinograd.splitTaps(w.pointer, inChannels: inChannels, outChannels: outChannels, into: $0)
                }) else { return nil }
                layout = .taps(taps)
            }
            switch layout {
            case .original: return nil
            case let .transformed(taps, extras): return (taps, extras)
            case let .taps(taps):
                guard winograd else { return (taps, nil) }
                guard let extras = try? FloatStorage(count: SubPixelWinograd.extraCount(inChannels: inChannels, outChannels: outChannels),
                                                     filledBy: {
                    SubPixelWinograd.makeExtras(taps: taps.pointer, inChannels: inChannels, outChannels: outChannels, into: $0)
                }) else { return (taps, nil) }
                layout = .transformed(taps, extras)
                return (taps, extras)
            }
        }
    }
}
