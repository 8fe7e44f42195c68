/// The `avpgan.*` metadata that every libavpgan file carries, read one way for voice-portrait
/// models, face-recognition models and enhancers: the format version, which kind of file an
/// `avpgan.arch` names (so a loader handed the wrong kind says what it was given), and the
/// `avpgan.config` JSON with accessors whose errors name the field.
enum FileMetadata {
    typealias Kind = ModelFileKind

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

    /// The error for a file whose `arch` is not of the `expected` kind: the kind it is when the
    /// arch is known (also as `AVPGANError.fileKind`, so each front end can name its own way of
    /// loading that kind), else `unknown`.
    static func wrongKind(arch: String, expected: Kind, unknown: String) -> AVPGANError {
        guard let kind = Kind.of(arch: arch), kind != expected else { return AVPGANError.format(unknown) }
        var error = AVPGANError.format("this is \(kind.rawValue) (avpgan.arch \"\(arch)\"), not \(expected.rawValue)")
        error.fileKind = kind
        return error
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
