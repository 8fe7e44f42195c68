// ModelFile/: the one door for model files. `Safetensors` (here) reads a file's header and
// tensors with every check; `WeightReader` serves a model's tensors by the names that only
// `TensorLayout` spells; `ModelConfig` and `FileMetadata` read the metadata, `ModelFileKind`
// says which kind a file is, `ModelFileWriter` writes, and `TrainingCheckpoint`,
// `VoiceTrainingCheckpoint` and `CheckpointValues` save and resume training. `DefaultFile`
// finds the model and the enhancer used when none is named.

/// Element types of safetensors tensors that libavpgan understands.
public enum TensorDType: String, Sendable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", u8 = "U8", i32 = "I32", i64 = "I64"

    public var size: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16: return 2
        case .u8: return 1
        case .i64: return 8
        }
    }

    public var isFloat: Bool { self == .f32 || self == .f16 || self == .bf16 }
}

/// One tensor of a parsed safetensors file: its type, shape and bytes (a slice of the file).
public struct SafetensorsEntry: Sendable {
    public let name: String
    public let dtype: TensorDType
    public let shape: [Int]
    /// Byte range within the file (already offset past the header).
    public let range: Range<Int>
    public var elementCount: Int { range.count / dtype.size }
}

/// A safetensors file held in memory and validated on parse:
/// `u64 LE N | N bytes of JSON | data`, entries `{"dtype","shape","data_offsets":[b,e)}`
/// relative to the data, `__metadata__` a string map. See docs/model-format.md for every check.
public struct Safetensors: Sendable {
    /// The default cap on the JSON header (upstream safetensors uses the same).
    public static let defaultMaxHeaderBytes = 100 << 20

    public let bytes: [UInt8]
    /// Tensors in file-header order.
    public let entries: [SafetensorsEntry]
    public let metadata: [String: String]

    public func entry(_ name: String) -> SafetensorsEntry? { entries.first { $0.name == name } }

