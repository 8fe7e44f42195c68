import AVPGANCore
import CAVPGAN

// The C API's enum values for the core's enums, spelled with the header's own constants: the
// core knows nothing of C. Every case is listed, so a new core case fails to compile here
// until the header has its value.

extension Architecture {
    /// The `avpgan_arch` value.
    var code: Int32 {
        switch self {
        case .voice2face: return Int32(AVPGAN_ARCH_VOICE2FACE.rawValue)
        case .avpgan: return Int32(AVPGAN_ARCH_AVPGAN.rawValue)
        case .avpganNoCBAM: return Int32(AVPGAN_ARCH_AVPGAN_NOCBAM.rawValue)
        }
    }
}

extension CBAMGate {
    /// The `avpgan_cbam_gate` value.
    var code: Int32 {
        switch self {
        case .sigmoid: return Int32(AVPGAN_CBAM_GATE_SIGMOID.rawValue)
        case .residual: return Int32(AVPGAN_CBAM_GATE_RESIDUAL.rawValue)
        }
    }
}

extension PixelMapping {
    /// The `avpgan_pixels` value.
    var code: Int32 {
        switch self {
        case .clamp: return Int32(AVPGAN_PIXELS_CLAMP.rawValue)
        case .minmax: return Int32(AVPGAN_PIXELS_MINMAX.rawValue)
        }
    }
}

extension FaceArchitecture {
    /// The `avpgan_face_arch` value.
    var code: Int32 {
        switch self {
        case .mobileFaceNet: return Int32(AVPGAN_FACE_ARCH_MOBILEFACENET.rawValue)
        case .iresnet18: return Int32(AVPGAN_FACE_ARCH_IRESNET18.rawValue)
        case .iresnet34: return Int32(AVPGAN_FACE_ARCH_IRESNET34.rawValue)
        case .iresnet50: return Int32(AVPGAN_FACE_ARCH_IRESNET50.rawValue)
        case .iresnet100: return Int32(AVPGAN_FACE_ARCH_IRESNET100.rawValue)
        case .iresnet200: return Int32(AVPGAN_FACE_ARCH_IRESNET200.rawValue)
        }
    }
}

extension ModelFileKind {
    /// The C function that loads this kind, named in errors when another loader was handed it.
    var loader: String {
        switch self {
        case .voicePortraitModel: return "avpgan_model_load_file"
        case .faceModel: return "avpgan_face_model_load_file"
        case .enhancer: return "avpgan_enhancer_load_file"
        }
    }
}

extension ErrorKind {
    /// The `avpgan_status` a call that failed this way returns.
    var status: Int32 {
        switch self {
        case .invalidArgument: return Int32(AVPGAN_E_INVALID_ARGUMENT.rawValue)
        case .bufferTooSmall: return Int32(AVPGAN_E_BUFFER_TOO_SMALL.rawValue)
        case .outOfMemory: return Int32(AVPGAN_E_OUT_OF_MEMORY.rawValue)
        case .io: return Int32(AVPGAN_E_IO.rawValue)
        case .modelFormat: return Int32(AVPGAN_E_MODEL_FORMAT.rawValue)
        case .unsupported: return Int32(AVPGAN_E_UNSUPPORTED.rawValue)
        case .missingNetwork: return Int32(AVPGAN_E_MISSING_NETWORK.rawValue)
        case .audioFormat: return Int32(AVPGAN_E_AUDIO_FORMAT.rawValue)
        case .noSpeech: return Int32(AVPGAN_E_NO_SPEECH.rawValue)
        case .aborted: return Int32(AVPGAN_E_ABORTED.rawValue)
        case .internal: return Int32(AVPGAN_E_INTERNAL.rawValue)
        }
    }
}

extension TrainingHealth {
    /// The raised warnings as `avpgan_health` bits.
    var bits: UInt32 {
        raised.reduce(0) { bits, raised in
            switch raised.warning {
            case .collapse: return bits | UInt32(AVPGAN_HEALTH_COLLAPSE.rawValue)
            case .discriminatorWins: return bits | UInt32(AVPGAN_HEALTH_DISCRIMINATOR_WINS.rawValue)
            case .classifierAtChance: return bits | UInt32(AVPGAN_HEALTH_CLASSIFIER_AT_CHANCE.rawValue)
            }
        }
    }
}
