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

    /// Decodes the file at `path` (`AVPGAN_E_IO` when it cannot be opened,
    /// `AVPGAN_E_AUDIO_FORMAT` when it is not decodable audio).
    public static func decode(path: String, targetRate: Int? = 16000) throws -> DecodedAudio {
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
        return try read(file, info: info, name: "'\(path)'", targetRate: targetRate)
    }

    /// Decodes an encoded file held in memory (the bytes are only read during the call).
    public static func decode(bytes: UnsafeRawBufferPointer, targetRate: Int? = 16000) throws -> DecodedAudio {
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
            return try read(file, info: info, name: "the audio buffer", targetRate: targetRate)
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
        guard (1...1024).contains(channels) else { throw AVPGANError.invalid("channels is \(channels), expected 1...1024") }
        try checkSampleRate(sampleRate)
        guard pcm.count % channels == 0 else {
            throw AVPGANError.invalid("\(pcm.count) samples do not split into frames of \(channels) channels")
        }
        let frames = pcm.count / channels
        guard frames <= maxSeconds * sampleRate else {
            throw AVPGANError.invalid("the samples last \(frames / sampleRate) s, longer than the \(maxSeconds) s limit")
        }
        var sink = try MonoSink(rate: sampleRate, targetRate: targetRate, expectedFrames: frames)
        var at = 0
        while at < frames {
            let n = min(chunkFrames, frames - at)
            try sink.add(pcm.baseAddress! + at * channels, frames: n, channels: channels, name: "samples", kind: .invalidArgument)
            at += n
        }
        return DecodedAudio(samples: try sink.finish(), sampleRate: sink.outputRate, originalRate: sampleRate, channels: channels, format: "PCM")
    }

    /// Frames decoded (and downmixed, and resampled) at a time.
    static let chunkFrames = 1 << 14

    // MARK: Internals

    private static func read(_ file: OpaquePointer, info: SF_INFO, name: String, targetRate: Int?) throws -> DecodedAudio {
        let channels = Int(info.channels), rate = Int(info.samplerate)
        // Rates below 1 kHz are refused as for PCM: a damaged header claiming 1 Hz would make
        // a few bytes resample into gigabytes at 16 kHz.
        guard (1...1024).contains(channels), (1000...1_000_000).contains(rate) else {
            throw AVPGANError(.audioFormat, "\(name) declares \(channels) channels at \(rate) Hz, which is not usable (1...1024 channels at 1000...1000000 Hz)")
        }
        let limit = maxSeconds * rate
        var chunk = [Float](repeating: 0, count: chunkFrames * channels)
        var sink = try MonoSink(rate: rate, targetRate: targetRate, expectedFrames: min(max(Int(info.frames), 0), limit))
        while true {
            let n = Int(chunk.withUnsafeMutableBufferPointer { sf_readf_float(file, $0.baseAddress, sf_count_t(chunkFrames)) })
            if n <= 0 { break }
            guard sink.frames + n <= limit else {
                throw AVPGANError(.audioFormat, "\(name) is longer than the \(maxSeconds) s the library accepts")
            }
            try chunk.withUnsafeBufferPointer {
                try sink.add($0.baseAddress!, frames: n, channels: channels, name: name, kind: .audioFormat)
            }
        }
        let code = sf_error(file)
        if code != 0 {
            throw AVPGANError(.audioFormat, "\(name): decoding failed after \(sink.frames) frames: \(String(cString: sf_error_number(code)))")
        }
        return DecodedAudio(samples: try sink.finish(), sampleRate: sink.outputRate, originalRate: rate, channels: channels,
                            format: formatName(info.format))
    }

    /// Where decoded chunks go: downmixed (and checked) into mono, then either kept as they are
    /// or resampled chunk by chunk (`ResamplerStream`, the same samples as resampling the whole
    /// signal), so that only the output is ever held in full, never the input at its own rate.
    private struct MonoSink {
        let outputRate: Int
        private let stream: ResamplerStream?
        private var scratch: [Float]
        private var out: [Float] = []
        /// Input frames taken so far.
        private(set) var frames = 0

        init(rate: Int, targetRate: Int?, expectedFrames: Int) throws {
            let resampled = targetRate != nil && targetRate != rate
            stream = resampled ? try ResamplerStream(from: rate, to: targetRate!) : nil
            outputRate = resampled ? targetRate! : rate
            scratch = resampled ? [Float](repeating: 0, count: chunkFrames) : []
            let expected = resampled ? Int(Double(expectedFrames) * Double(outputRate) / Double(rate)) : expectedFrames
            out.reserveCapacity(min(expected, 1 << 24))
        }

        mutating func add(_ src: UnsafePointer<Float>, frames n: Int, channels: Int, name: String, kind: ErrorKind) throws {
            if let stream {
                try AudioDecoder.downmix(src, frames: n, channels: channels, into: &scratch, at: 0, first: frames, name: name, kind: kind)
                try scratch.withUnsafeBufferPointer { try stream.process(UnsafeBufferPointer(rebasing: $0[0..<n]), into: &out) }
            } else {
                let start = out.count
                out.append(contentsOf: repeatElement(0, count: n))
                try AudioDecoder.downmix(src, frames: n, channels: channels, into: &out, at: start, first: frames, name: name, kind: kind)
            }
            frames += n
        }

        /// The whole output; the sink is spent.
        mutating func finish() throws -> [Float] {
            try stream?.finish(into: &out)
            defer { out = [] }
            return out
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
