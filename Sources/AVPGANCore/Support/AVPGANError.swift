/// The failure kinds of the library. The C API's status codes and names for them live in
/// Sources/AVPGAN (`CEnumCodes.swift`); the core knows them by these names only.
public enum ErrorKind: Sendable, CaseIterable {
    case invalidArgument
    case bufferTooSmall
    case outOfMemory
    case io
    case modelFormat
    case unsupported
    case missingNetwork
    case audioFormat
    case noSpeech
    case aborted
    case `internal`

    /// A short English description of the kind (the C API's status string).
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

    public var description: String { "\(kind.summary): \(message)" }

    static func invalid(_ message: String) -> AVPGANError { AVPGANError(.invalidArgument, message) }
    static func format(_ message: String) -> AVPGANError { AVPGANError(.modelFormat, message) }
}
