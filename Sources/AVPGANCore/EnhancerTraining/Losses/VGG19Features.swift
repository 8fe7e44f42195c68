/// The frozen VGG-19 `features` of the perceptual loss (torchvision's layout; a file made by
/// tools/converters/convert_vgg.py): 16 3x3 convolutions (padding 1, bias), each followed by a ReLU, with
/// a 2x2 max-pool after conv1_2, conv2_2, conv3_4 and conv4_4. Widths come from the file (a
/// real VGG-19 is 64, 128, 256, 512, 512; tests use narrow random ones).
///
/// Input: NCHW RGB images with values in [-1, 1] (`range_norm: true`, as GFPGAN's options), or
/// in [0, 1]; either is mapped to [0, 1] and normalised by ImageNet's mean and std per channel
/// (`use_input_norm: true`), exactly as basicsr's VGGFeatureExtractor. Features are taken
/// before the ReLU (basicsr's `convS_I` names). Immutable after load.
final class VGG19Features: @unchecked Sendable {
    static let archName = "vgg19-features"
    /// Largest VGG file accepted (a full VGG-19's features are 80 MB in F32).
    static let maxFileBytes = 1 << 30
    /// Convolutions per stage (torchvision's configuration "E").
    static let stageDepths = [2, 2, 4, 4, 4]
    static let mean: [Float] = [0.485, 0.456, 0.406]
    static let std: [Float] = [0.229, 0.224, 0.225]

    /// The range the input images' values are in.
    enum InputRange: Sendable {
        /// [-1, 1] (basicsr's `range_norm: true`): the enhancer's outputs and truths.
        case minusOneToOne
        /// [0, 1].
        case zeroToOne
    }

    let convs: [Conv2d]
    let biases: [Epilogue]
    let inputRange: InputRange

    /// `torchvision`'s index in `features` of each convolution.
    static let featureIndices: [Int] = {
        var out: [Int] = [], i = 0
        for depth in stageDepths {
            for _ in 0..<depth { out.append(i); i += 2 }
            i += 1
        }
        return out
    }()

    /// The convolution index (0..<16) of a basicsr layer name `convS_I` (stage S 1...5,
    /// I 1...depth), or nil.
    static func convIndex(named name: String) -> Int? {
        guard name.hasPrefix("conv"), let sep = name.firstIndex(of: "_"),
              let s = Int(name[name.index(name.startIndex, offsetBy: 4)..<sep]),
              let i = Int(name[name.index(after: sep)...]),
              (1...stageDepths.count).contains(s), (1...stageDepths[s - 1]).contains(i) else { return nil }
        return stageDepths[..<(s - 1)].reduce(0, +) + i - 1
    }

    /// Whether a 2x2 max-pool follows convolution `i` (the last of stages 1 to 4).
    static func poolFollows(_ i: Int) -> Bool {
        var end = 0
        for depth in stageDepths.dropLast() {
            end += depth
            if i == end - 1 { return true }
        }
        return false
    }

    convenience init(path: String, inputRange: InputRange = .minusOneToOne) throws {
        try self.init(bytes: try FileIO.read(path, limit: VGG19Features.maxFileBytes), inputRange: inputRange)
    }

    /// Loads and checks a tools/converters/convert_vgg.py file: `avpgan.arch` "vgg19-features", exactly
    /// the 16 `features.N.weight` `[out, in, 3, 3]` and `features.N.bias` `[out]` tensors with
    /// the first reading 3 channels and each the previous one's output, float dtypes, finite
    /// values. Every failure is a model-format error naming the cause.
    init(bytes: [UInt8], inputRange: InputRange = .minusOneToOne) throws {
        let file = try Safetensors(bytes: bytes)
        guard let arch = file.metadata["avpgan.arch"] else {
            throw AVPGANError.format("not a VGG-19 perceptual network: no avpgan.arch in the metadata (convert torchvision's weights with tools/converters/convert_vgg.py)")
        }
        guard arch == Self.archName else {
            let kind = ModelFileKind.of(arch: arch).map { " (it is \($0.rawValue))" } ?? ""
            throw AVPGANError.format("not a VGG-19 perceptual network: avpgan.arch is \"\(arch)\"\(kind), expected \"\(Self.archName)\"")
        }
        var layout: [(name: String, shape: [Int])] = []
        var previous = 3
        for n in Self.featureIndices {
            guard let e = file.entry("features.\(n).weight") else {
                throw AVPGANError.format("tensor features.\(n).weight is missing (VGG-19 features)")
            }
            guard e.shape.count == 4, e.shape[0] > 0 else {
                throw AVPGANError.format("tensor features.\(n).weight has shape \(e.shape), expected [out, \(previous), 3, 3]")
            }
            layout.append((name: "features.\(n).weight", shape: [e.shape[0], previous, 3, 3]))
            layout.append((name: "features.\(n).bias", shape: [e.shape[0]]))
            previous = e.shape[0]
        }
        let tensors = try CheckedTensors(file: file, expected: layout, missing: "VGG-19 features", extra: "VGG-19's features")
        var convs: [Conv2d] = [], biases: [Epilogue] = []
        for (k, n) in Self.featureIndices.enumerated() {
            let shape = layout[2 * k].shape
            convs.append(Conv2d(weight: try tensors.storage("features.\(n).weight"), inChannels: shape[1],
                                outChannels: shape[0], geometry: .square(3, padding: 1)))
            biases.append(Epilogue(scale: nil, shift: try tensors.storage("features.\(n).bias"), activation: .identity))
        }
        self.convs = convs
        self.biases = biases
        self.inputRange = inputRange
    }

