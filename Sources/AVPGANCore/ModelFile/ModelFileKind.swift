/// The kinds of model file libavpgan reads, by what their `avpgan.arch` names. A loader handed
/// the wrong kind reports the kind it was given (`AVPGANError.fileKind`).
public enum ModelFileKind: String, Sendable, CaseIterable {
    case voicePortraitModel = "a voice-portrait model"
    case faceModel = "a face-recognition model"
    case enhancer = "a face enhancer"

    /// The kind an `avpgan.arch` value names, or nil for an unknown one.
    public static func of(arch: String) -> ModelFileKind? {
        if Architecture(rawValue: arch) != nil { return .voicePortraitModel }
        if FaceArchitecture(rawValue: arch) != nil { return .faceModel }
        if arch == EnhancerConfig.archName { return .enhancer }
        return nil
    }

    /// The kind of a file with this `metadata` (its `avpgan.arch`), or nil when it names none.
    /// A training checkpoint has its model's kind; `TrainingCheckpoint.metadataKey` and
    /// `VoiceTrainingCheckpoint.metadataKey` tell one apart.
    public static func of(metadata: [String: String]) -> ModelFileKind? {
        metadata["avpgan.arch"].flatMap(of(arch:))
    }
}
