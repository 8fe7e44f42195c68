/// What both training-checkpoint readers read and check (`TrainingCheckpoint`,
/// `VoiceTrainingCheckpoint`): a checkpoint is untrusted input, and a NaN, an infinity or a
/// negative second moment in it would make every later step's losses NaN.
enum CheckpointValues {
    static let firstMomentPrefix = "adam.exp_avg."
    static let secondMomentPrefix = "adam.exp_avg_sq."

    /// The tensors of a checkpoint, read through `CheckedTensors`: exactly `layout` (the
    /// networks, and any head) and Adam's two moments of each of `trained`, every shape as
    /// given, every value finite, variances and second moments >= 0. `kind` names the
    /// checkpoint in the message of an extra tensor ("an avpgan checkpoint").
    static func read(_ file: Safetensors, layout: [(name: String, shape: [Int])], trained: [(name: String, shape: [Int])],
                     kind: String) throws -> (tensors: [String: [Float]], expAvg: [String: [Float]], expAvgSq: [String: [Float]]) {
        let moments = trained.flatMap { t in [(firstMomentPrefix + t.name, t.shape), (secondMomentPrefix + t.name, t.shape)] }
        let checked = try CheckedTensors(file: file, expected: layout + moments, noun: "checkpoint tensor", missing: nil, extra: kind)
        var tensors: [String: [Float]] = [:], m: [String: [Float]] = [:], v: [String: [Float]] = [:]
        for t in layout { tensors[t.name] = try checked.floats(t.name) }
        for t in trained {
            m[t.name] = try checked.floats(firstMomentPrefix + t.name)
            v[t.name] = try checked.floats(secondMomentPrefix + t.name)
        }
        return (tensors, m, v)
    }

    /// Adam's hyper-parameters as the checkpoint states them: lr finite and >= 0, betas in
    /// [0, 1), eps finite and > 0.
    static func checkAdam(lr: Double, beta1: Double, beta2: Double, eps: Double, key: String) throws {
        guard lr.isFinite, lr >= 0 else { throw AVPGANError.format("metadata \(key): lr is \(lr), expected a finite number >= 0") }
        for (name, beta) in [("beta1", beta1), ("beta2", beta2)] where !(beta >= 0 && beta < 1) {
            throw AVPGANError.format("metadata \(key): \(name) is \(beta), expected 0 <= \(name) < 1")
        }
        guard eps.isFinite, eps > 0 else { throw AVPGANError.format("metadata \(key): eps is \(eps), expected a finite number > 0") }
    }

    /// The optimiser state a checkpoint keeps as JSON in metadata `key`: step, adam_step (counts
    /// >= 0), rng (a 64-bit state as text), lr, beta1, beta2, eps (`checkAdam`), and what
    /// `extra` parses of the rest (nil: missing or wrong). Throws `.modelFormat`: "metadata <key>
    /// is missing: <missing>", "... is not valid JSON", "metadata <key> <text> lacks <fields>".
    static func adamState<Extra>(_ file: Safetensors, key: String, missing: String, fields: String,
                                 extra: (JSONValue) -> Extra?) throws -> (AdamState, Extra) {
        guard let stateText = file.metadata[key] else { throw AVPGANError.format("metadata \(key) is missing: \(missing)") }
        let state: JSONValue
        do { state = try JSON.parse(stateText) } catch { throw AVPGANError.format("metadata \(key) is not valid JSON") }
        guard let step = state["step"]?.integerValue, step >= 0, let adamStep = state["adam_step"]?.integerValue, adamStep >= 0,
              let rngText = state["rng"]?.stringValue, let rng = UInt64(rngText),
              let lr = state["lr"]?.doubleValue, let b1 = state["beta1"]?.doubleValue, let b2 = state["beta2"]?.doubleValue,
              let eps = state["eps"]?.doubleValue, let more = extra(state)
        else { throw AVPGANError.format("metadata \(key) \(stateText) lacks \(fields)") }
        try checkAdam(lr: lr, beta1: b1, beta2: b2, eps: eps, key: key)
        return (AdamState(json: state, step: Int(step), adamStep: Int(adamStep), rng: rng, lr: lr, beta1: b1, beta2: b2, eps: eps), more)
    }

    /// What `adamState` reads: the whole JSON object and its optimiser fields.
    struct AdamState {
        let json: JSONValue
        let step: Int, adamStep: Int, rng: UInt64
        let lr: Double, beta1: Double, beta2: Double, eps: Double
    }
}
