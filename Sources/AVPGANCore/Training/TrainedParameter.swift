/// A trained tensor: its values (shared with the layers that read them), the gradient that
/// backward passes accumulate into, and its Adam state.
final class TrainedParameter {
    let name: String
    let shape: [Int]
    let value: FloatStorage
    let grad: FloatStorage
    let adam: AdamState

    init(name: String, shape: [Int], values: [Float]) throws {
        precondition(values.count == shape.reduce(1, *), "\(name): \(values.count) values for shape \(shape)")
        self.name = name
        self.shape = shape
        value = try FloatStorage(values)
        grad = try FloatStorage(count: values.count)
        adam = try AdamState(count: values.count)
    }

    var count: Int { value.count }

    /// torch's zero_grad (gradients set to None, so the next backward starts from zero).
    func zeroGrad() { grad.pointer.update(repeating: 0, count: count) }

    /// Sets the Adam moments and step from a checkpoint's `exp_avg` and `exp_avg_sq` (by this
    /// parameter's name); a checkpoint without them, or of another size, is a format error.
    func restoreAdam(expAvg: [String: [Float]], expAvgSq: [String: [Float]], step: Int) throws {
        guard let m = expAvg[name], let v = expAvgSq[name], m.count == count, v.count == count else {
            throw AVPGANError.format("checkpoint lacks Adam state for \(name)")
        }
        adam.expAvg.pointer.update(from: m, count: m.count)
        adam.expAvgSq.pointer.update(from: v, count: v.count)
        adam.step = step
    }

    /// One Adam step from the accumulated gradient.
    func step() { adam.update(param: value.pointer, grad: UnsafePointer(grad.pointer)) }
}