    /// The output widths of the five stages.
    var widths: [Int] {
        var out: [Int] = [], end = 0
        for depth in Self.stageDepths { end += depth; out.append(convs[end - 1].outChannels) }
        return out
    }

    /// The recorded pre-ReLU outputs of one forward pass (its memory is the tape's own and is
    /// reused by the next forward): `features(i)` is convolution i's output, CNHW
    /// `[width, batch, h_i, w_i]`.
    final class Tape {
        let workspace = Workspace()
        fileprivate(set) var maps: [FeatureMap] = []
        fileprivate(set) var batch = 0, height = 0, width = 0

        func features(_ i: Int) -> FeatureMap { maps[i] }
        /// Convolutions run by the last forward.
        var depth: Int { maps.count }
    }

    /// Slots of a tape's workspace: the normalised input, the ReLU/pool output, im2col
    /// columns, two gradient buffers, then one per convolution.
    enum Slot {
        static let input = 0, activation = 1, cols = 2, gradA = 3, gradB = 4, firstMap = 5
    }

    /// Side of the map convolution `i` reads, for an input side `side`.
    static func side(before i: Int, _ side: Int) -> Int {
        var s = side
        for j in 0..<i where poolFollows(j) { s /= 2 }
        return s
    }

    /// Runs convolutions `0..<depth` on `images` (NCHW `[batch, 3, height, width]`) and records
    /// their pre-ReLU outputs in `tape`. The image must be at least 2^p px on each side, p the
    /// number of pools run.
    func forward(_ images: UnsafePointer<Float>, batch: Int, height: Int, width: Int, depth: Int, tape: Tape) throws {
        precondition(depth >= 1 && depth <= convs.count && batch > 0)
        let pools = (0..<(depth - 1)).filter(Self.poolFollows).count
        guard height >> pools >= 1, width >> pools >= 1 else {
            throw AVPGANError.invalid("a \(width)x\(height) image is too small for \(pools) max-pools of VGG-19")
        }
        tape.batch = batch; tape.height = height; tape.width = width
        tape.maps = []
        let ws = tape.workspace
        let plane = height * width
        var h = height, w = width
        var input = FeatureMap(data: try ws.slot(Slot.input, count: 3 * batch * plane), channels: 3, batch: batch,
                               height: h, width: w)
        // (x + 1) / 2 when in [-1, 1], then (x - mean) / std, in torch's order; NCHW to CNHW.
        for c in 0..<3 {
            let m = Self.mean[c], s = Self.std[c]
            for n in 0..<batch {
                let src = images + (n * 3 + c) * plane, dst = input.channel(c) + n * plane
                switch inputRange {
                case .minusOneToOne: for i in 0..<plane { dst[i] = ((src[i] + 1) / 2 - m) / s }
                case .zeroToOne: for i in 0..<plane { dst[i] = (src[i] - m) / s }
                }
            }
        }
        var colsCount = 0
        var sideH = h, sideW = w
        for i in 0..<depth {
            colsCount = max(colsCount, convs[i].scratchCount(batch: batch, h: sideH, w: sideW))
            if Self.poolFollows(i) { sideH /= 2; sideW /= 2 }
        }
        let cols = try ws.slot(Slot.cols, count: colsCount)
        for i in 0..<depth {
            let conv = convs[i]
            let z = FeatureMap(data: try ws.slot(Slot.firstMap + i, count: conv.outChannels * batch * h * w),
                               channels: conv.outChannels, batch: batch, height: h, width: w)
            conv.forward(input, into: z, epilogue: biases[i], cols: cols)
            tape.maps.append(z)
            guard i + 1 < depth else { break }
            if Self.poolFollows(i) {
                let a = try ws.slot(Slot.activation, count: z.channels * batch * (h / 2) * (w / 2))
                ReLUMaxPool2x2.forward(z.data, planes: z.channels * batch, h: h, w: w, into: a)
                h /= 2; w /= 2
                input = FeatureMap(data: a, channels: z.channels, batch: batch, height: h, width: w)
            } else {
                let a = try ws.slot(Slot.activation, count: z.row * z.channels)
                let count = z.row * z.channels
                parallelBlocks(count, costPerItem: 1) { r in for j in r { a[j] = max(z.data[j], 0) } }
                input = FeatureMap(data: a, channels: z.channels, batch: batch, height: h, width: w)
            }
        }
    }
}
