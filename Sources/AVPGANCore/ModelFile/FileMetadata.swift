/// The `avpgan.*` metadata that every libavpgan file carries, read one way for voice-portrait
/// models, face-recognition models and enhancers: the format version, which kind of file an
/// `avpgan.arch` names (so a loader handed the wrong kind points to the right one), and the
/// `avpgan.config` JSON with accessors whose errors name the field.
enum FileMetadata {
    /// The kinds of model file, by what their `avpgan.arch` names.
    enum Kind: String {
        case voicePortraitModel = "a voice-portrait model"
        case faceModel = "a face-recognition model"
        case enhancer = "a face enhancer"

        /// The C function that loads this kind.
        var loader: String {
            switch self {
            case .voicePortraitModel: return "avpgan_model_load_file"
            case .faceModel: return "avpgan_face_model_load_file"
            case .enhancer: return "avpgan_enhancer_load_file"
            }
        }

        static func of(arch: String) -> Kind? {
            if Architecture(rawValue: arch) != nil { return .voicePortraitModel }
            if FaceArchitecture(rawValue: arch) != nil { return .faceModel }
            if arch == EnhancerConfig.archName { return .enhancer }
            return nil
        }
    }

    /// Checks `avpgan.format`: present, an integer from 1 to the version this library reads.
    static func checkFormat(_ metadata: [String: String]) throws {
        guard let formatText = metadata["avpgan.format"] else { throw AVPGANError.format("metadata avpgan.format is missing") }
        guard let format = Int(formatText) else {
            throw AVPGANError.format("metadata avpgan.format is \"\(formatText)\", not an integer")
        }
        guard format >= 1 else { throw AVPGANError.format("metadata avpgan.format \(format) is not a valid version") }
        guard format <= ModelConfig.formatVersion else {
            throw AVPGANError(.unsupported, "model format \(format) is newer than this library reads (\(ModelConfig.formatVersion)); upgrade libavpgan")
        }
    }

    /// `avpgan.arch`, which must be there.
    static func arch(_ metadata: [String: String]) throws -> String {
        guard let arch = metadata["avpgan.arch"] else { throw AVPGANError.format("metadata avpgan.arch is missing") }
        return arch
    }

    /// The error for a file whose `arch` is not of the `expected` kind: the kind it is and its
    /// loader when the arch is known, else `unknown`.
    static func wrongKind(arch: String, expected: Kind, unknown: String) -> AVPGANError {
        guard let kind = Kind.of(arch: arch), kind != expected else { return AVPGANError.format(unknown) }
        return AVPGANError.format("this is \(kind.rawValue) (avpgan.arch \"\(arch)\"), not \(expected.rawValue): load it with \(kind.loader)")
    }

    /// `avpgan.config`, parsed: it must be a JSON object.
    static func config(_ metadata: [String: String]) throws -> ConfigJSON {
        guard let configText = metadata["avpgan.config"] else { throw AVPGANError.format("metadata avpgan.config is missing") }
        let json: JSONValue
        do { json = try JSON.parse(configText) } catch let e as AVPGANError {
            throw AVPGANError.format("metadata avpgan.config is not valid JSON (\(e.message))")
        }
        guard json.objectValue != nil else { throw AVPGANError.format("metadata avpgan.config is not a JSON object") }
        return ConfigJSON(json: json)
    }
}

/// The `avpgan.config` object of a file, with checked accessors whose errors name the field.
struct ConfigJSON {
    let json: JSONValue

    subscript(_ name: String) -> JSONValue? { json[name] }

    func field(_ name: String) throws -> JSONValue {
        guard let v = json[name] else { throw AVPGANError.format("avpgan.config field \(name) is missing") }
        return v
    }

    /// An integer field within `range`.
    func integer(_ name: String, _ range: ClosedRange<Int>) throws -> Int {
        let v = try field(name)
        guard let i = v.integerValue, range.contains(Int(clamping: i)) else {
            throw AVPGANError.format("avpgan.config field \(name) is \(v.serialized), expected an integer in \(range)")
        }
        return Int(i)
    }
}
