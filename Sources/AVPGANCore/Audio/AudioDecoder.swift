import CSndfile
#if canImport(Glibc)
import Glibc
#endif

/// A decoded recording: mono samples on the int16 scale (-32768...32767, fractional values
/// kept) at `sampleRate`, as the reference front end takes them.
public struct DecodedAudio: Sendable {
    public var samples: [Float]
    public var sampleRate: Int
    /// The file's own rate and channel count, and libsndfile's name of its format.
    public var originalRate: Int
    public var channels: Int
    public var format: String

    public var seconds: Double { Double(samples.count) / Double(sampleRate) }
}

/// What a streamed decode (`AudioDecoder.stream`) handed on, and how long the recording is.
public struct DecodedStreamInfo: Sendable {
    /// The rate of the samples handed on, the file's own rate and channel count, and
    /// libsndfile's name of its format.
    public var sampleRate: Int
    public var originalRate: Int
    public var channels: Int
    public var format: String
    /// Samples handed on.
    public var samples: Int
    /// The whole recording's length in samples at `sampleRate`: `samples` when it was read to
    /// the end, otherwise its declared length (as the resampler would give it).
    public var totalSamples: Int
}

/// Decoding with libsndfile (every format the installed library reads: WAV, FLAC, Ogg
/// Vorbis/Opus, MP3, ...) from a path or a memory buffer; downmix to mono by the mean of the
/// channels; scaling to the int16 range (libsndfile normalises to [-1, 1), so x 32768);
/// resampling to `targetRate` with libsoxr. Lengths in the file are never trusted: samples
/// are read in chunks up to `maxSeconds`.
public enum AudioDecoder {
    /// The longest recording accepted, in seconds.
    public static let maxSeconds = 4 * 3600
    /// The int16 scale that the reference front end expects.
    public static let int16Scale: Float = 32768
    /// The largest sample magnitude accepted on the [-1, 1] full-scale of float audio (96 dB over
    /// full scale): anything beyond is damaged data, and would overflow Float in the log-mel
    /// spectrum. Audio within it (clipping floats of 1.5, say) is taken as it is.
    public static let maxSampleMagnitude: Float = 65536

    /// Decodes the file at `path` (`.io` when it cannot be opened,
    /// `.audioFormat` when it is not decodable audio).
    public static func decode(path: String, targetRate: Int? = 16000) throws -> DecodedAudio {
        var collector = Collector()
        let info = try stream(path: path, targetRate: targetRate) { collector.take($0) }
        return collector.audio(info)
    }

    /// Decodes an encoded file held in memory (the bytes are only read during the call).
    public static func decode(bytes: UnsafeRawBufferPointer, targetRate: Int? = 16000) throws -> DecodedAudio {
        var collector = Collector()
        let info = try stream(bytes: bytes, targetRate: targetRate) { collector.take($0) }
        return collector.audio(info)
    }

