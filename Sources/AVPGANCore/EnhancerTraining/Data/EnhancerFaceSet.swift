// EnhancerTraining/Data/: the enhancer's training data. `EnhancerFaceSet` (here) reads a folder
// of high-resolution faces with their landmarks and holds out a validation split;
// `EnhancerBatchSampler` makes the (degraded input, truth) batches of each epoch and
// `EnhancerBatchPrefetcher` draws the next one while a step runs. docs/enhancer-training.md,
// "Training data".

#if canImport(Glibc)
import Glibc
#endif

/// A folder of aligned high-resolution faces for training an enhancer, decoded once and kept
/// in memory as RGB8 (3·size² bytes a face: 48 KiB at 128 px, 768 KiB at 512):
/// - the faces: every PNG and JPEG under the folder (recursively, hidden names skipped),
///   ordered by path; each must be square and of the training size (`size`, or the first
///   face's when not given): faces are not resized, so mixed sizes are refused by name;
/// - their landmarks: `landmarks.json` at the folder's top (`FaceLandmarksFile`), else the
///   aligned template (`FacialComponents.template`, which fits the procedural faces);
/// - the split: `validationCount` faces, at least 1 and at most all but one, chosen by a seeded
///   shuffle, are held out (`validation`), the others train (`training`); both sorted.
/// Every defect of the folder is an error naming the file: unreadable or corrupt pictures,
/// fewer than 2 faces, a face of another size or not square, a landmarks file that does not
/// parse, misses a face or points outside the picture.
public struct EnhancerFaceSet: Sendable {
    public struct Options: Sendable {
        /// Side of the faces in pixels (a power of two, 32...1024: 128, 256 or 512 for real
        /// training); nil takes the first face's.
        public var size: Int?
        /// Share of the faces held out for validation, in [0, 1); at least one face is.
        public var validationFraction = 0.05
        /// Seeds the split.
        public var seed: UInt64 = 1
        /// Most bytes the decoded faces may take in memory.
        public var maxBytes = 4 << 30

        public init(size: Int? = nil) { self.size = size }
    }

    /// The training sizes: powers of two.
    public static let sizes = [32, 64, 128, 256, 512, 1024]
    /// Largest picture file read.
    static let maxFileBytes = 64 << 20
    static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    /// The folder, as given.
    public let root: String
    /// Side of every face in pixels.
    public let size: Int
    /// Each face's path relative to `root`, sorted.
    public let paths: [String]
    /// True when the landmarks come from `landmarks.json`, false for the template.
    public let hasLandmarksFile: Bool
    /// Indices (into `paths`) of the training faces and of the held-out ones, sorted.
    public let training: [Int]
    public let validation: [Int]
    /// RGB8 `[size, size, 3]` of each face.
    let pixels: [[UInt8]]
    let landmarks: [FacialComponents]

    public var count: Int { paths.count }

    /// Reads the faces under `root`; see the type's contract for what is refused.
    public init(folder: String, options: Options = Options()) throws {
        var root = folder
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        guard DatasetIndex.isDirectory(root) else {
            throw AVPGANError(.io, "the face folder '\(root)' does not exist or is not a folder")
        }
        guard options.validationFraction >= 0, options.validationFraction < 1 else {
            throw AVPGANError.invalid("the validation fraction \(options.validationFraction) must lie in [0, 1)")
        }
        if let size = options.size, !Self.sizes.contains(size) {
            throw AVPGANError.invalid("the face size \(size) is not one of \(Self.sizes.map(String.init).joined(separator: ", "))")
        }
        let prefix = root == "/" ? root : root + "/"
        let files = DatasetIndex.walk(root, extensions: Self.extensions)
        guard files.count >= 2 else {
            throw AVPGANError.invalid("the face folder '\(root)' holds \(files.count) PNG or JPEG face\(files.count == 1 ? "" : "s"); at least 2 are needed (one to train on, one to validate)")
        }
        var size = options.size
        if let size { try Self.checkMemory(faces: files.count, size: size, limit: options.maxBytes) }
        var pixels: [[UInt8]] = []
        pixels.reserveCapacity(files.count)
        for file in files {
            let image = try Self.decode(file)
            guard image.width == image.height else {
                throw AVPGANError.invalid("'\(file)' is \(image.width) x \(image.height) px; faces must be square, aligned crops")
            }
            if size == nil {
                guard Self.sizes.contains(image.width) else {
                    throw AVPGANError.invalid("'\(file)' is \(image.width) px square; the training size must be one of \(Self.sizes.map(String.init).joined(separator: ", ")) (resize the faces first)")
                }
                size = image.width
                try Self.checkMemory(faces: files.count, size: image.width, limit: options.maxBytes)
            }
            guard image.width == size else {
                let first = options.size == nil ? " like the first face, '\(files[0])'" : ""
                throw AVPGANError.invalid("'\(file)' is \(image.width) x \(image.height) px; the faces must all be \(size!) x \(size!)\(first) (faces are not resized: resize them first)")
            }
            pixels.append(image.pixels)
        }
        let paths = files.map { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 }
        let landmarksPath = prefix + FaceLandmarksFile.name
        hasLandmarksFile = access(landmarksPath, F_OK) == 0
        landmarks = hasLandmarksFile ? try FaceLandmarksFile.read(landmarksPath, faces: paths, size: size!)
                                     : Array(repeating: FacialComponents.template(size: size!), count: paths.count)
        (training, validation) = Self.split(count: paths.count, fraction: options.validationFraction, seed: options.seed)
        self.root = folder
        self.size = size!
        self.paths = paths
        self.pixels = pixels
    }

