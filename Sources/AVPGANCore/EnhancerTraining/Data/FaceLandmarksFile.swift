/// The landmarks of a face folder (`EnhancerFaceSet`): the file `landmarks.json` at the
/// folder's top, one entry per face, keyed by the face's path relative to the folder:
///
///     {"a/0001.png": {"left_eye": [x, y, h], "right_eye": [x, y, h], "mouth": [x, y, h]}, ...}
///
/// GFPGAN's convention (its FFHQ_eye_mouth_landmarks_512.pth): each component's centre `x, y`
/// and half side `h` in pixels of the face (pixel i's centre at i), `left_eye` the eye on the
/// picture's left. Every face of the folder must have an entry and every entry a face; centres
/// lie strictly inside the picture (`0 < x, y < size`, so the mirrored `size - x` does too) and
/// half sides are positive and finite. Each error names the file and the entry.
enum FaceLandmarksFile {
    static let name = "landmarks.json"
    /// Largest landmarks file read (about 100 bytes per face).
    static let maxBytes = 256 << 20

    /// The components of each face of `faces` (relative paths) of `size` px, in their order,
    /// from the file at `path`.
    static func read(_ path: String, faces: [String], size: Int) throws -> [FacialComponents] {
        let bytes = try FileIO.read(path, limit: maxBytes)
        let root: JSONValue
        do {
            root = try bytes.withUnsafeBytes { try JSON.parse($0) }
        } catch let e as AVPGANError {
            let prefix = "JSON header: "
            let detail = e.message.hasPrefix(prefix) ? String(e.message.dropFirst(prefix.count)) : e.message
            throw AVPGANError.invalid("'\(path)' is not valid JSON: \(detail)")
        }
        guard let entries = root.objectValue else {
            throw AVPGANError.invalid("'\(path)' must hold one JSON object mapping each face's path to its landmarks")
        }
        var byFace: [String: FacialComponents] = [:]
        for (key, value) in entries {
            guard byFace[key] == nil else { throw AVPGANError.invalid("'\(path)' gives the landmarks of '\(key)' twice") }
            byFace[key] = try components(value, size: size, where: "'\(path)', entry '\(key)'")
        }
        let known = Set(faces)
        if let stray = entries.first(where: { !known.contains($0.0) }) {
            throw AVPGANError.invalid("'\(path)' has landmarks for '\(stray.0)', which is not a PNG or JPEG face of the folder")
        }
        let missing = faces.filter { byFace[$0] == nil }
        guard missing.isEmpty else {
            throw AVPGANError.invalid("'\(path)' has no landmarks for \(missing.count) of the \(faces.count) faces, the first '\(missing[0])'")
        }
        return faces.map { byFace[$0]! }
    }

    /// One entry: three components, each three finite numbers, centres inside the picture.
    static func components(_ value: JSONValue, size: Int, where place: String) throws -> FacialComponents {
        func component(_ name: String) throws -> FacialComponents.Component {
            guard let numbers = value[name]?.arrayValue?.compactMap(\.doubleValue), numbers.count == 3,
                  value[name]?.arrayValue?.count == 3, numbers.allSatisfy(\.isFinite) else {
                throw AVPGANError.invalid("\(place): '\(name)' must be [x, y, half side], three numbers")
            }
            let (x, y, h) = (numbers[0], numbers[1], numbers[2])
            guard x > 0, x < Double(size), y > 0, y < Double(size) else {
                throw AVPGANError.invalid("\(place): the \(name) centre (\(x), \(y)) is outside the \(size) x \(size) picture")
            }
            guard h > 0, h < Double(size) else {
                throw AVPGANError.invalid("\(place): the \(name) half side \(h) must be positive and below \(size)")
            }
            return FacialComponents.Component(centerX: Float(x), centerY: Float(y), halfLength: Float(h))
        }
        guard value.objectValue != nil else {
            throw AVPGANError.invalid("\(place) must be an object with left_eye, right_eye and mouth")
        }
        return FacialComponents(leftEye: try component("left_eye"), rightEye: try component("right_eye"), mouth: try component("mouth"))
    }

    /// `c` for the mirror image of its `size` px face, as GFPGAN's dataset mirrors it: the eyes
    /// swap places and every centre's x becomes `size - x`.
    static func mirrored(_ c: FacialComponents, size: Int) -> FacialComponents {
        func flip(_ p: FacialComponents.Component) -> FacialComponents.Component {
            FacialComponents.Component(centerX: Float(size) - p.centerX, centerY: p.centerY, halfLength: p.halfLength)
        }
        return FacialComponents(leftEye: flip(c.rightEye), rightEye: flip(c.leftEye), mouth: flip(c.mouth))
    }
}
