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

    /// One Adam step from the accumulated gradient.
    func step() { adam.update(param: value.pointer, grad: UnsafePointer(grad.pointer)) }
}
