/// A face-recognition network as its model file describes it: layers named by their tensors
/// (docs/face-model-format.md). One description gives both the tensors a file must hold and
/// the network built from them; MobileFaceNet and every IResNet depth are just different lists.
indirect enum FaceLayerSpec {
    enum Activation {
        case none, relu, relu6
        /// A PReLU whose per-channel slopes are tensor `<name>.weight`.
        case prelu(String)
    }

    /// Convolution `name` with its own bias when `bias`, then BatchNorm `bn` (folded into the
    /// convolution in a `folded` file, which then always has a bias), then `activation`.
    case conv(name: String, inChannels: Int, outChannels: Int, geometry: ConvGeometry, bias: Bool, bn: String?,
              activation: Activation)
    /// A BatchNorm that follows no convolution (it keeps its tensors in every file).
    case batchNorm(name: String, channels: Int)
    /// Flatten (channel-major), linear layer `name` with bias, then BatchNorm `bn` (foldable).
    case linear(name: String, inFeatures: Int, outFeatures: Int, bn: String?)
    /// `body(x) + shortcut(x)`, the shortcut being `x` itself when nil.
    case residual(body: [FaceLayerSpec], shortcut: FaceLayerSpec?)

    /// The tensors this layer needs, in order, given how BatchNorms are stored.
    func tensors(_ storage: FaceBatchNormStorage) -> [(name: String, shape: [Int])] {
        func norm(_ name: String, _ c: Int) -> [(name: String, shape: [Int])] {
            ["weight", "bias", "running_mean", "running_var"].map { ("\(name).\($0)", [c]) }
        }
        switch self {
        case let .conv(name, i, o, g, bias, bn, activation):
            var t: [(name: String, shape: [Int])] = [("\(name).weight", [o, i / g.groups, g.kernelH, g.kernelW])]
            if bias || (bn != nil && storage == .folded) { t.append(("\(name).bias", [o])) }
            if let bn, storage == .stored { t += norm(bn, o) }
            if case let .prelu(p) = activation { t.append(("\(p).weight", [o])) }
            return t
        case let .batchNorm(name, c):
            return norm(name, c)
        case let .linear(name, i, o, bn):
            var t: [(name: String, shape: [Int])] = [("\(name).weight", [o, i]), ("\(name).bias", [o])]
            if let bn, storage == .stored { t += norm(bn, o) }
            return t
        case let .residual(body, shortcut):
            return body.flatMap { $0.tensors(storage) } + (shortcut?.tensors(storage) ?? [])
        }
    }

    // MARK: The architectures

    /// The layers of `config.arch` with `config.embedDim` outputs.
    static func layers(for config: FaceModelConfig) -> [FaceLayerSpec] {
        if let blocks = config.arch.iresnetBlocks { return iresnet(blocks: blocks, embedDim: config.embedDim) }
        return mobileFaceNet(embedDim: config.embedDim)
    }

    /// MobileFaceNet (foamliu/MobileFaceNet's module names): 112 → 7x7 → a 7x7 global
    /// depthwise conv → `embedDim`.
    static func mobileFaceNet(embedDim: Int) -> [FaceLayerSpec] {
        var layers: [FaceLayerSpec] = [
            .conv(name: "conv1.0", inChannels: 3, outChannels: 64, geometry: .square(3, stride: 2, padding: 1),
                  bias: false, bn: "conv1.1", activation: .relu6),
            .conv(name: "dw_conv.depthwise", inChannels: 64, outChannels: 64, geometry: .square(3, padding: 1, groups: 64),
                  bias: false, bn: "dw_conv.bn1", activation: .relu),
            .conv(name: "dw_conv.pointwise", inChannels: 64, outChannels: 64, geometry: .square(1),
                  bias: false, bn: "dw_conv.bn2", activation: .relu),
        ]
        // (expansion, output channels, repeats, stride of the first)
        let settings = [(2, 64, 5, 2), (4, 128, 1, 2), (2, 128, 6, 1), (4, 128, 1, 2), (2, 128, 2, 1)]
        var c = 64, index = 0
        for (t, o, repeats, firstStride) in settings {
            for r in 0..<repeats {
                let s = r == 0 ? firstStride : 1
                let p = "features.\(index).conv"
                let body: [FaceLayerSpec] = [
                    .conv(name: "\(p).0.0", inChannels: c, outChannels: c * t, geometry: .square(1),
                          bias: false, bn: "\(p).0.1", activation: .relu6),
                    .conv(name: "\(p).1.0", inChannels: c * t, outChannels: c * t,
                          geometry: .square(3, stride: s, padding: 1, groups: c * t), bias: false, bn: "\(p).1.1", activation: .relu6),
                    .conv(name: "\(p).2", inChannels: c * t, outChannels: o, geometry: .square(1),
                          bias: false, bn: "\(p).3", activation: .none),
                ]
                layers += s == 1 && c == o ? [.residual(body: body, shortcut: nil)] : body
                c = o
                index += 1
            }
        }
        layers += [
            .conv(name: "conv2.0", inChannels: 128, outChannels: 512, geometry: .square(1), bias: false, bn: "conv2.1", activation: .relu6),
            .conv(name: "gdconv.depthwise", inChannels: 512, outChannels: 512, geometry: .square(7, groups: 512),
                  bias: false, bn: "gdconv.bn", activation: .none),
            .conv(name: "conv3", inChannels: 512, outChannels: embedDim, geometry: .square(1), bias: true, bn: "bn", activation: .none),
        ]
        return layers
    }

    /// insightface's IResNet with `blocks` per stage: pre-activation basic blocks, PReLU,
    /// 112 → 7x7x512 → linear → `embedDim`.
    static func iresnet(blocks: [Int], embedDim: Int) -> [FaceLayerSpec] {
        var layers: [FaceLayerSpec] = [
            .conv(name: "conv1", inChannels: 3, outChannels: 64, geometry: .square(3, padding: 1),
                  bias: false, bn: "bn1", activation: .prelu("prelu")),
        ]
        var c = 64
        for (stage, (width, count)) in zip([64, 128, 256, 512], blocks).enumerated() {
            for j in 0..<count {
                let p = "layer\(stage + 1).\(j)"
                let stride = j == 0 ? 2 : 1
                let body: [FaceLayerSpec] = [
                    .batchNorm(name: "\(p).bn1", channels: c),
                    .conv(name: "\(p).conv1", inChannels: c, outChannels: width, geometry: .square(3, padding: 1),
                          bias: false, bn: "\(p).bn2", activation: .prelu("\(p).prelu")),
                    .conv(name: "\(p).conv2", inChannels: width, outChannels: width, geometry: .square(3, stride: stride, padding: 1),
                          bias: false, bn: "\(p).bn3", activation: .none),
                ]
                let shortcut: FaceLayerSpec? = j == 0
                    ? .conv(name: "\(p).downsample.0", inChannels: c, outChannels: width, geometry: .square(1, stride: 2),
                            bias: false, bn: "\(p).downsample.1", activation: .none)
                    : nil
                layers.append(.residual(body: body, shortcut: shortcut))
                c = width
            }
        }
        layers += [
            .batchNorm(name: "bn2", channels: 512),
            .linear(name: "fc", inFeatures: 512 * 7 * 7, outFeatures: embedDim, bn: "features"),
        ]
        return layers
    }
}
