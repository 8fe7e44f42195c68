/// The failure kinds of the library. Raw values are the C API's `avpgan_status` codes
/// (include/avpgan.h); they never change once published.
public enum ErrorKind: Int32, Sendable, CaseIterable {
    case invalidArgument = -1
    case bufferTooSmall = -2
    case outOfMemory = -3
    case io = -4
    case modelFormat = -5
    case unsupported = -6
    case missingNetwork = -7
    case audioFormat = -8
    case noSpeech = -9
    case aborted = -10
    case `internal` = -100

    /// The C name of the status, e.g. `AVPGAN_E_MODEL_FORMAT`.
    public var statusName: String {
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

    /// A short English description, as `avpgan_status_string` returns it.
    public var summary: String {
        switch self {
        case .invalidArgument: return "invalid argument"
        case .bufferTooSmall: return "buffer too small"
        case .outOfMemory: return "out of memory"
        case .io: return "input/output error"
        case .modelFormat: return "malformed model file"
        case .unsupported: return "unsupported"
        case .missingNetwork: return "network missing from model"
        case .audioFormat: return "undecodable audio"
        case .noSpeech: return "no speech in the recording"
        case .aborted: return "aborted by the caller"
        case .internal: return "internal error"
        }
    }
}

/// An error with its kind and a message that names the cause (the argument, tensor or field).
public struct AVPGANError: Error, CustomStringConvertible, Sendable {
    public let kind: ErrorKind
    public let message: String
    /// For a model file handed to the loader of another kind: the kind it is.
    public var fileKind: ModelFileKind?

    public init(_ kind: ErrorKind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.statusName): \(message)" }

    static func invalid(_ message: String) -> AVPGANError { AVPGANError(.invalidArgument, message) }
    static func format(_ message: String) -> AVPGANError { AVPGANError(.modelFormat, message) }
}
