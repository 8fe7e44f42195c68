import AVPGANCore

extension ErrorKind {
    /// The tag a failure line ends with: the name include/avpgan.h gives the failure, so the
    /// command and the library report it in the same words (scripts grep for them).
    var statusName: String {
        switch self {
        case .invalidArgument: return "AVPGAN_E_INVALID_ARGUMENT"
        case .bufferTooSmall: return "AVPGAN_E_BUFFER_TOO_SMALL"
        case .outOfMemory: return "AVPGAN_E_OUT_OF_MEMORY"
        case .io: return "AVPGAN_E_IO"
        case .modelFormat: return "AVPGAN_E_MODEL_FORMAT"
        case .unsupported: return "AVPGAN_E_UNSUPPORTED"
        case .missingNetwork: return "AVPGAN_E_MISSING_NETWORK"
        case .audioFormat: return "AVPGAN_E_AUDIO_FORMAT"
        case .noSpeech: return "AVPGAN_E_NO_SPEECH"
        case .aborted: return "AVPGAN_E_ABORTED"
        case .internal: return "AVPGAN_E_INTERNAL"
        }
    }
}