    /// Decodes the file at `path` as `decode(path:)` does, handing the mono (resampled) samples
    /// to `consumer` a chunk at a time (`chunkFrames` input frames; the buffer is valid only
    /// during the call) instead of keeping them. `consumer` returns whether it wants more: on
    /// false, reading stops, and the result's `totalSamples` is the declared length.
    /// `expecting`, when given, is told the declared length in output samples (when the header
    /// gives one) before the first chunk.
    public static func stream(path: String, targetRate: Int? = 16000, expecting: (Int) -> Void = { _ in },
                              into consumer: (UnsafeBufferPointer<Float>) throws -> Bool) throws -> DecodedStreamInfo {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw AVPGANError(.io, "cannot open '\(path)': \(FileIO.errorText())") }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            let directory = (st.st_mode & S_IFMT) == S_IFDIR
            close(fd)
            throw AVPGANError(.io, "'\(path)' is \(directory ? "a directory" : "not a regular file")")
        }
        guard st.st_size > 0 else {
            close(fd)
            throw AVPGANError(.audioFormat, "'\(path)' is empty (0 bytes)")
        }
        var info = SF_INFO()
        guard let file = sf_open_fd(fd, Int32(SFM_READ), &info, 1) else {  // closes fd either way
            throw AVPGANError(.audioFormat, "'\(path)' is not decodable audio: \(String(cString: sf_strerror(nil)))")
        }
        defer { sf_close(file) }
        return try read(file, info: info, name: "'\(path)'", targetRate: targetRate, expecting: expecting, into: consumer)
    }

    /// `stream(path:)` of an encoded file held in memory, as `decode(bytes:)` reads it.
    public static func stream(bytes: UnsafeRawBufferPointer, targetRate: Int? = 16000, expecting: (Int) -> Void = { _ in },
                              into consumer: (UnsafeBufferPointer<Float>) throws -> Bool) throws -> DecodedStreamInfo {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw AVPGANError(.audioFormat, "the audio buffer is empty (0 bytes)")
        }
        let stream = MemoryStream(base: base, count: bytes.count)
        var io = SF_VIRTUAL_IO(
            get_filelen: { user in MemoryStream.from(user).length },
            seek: { offset, whence, user in MemoryStream.from(user).seek(offset, whence) },
            read: { destination, count, user in MemoryStream.from(user).read(destination, count) },
            write: { _, _, _ in 0 },
            tell: { user in MemoryStream.from(user).tell() })
        var info = SF_INFO()
        return try withExtendedLifetime(stream) {
            guard let file = sf_open_virtual(&io, Int32(SFM_READ), &info, Unmanaged.passUnretained(stream).toOpaque()) else {
                throw AVPGANError(.audioFormat, "the audio buffer is not decodable audio: \(String(cString: sf_strerror(nil)))")
            }
            defer { sf_close(file) }
            return try read(file, info: info, name: "the audio buffer", targetRate: targetRate, expecting: expecting, into: consumer)
        }
    }

    /// Mono int16-scale samples from caller PCM: `frames x channels` interleaved floats in
    /// [-1, 1] (scaled by 32768) at `sampleRate`, resampled to `targetRate`.
    /// The sample rates PCM input may have: 1 kHz to 1 MHz.
    public static func checkSampleRate(_ sampleRate: Int) throws {
        guard (1000...1_000_000).contains(sampleRate) else {
            throw AVPGANError.invalid("sample_rate is \(sampleRate) Hz, expected 1000...1000000")
        }
    }

    public static func fromPCM(_ pcm: UnsafeBufferPointer<Float>, channels: Int, sampleRate: Int,
                               targetRate: Int? = 16000) throws -> DecodedAudio {
        var collector = Collector()
        let info = try stream(pcm: pcm, channels: channels, sampleRate: sampleRate, targetRate: targetRate) { collector.take($0) }
        return collector.audio(info)
    }

    /// `fromPCM`, handing the samples to `consumer` a chunk at a time as `stream(path:)` does.
    public static func stream(pcm: UnsafeBufferPointer<Float>, channels: Int, sampleRate: Int, targetRate: Int? = 16000,
                              into consumer: (UnsafeBufferPointer<Float>) throws -> Bool) throws -> DecodedStreamInfo {
        guard (1...1024).contains(channels) else { throw AVPGANError.invalid("channels is \(channels), expected 1...1024") }
        try checkSampleRate(sampleRate)
        guard pcm.count % channels == 0 else {
            throw AVPGANError.invalid("\(pcm.count) samples do not split into frames of \(channels) channels")
        }
        let frames = pcm.count / channels
        guard frames <= maxSeconds * sampleRate else {
            throw AVPGANError.invalid("the samples last \(frames / sampleRate) s, longer than the \(maxSeconds) s limit")
        }
        var sink = try MonoSink(rate: sampleRate, targetRate: targetRate)
        var at = 0, more = true
        while at < frames && more {
            let n = min(chunkFrames, frames - at)
            more = try sink.add(pcm.baseAddress! + at * channels, frames: n, channels: channels, name: "samples",
                                kind: .invalidArgument, to: consumer)
            at += n
        }
        if more { try sink.finish(to: consumer) }
        return DecodedStreamInfo(sampleRate: sink.outputRate, originalRate: sampleRate, channels: channels, format: "PCM",
                                 samples: sink.delivered, totalSamples: more ? sink.delivered : sink.outputLength(ofFrames: frames))
    }

    /// Frames decoded (and downmixed, and resampled) at a time.
    static let chunkFrames = 1 << 14

    // MARK: Internals

    private static func read(_ file: OpaquePointer, info: SF_INFO, name: String, targetRate: Int?, expecting: (Int) -> Void,
                             into consumer: (UnsafeBufferPointer<Float>) throws -> Bool) throws -> DecodedStreamInfo {
        let channels = Int(info.channels), rate = Int(info.samplerate)
        // Rates below 1 kHz are refused as for PCM: a damaged header claiming 1 Hz would make
        // a few bytes resample into gigabytes at 16 kHz.
        guard (1...1024).contains(channels), (1000...1_000_000).contains(rate) else {
            throw AVPGANError(.audioFormat, "\(name) declares \(channels) channels at \(rate) Hz, which is not usable (1...1024 channels at 1000...1000000 Hz)")
        }
        let limit = maxSeconds * rate
        var chunk = [Float](repeating: 0, count: chunkFrames * channels)
        var sink = try MonoSink(rate: rate, targetRate: targetRate)
        // Once the consumer has enough, the rest is only counted (for the reported length)
        // when the header does not say how long the recording is.
        let declared = info.frames > 0 && info.frames <= sf_count_t(limit) ? Int(info.frames) : nil
        if let declared { expecting(sink.outputLength(ofFrames: declared)) }
        var more = true
        while true {
            let n = Int(chunk.withUnsafeMutableBufferPointer { sf_readf_float(file, $0.baseAddress, sf_count_t(chunkFrames)) })
            if n <= 0 { break }
            guard sink.frames + n <= limit else {
                throw AVPGANError(.audioFormat, "\(name) is longer than the \(maxSeconds) s the library accepts")
            }
            if more {
                more = try chunk.withUnsafeBufferPointer {
                    try sink.add($0.baseAddress!, frames: n, channels: channels, name: name, kind: .audioFormat, to: consumer)
                }
                if !more && declared != nil { break }
            } else {
                sink.skip(frames: n)
            }
        }
        if more {
            let code = sf_error(file)
            if code != 0 {
                throw AVPGANError(.audioFormat, "\(name): decoding failed after \(sink.frames) frames: \(String(cString: sf_error_number(code)))")
            }
            try sink.finish(to: consumer)
        }
        let total = more ? sink.delivered : sink.outputLength(ofFrames: max(declared ?? sink.frames, sink.frames))
        return DecodedStreamInfo(sampleRate: sink.outputRate, originalRate: rate, channels: channels,
                                 format: formatName(info.format), samples: sink.delivered, totalSamples: total)
    }

    /// Collects streamed samples into one array (the `decode` functions).
    private struct Collector {
        var samples: [Float] = []

        mutating func take(_ chunk: UnsafeBufferPointer<Float>) -> Bool {
            samples.append(contentsOf: chunk)
            return true
        }

        mutating func audio(_ info: DecodedStreamInfo) -> DecodedAudio {
            defer { samples = [] }
            return DecodedAudio(samples: samples, sampleRate: info.sampleRate, originalRate: info.originalRate,
                                channels: info.channels, format: info.format)
        }
    }

    /// Where decoded chunks go: downmixed (and checked) into mono, then either passed on as they
    /// are or resampled chunk by chunk (`ResamplerStream`, the same samples as resampling the
    /// whole signal), so that only a chunk is ever held, never the signal.
    private struct MonoSink {
        let outputRate: Int
        let inputRate: Int
        private let stream: ResamplerStream?
        private var mono: [Float]
        private var resampled: [Float] = []
        /// Input frames taken (or skipped) so far, and output samples handed on.
        private(set) var frames = 0
        private(set) var delivered = 0

        init(rate: Int, targetRate: Int?) throws {
            let resampling = targetRate != nil && targetRate != rate
            stream = resampling ? try ResamplerStream(from: rate, to: targetRate!) : nil
            outputRate = resampling ? targetRate! : rate
            inputRate = rate
            mono = [Float](repeating: 0, count: chunkFrames)
        }

        /// Downmixes (and resamples) `n` frames and hands the result to `consumer`; returns its answer.
        mutating func add(_ src: UnsafePointer<Float>, frames n: Int, channels: Int, name: String, kind: ErrorKind,
                          to consumer: (UnsafeBufferPointer<Float>) throws -> Bool) throws -> Bool {
            try AudioDecoder.downmix(src, frames: n, channels: channels, into: &mono, at: 0, first: frames, name: name, kind: kind)
            frames += n
            if let stream {
                resampled.removeAll(keepingCapacity: true)
                try mono.withUnsafeBufferPointer { try stream.process(UnsafeBufferPointer(rebasing: $0[0..<n]), into: &resampled) }
                delivered += resampled.count
                return try resampled.withUnsafeBufferPointer { try Self.hand($0, to: consumer) }
            }
            delivered += n
            return try mono.withUnsafeBufferPointer { try Self.hand(UnsafeBufferPointer(rebasing: $0[0..<n]), to: consumer) }
        }

        /// Counts `n` frames read but not wanted.
        mutating func skip(frames n: Int) { frames += n }

        /// Ends the signal: hands on the resampler's remaining output.
        mutating func finish(to consumer: (UnsafeBufferPointer<Float>) throws -> Bool) throws {
            guard let stream else { return }
            resampled.removeAll(keepingCapacity: true)
            try stream.finish(into: &resampled)
            delivered += resampled.count
            _ = try resampled.withUnsafeBufferPointer { try Self.hand($0, to: consumer) }
        }

        /// The output length of a signal of `inputFrames` frames: the same, or libsoxr's
        /// length for the rate change (`Resampler.outputLength`).
        func outputLength(ofFrames inputFrames: Int) -> Int {
            stream == nil ? inputFrames : Resampler.outputLength(inputFrames, from: inputRate, to: outputRate)
        }

        /// Calls `consumer` with `samples` unless there are none (then: wants more).
        private static func hand(_ samples: UnsafeBufferPointer<Float>, to consumer: (UnsafeBufferPointer<Float>) throws -> Bool) throws -> Bool {
            samples.isEmpty ? true : try consumer(samples)
        }
    }

    /// mono[at + i] = mean over channels of frame i, x 32768. A NaN, an infinity or a sample
    /// beyond ±`maxSampleMagnitude` is an error of `kind` naming the sample (`first` + its
    /// index: the frame number in the whole signal) and channel.
    private static func downmix(_ src: UnsafePointer<Float>, frames: Int, channels: Int, into mono: inout [Float], at start: Int,
                                first: Int, name: String, kind: ErrorKind) throws {
        let scale = int16Scale / Float(channels)
        // The largest magnitude seen; NaN fails `<=` and so is caught with the rest.
        var inRange = true
        let limit = maxSampleMagnitude
        mono.withUnsafeMutableBufferPointer { out in
            if channels == 1 {
                for i in 0..<frames {
                    let x = src[i]
                    inRange = inRange && x.magnitude <= limit
                    out[start + i] = x * int16Scale
                }
            } else {
                for i in 0..<frames {
                    var sum: Float = 0
                    for c in 0..<channels {
                        let x = src[i * channels + c]
                        inRange = inRange && x.magnitude <= limit
                        sum += x
                    }
                    out[start + i] = sum * scale
                }
            }
        }
        guard inRange else {
            let bad = (0..<(frames * channels)).first { !(src[$0].magnitude <= limit) } ?? 0
            let why = src[bad].isFinite ? "beyond ±\(limit) (full scale is ±1): damaged float audio" : "not a finite value"
            throw AVPGANError(kind, "\(name): sample \(first + bad / channels) (channel \(bad % channels)) is \(src[bad]), \(why)")
        }
    }

    private static func formatName(_ format: Int32) -> String {
        var major = SF_FORMAT_INFO()
        major.format = format & Int32(SF_FORMAT_TYPEMASK)
        var sub = SF_FORMAT_INFO()
        sub.format = format & Int32(SF_FORMAT_SUBMASK)
        let size = Int32(MemoryLayout<SF_FORMAT_INFO>.size)
        let a = sf_command(nil, Int32(SFC_GET_FORMAT_INFO), &major, size) == 0 && major.name != nil ? String(cString: major.name) : "unknown"
        let b = sf_command(nil, Int32(SFC_GET_FORMAT_INFO), &sub, size) == 0 && sub.name != nil ? String(cString: sub.name) : ""
        return b.isEmpty ? a : "\(a), \(b)"
    }
}

