/// The run logic of the reference's `vad_keep`, one frame decision at a time: a ring holds the
/// decisions of the last `ringCapacity` frames while no run is open; a run opens, starting with
/// the ring's frames, when more than 90% of the ring is speech, and closes, after the current
/// frame, when more than 90% of the ring (refilled since the run opened) is non-speech.
///
/// Every frame of an open run is kept whether or not the run closes before the end, so the
/// frames a decision keeps are known at once: this is what lets the front end stream.
struct VoicedRunTracker {
    let ringCapacity: Int
    private let threshold: Double
    /// The decisions in the ring (a circular buffer), how many it holds and how many are speech.
    private var ring: [Bool]
    private var head = 0, held = 0, speechHeld = 0
    /// Frames pushed so far.
    private(set) var frames = 0
    /// The first frame of the open run, if one is open.
    private(set) var openRunStart: Int?

    /// A tracker with a ring of `ringCapacity` frames (0 keeps nothing).
    init(ringCapacity: Int) {
        self.ringCapacity = max(ringCapacity, 0)
        threshold = 0.9 * Double(self.ringCapacity)
        ring = [Bool](repeating: false, count: self.ringCapacity)
    }

    /// Takes the decision of the next frame (`frames` before the call is its index). Returns
    /// the frames this decision keeps (all of the ring's frames when it opens a run, the frame
    /// itself while a run is open, otherwise none) and the run it closes, if any.
    mutating func push(_ speech: Bool) -> (kept: Range<Int>, closed: Range<Int>?) {
        let f = frames
        frames += 1
        guard ringCapacity > 0 else { return (f..<f, nil) }
        if held == ringCapacity {
            if ring[head] { speechHeld -= 1 }
            ring[head] = speech
            head = (head + 1) % ringCapacity
        } else {
            ring[(head + held) % ringCapacity] = speech
            held += 1
        }
        if speech { speechHeld += 1 }
        if let start = openRunStart {
            if Double(held - speechHeld) > threshold {
                openRunStart = nil
                clear()
                return (f..<(f + 1), start..<(f + 1))
            }
            return (f..<(f + 1), nil)
        }
        if Double(speechHeld) > threshold {
            let start = f + 1 - held
            openRunStart = start
            clear()
            return (start..<(f + 1), nil)
        }
        return (f..<f, nil)
    }

    private mutating func clear() { head = 0; held = 0; speechHeld = 0 }
}