    /// Throws `outOfMemory` when `faces` RGB8 faces of `size` px exceed `limit` bytes.
    static func checkMemory(faces: Int, size: Int, limit: Int) throws {
        let bytes = faces.multipliedReportingOverflow(by: 3 * size * size)
        guard !bytes.overflow, bytes.partialValue <= limit else {
            throw AVPGANError(.outOfMemory, "\(faces) faces of \(size) px need \(bytes.partialValue) bytes in memory, more than the limit of \(limit) (Options.maxBytes)")
        }
    }

    /// The decoded picture at `path`, or an error naming it.
    static func decode(_ path: String) throws -> FaceModel.Image {
        do {
            let bytes = try FileIO.read(path, limit: maxFileBytes)
            let isJPEG = bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
            let (pixels, w, h) = isJPEG ? try JPEGCodec.decodeRGB8(bytes) : try PNGCodec.decodeRGB8(bytes)
            return FaceModel.Image(pixels: pixels, width: w, height: h)
        } catch let e as AVPGANError {
            throw AVPGANError(e.kind, e.message.contains(path) ? e.message : "'\(path)' cannot be read as a face: \(e.message)")
        }
    }

    /// The held-out count for `count` faces: `fraction · count` rounded, at least 1, at most
    /// `count - 1`.
    public static func validationCount(faces count: Int, fraction: Double) -> Int {
        min(count - 1, max(1, Int((fraction * Double(count)).rounded())))
    }

    /// Training and held-out indices of `0..<count`: the first `validationCount` of a seeded
    /// Fisher-Yates shuffle are held out.
    static func split(count: Int, fraction: Double, seed: UInt64) -> (training: [Int], validation: [Int]) {
        var order = Array(0..<count)
        var random = SplitMix(seed: seed ^ 0x5EED_F00D_FACE_0017)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, Int(random.next() % UInt64(i + 1))) }
        let held = validationCount(faces: count, fraction: fraction)
        return (order[held...].sorted(), order[..<held].sorted())
    }

    /// Face `index` as RGB8 `[size, size, 3]`.
    public func rgb8(_ index: Int) -> [UInt8] { pixels[index] }

    /// Face `index` as planar RGB `[3, size, size]` in [0, 1], mirrored left to right when asked.
    public func planes(_ index: Int, mirrored: Bool = false) -> [Float] {
        let n = size, plane = n * n, rgb = pixels[index]
        var out = [Float](repeating: 0, count: 3 * plane)
        for y in 0..<n { for x in 0..<n {
            let source = 3 * (y * n + (mirrored ? n - 1 - x : x)), target = y * n + x
            for c in 0..<3 { out[c * plane + target] = Float(rgb[source + c]) / 255 }
        } }
        return out
    }

    /// The eye and mouth regions of face `index` (of its mirror image when asked).
    func components(_ index: Int, mirrored: Bool = false) -> FacialComponents {
        mirrored ? FaceLandmarksFile.mirrored(landmarks[index], size: size) : landmarks[index]
    }
}
