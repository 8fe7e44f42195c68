/// The networks a model file can hold, in file order.
public enum NetworkName: String, CaseIterable, Sendable {
    case voiceEncoder = "voice_encoder"
    case generator
    case faceEncoder = "face_encoder"
    case discriminator
    case classifier
}
