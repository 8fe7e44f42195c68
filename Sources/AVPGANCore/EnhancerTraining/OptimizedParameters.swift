/// One network's parameters under one torch.optim.Adam (`AdamState` per tensor, all with the
/// same settings and step), with their gradient buffers. The tensors are the network's own
/// storages, updated in place; `trained` are those the optimiser steps (a tensor that gets no
/// gradient upstream, such as the U-Net's RGB heads without the pyramid loss, is not in it:
/// torch's Adam skips a parameter whose grad is None).
final class OptimizedParameters {
    let values: [String: FloatStorage]
    /// The stepped tensors, in a fixed order.
    let trained: [String]
    let gradients: [String: FloatStorage]
    let adam: [String: AdamState]

    init(values: [String: FloatStorage], trained: [String], lr: Double, betas: (Double, Double), eps: Double) throws {
        self.values = values
        self.trained = trained
        var gradients: [String: FloatStorage] = [:], adam: [String: AdamState] = [:]
        for name in trained {
            guard let v = values[name] else { throw AVPGANError(.internal, "trained tensor \(name) is not a parameter") }
            gradients[name] = try FloatStorage(count: v.count)
            adam[name] = try AdamState(count: v.count, lr: lr, beta1: betas.0, beta2: betas.1, eps: eps)
        }
        self.gradients = gradients
        self.adam = adam
    }

    /// Adam's steps so far (the same for every tensor).
    var step: Int {
        get { trained.first.flatMap { adam[$0]?.step } ?? 0 }
        set { for a in adam.values { a.step = newValue } }
    }

    func zeroGradients() {
        for g in gradients.values { g.pointer.update(repeating: 0, count: g.count) }
    }

    /// One optimiser step of every trained tensor from its gradient.
    func update() {
        for name in trained { adam[name]!.update(param: values[name]!.pointer, grad: gradients[name]!.pointer) }
    }
}

/// basicsr's `model_ema`: after each step `ema = ema · decay + value · (1 − decay)` for every
/// parameter (buffers such as the stored noises are not averaged), in Float as torch's
/// `mul_(decay).add_(value, alpha=1 - decay)`.
enum ExponentialMovingAverage {
    static func update(_ ema: [String: FloatStorage], toward values: [String: FloatStorage], names: [String], decay: Double) {
        let d = Float(decay), w = Float(1 - decay)
        for name in names {
            let e = ema[name]!.pointer, v = UnsafePointer(values[name]!.pointer), count = ema[name]!.count
            parallelBlocks(count, costPerItem: 2) { range in
                for i in range { e[i] = e[i] * d + w * v[i] }
            }
        }
    }
}