    /// Parses and validates `bytes`; every failure is `.modelFormat` naming the cause.
    public init(bytes: [UInt8], maxHeaderBytes: Int = Safetensors.defaultMaxHeaderBytes) throws {
        guard bytes.count >= 8 else {
            throw AVPGANError.format("file is \(bytes.count) bytes, shorter than the 8-byte safetensors header length")
        }
        // Any other kind of file (a WAV, a PNG, text) fails here, with a plain message rather
        // than an absurd header length read from its first bytes.
        guard bytes.count == 8 || bytes[8] == UInt8(ascii: "{") else {
            throw AVPGANError.format("not a safetensors model file: its header does not start with '{' after the 8-byte length")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(maxHeaderBytes) else {
            throw AVPGANError.format("header length \(headerLength) bytes exceeds the cap of \(maxHeaderBytes) bytes")
        }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw AVPGANError.format("header length \(headerLength) bytes runs past the end of the \(bytes.count)-byte file")
        }
        let dataStart = 8 + Int(headerLength)
        guard headerLength >= 2, bytes[8] == UInt8(ascii: "{") else {
            throw AVPGANError.format("header does not start with '{'")
        }
        let header = try bytes.withUnsafeBytes { raw in
            try JSON.parse(UnsafeRawBufferPointer(rebasing: raw[8..<dataStart]))
        }
        guard let members = header.objectValue else { throw AVPGANError.format("header is not a JSON object") }

        var metadata: [String: String] = [:]
        var entries: [SafetensorsEntry] = []
        var seen = Set<String>()
        let dataLength = bytes.count - dataStart
        for (name, value) in members {
            guard seen.insert(name).inserted else { throw AVPGANError.format("tensor \(name) appears twice in the header") }
            if name == "__metadata__" {
                guard let map = value.objectValue else { throw AVPGANError.format("__metadata__ is not an object") }
                for (k, v) in map {
                    guard let s = v.stringValue else { throw AVPGANError.format("__metadata__ field \(k) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            entries.append(try Safetensors.entry(name, value, dataStart: dataStart, dataLength: dataLength))
        }
        try Safetensors.checkContiguous(entries, dataStart: dataStart, dataLength: dataLength)
        self.bytes = bytes
        self.entries = entries
        self.metadata = metadata
    }

    private static func entry(_ name: String, _ value: JSONValue, dataStart: Int, dataLength: Int) throws -> SafetensorsEntry {
        guard value.objectValue != nil else { throw AVPGANError.format("tensor \(name): entry is not an object") }
        guard let dtypeName = value["dtype"]?.stringValue else { throw AVPGANError.format("tensor \(name): dtype missing") }
        guard let dtype = TensorDType(rawValue: dtypeName) else {
            throw AVPGANError.format("tensor \(name): unsupported dtype \(dtypeName)")
        }
        guard let dims = value["shape"]?.arrayValue else { throw AVPGANError.format("tensor \(name): shape missing") }
        var shape: [Int] = []
        for d in dims {
            guard let v = d.integerValue, v >= 0, v <= Int64(Int32.max) else {
                throw AVPGANError.format("tensor \(name): shape \(value["shape"]!.serialized) has an invalid dimension")
            }
            shape.append(Int(v))
        }
        guard let offsets = value["data_offsets"]?.arrayValue, offsets.count == 2,
              let begin = offsets[0].integerValue, let end = offsets[1].integerValue, begin >= 0, end >= begin
        else { throw AVPGANError.format("tensor \(name): data_offsets is not a pair [begin, end] with 0 <= begin <= end") }
        guard end <= Int64(dataLength) else {
            throw AVPGANError.format("tensor \(name): data_offsets [\(begin), \(end)] run past the end of the data (\(dataLength) bytes)")
        }
        guard let elements = Checked.product(shape), let expected = Checked.multiply(elements, dtype.size),
              expected == Int(end - begin)
        else {
            throw AVPGANError.format("tensor \(name): \(end - begin) bytes of data but shape \(shape) of \(dtypeName) needs \(Checked.product(shape).flatMap { Checked.multiply($0, dtype.size) }.map(String.init) ?? "more than can be addressed")")
        }
        return SafetensorsEntry(name: name, dtype: dtype, shape: shape,
                                range: (dataStart + Int(begin))..<(dataStart + Int(end)))
    }

    /// Sorted by start, the tensors must tile the data buffer exactly.
    private static func checkContiguous(_ entries: [SafetensorsEntry], dataStart: Int, dataLength: Int) throws {
        var at = dataStart
        for e in entries.sorted(by: { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }) {
            guard e.range.lowerBound == at else {
                throw AVPGANError.format("tensor \(e.name): data_offsets not contiguous (starts at \(e.range.lowerBound - dataStart), expected \(at - dataStart))")
            }
            at = e.range.upperBound
        }
        guard at == dataStart + dataLength else {
            throw AVPGANError.format("data buffer is \(dataLength) bytes but the tensors cover \(at - dataStart)")
        }
    }

    /// The tensor's values as Float (F32, F16 and BF16 converted; integers rejected).
    public func floats(_ e: SafetensorsEntry) throws -> [Float] {
        let n = e.elementCount
        return try [Float](unsafeUninitializedCapacity: n) { out, count in
            if let base = out.baseAddress { try copyFloats(e, into: base) }
            count = n
        }
    }

    /// Writes the tensor's `e.elementCount` values as Float to `out` (F32 copied, F16 and BF16
    /// converted, integers rejected): one pass from the file's bytes to the destination.
    public func copyFloats(_ e: SafetensorsEntry, into out: UnsafeMutablePointer<Float>) throws {
        let n = e.elementCount
        try bytes.withUnsafeBytes { raw in
            let src = raw.baseAddress! + e.range.lowerBound
            switch e.dtype {
            case .f32:
                memcpyLittleEndian(src, into: out, count: n)
            case .f16:
                for i in 0..<n { out[i] = Float(Float16(bitPattern: src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)) }
            case .bf16:
                for i in 0..<n {
                    out[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
                }
            default:
                throw AVPGANError.format("tensor \(e.name): dtype \(e.dtype.rawValue) is not a floating-point type")
            }
        }
    }

    /// The tensor's raw bytes (for U8 data such as golden pixels).
    public func rawBytes(_ e: SafetensorsEntry) -> [UInt8] { Array(bytes[e.range]) }
}

@inline(__always)
private func memcpyLittleEndian(_ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, count: Int) {
    // x86-64 and AArch64 Linux are little-endian: the bytes are the floats.
    UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
}

/// Writes safetensors files: tensors in the given order, contiguous, header padded with
/// spaces so the data starts at a multiple of 8.
public struct SafetensorsWriter {
    public struct Tensor {
        public var name: String
        public var dtype: TensorDType
        public var shape: [Int]
        public var data: [UInt8]

        public init(name: String, shape: [Int], floats: [Float]) {
            self.name = name
            self.dtype = .f32
            self.shape = shape
            self.data = floats.withUnsafeBytes { Array($0) }
        }

        public init(name: String, dtype: TensorDType, shape: [Int], data: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.data = data
        }
    }

    public static func serialize(_ tensors: [Tensor], metadata: [String: String]) -> [UInt8] {
        var members: [(String, JSONValue)] = []
        if !metadata.isEmpty {
            members.append(("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        var offset = 0
        for t in tensors {
            members.append((t.name, .object([
                ("dtype", .string(t.dtype.rawValue)),
                ("shape", .array(t.shape.map { .number(Double($0), integer: Int64($0)) })),
                ("data_offsets", .array([.number(Double(offset), integer: Int64(offset)),
                                         .number(Double(offset + t.data.count), integer: Int64(offset + t.data.count))])),
            ])))
            offset += t.data.count
        }
        var header = Array(JSONValue.object(members).serialized.utf8)
        while (8 + header.count) % 8 != 0 { header.append(UInt8(ascii: " ")) }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        let n = UInt64(header.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: n >> (8 * UInt64(i)))) }
        out += header
        for t in tensors { out += t.data }
        return out
    }
}