/// A read-only byte stream over caller memory for libsndfile's virtual I/O.
private final class MemoryStream {
    let base: UnsafeRawPointer
    let count: Int
    var position = 0

    init(base: UnsafeRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    static func from(_ user: UnsafeMutableRawPointer?) -> MemoryStream {
        Unmanaged<MemoryStream>.fromOpaque(user!).takeUnretainedValue()
    }

    var length: sf_count_t { sf_count_t(count) }

    func tell() -> sf_count_t { sf_count_t(position) }

    func seek(_ offset: sf_count_t, _ whence: Int32) -> sf_count_t {
        let origin: Int
        switch whence {
        case SEEK_SET: origin = 0
        case SEEK_CUR: origin = position
        case SEEK_END: origin = count
        default: return -1
        }
        let (target, overflow) = origin.addingReportingOverflow(Int(truncatingIfNeeded: offset))
        guard !overflow, target >= 0, target <= count else { return -1 }
        position = target
        return sf_count_t(position)
    }

    func read(_ destination: UnsafeMutableRawPointer?, _ requested: sf_count_t) -> sf_count_t {
        guard let destination, requested > 0 else { return 0 }
        let n = min(Int(clamping: requested), count - position)
        destination.copyMemory(from: base + position, byteCount: n)
        position += n
        return sf_count_t(n)
    }
}
