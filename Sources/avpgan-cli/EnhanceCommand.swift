import AVPGANCore
#if canImport(Glibc)
import Glibc
#endif

/// `avpgan enhance --enhancer E FACE... (-o OUT.png | --out-dir DIR)`: face pictures (PNG or
/// JPEG, any size) restored and enlarged to the enhancer's size, as PNG with provenance.
enum EnhanceCommand {
    static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    static func run(_ o: Options) throws -> Int32 {
        guard let enhancerPath = o.values["--enhancer"] else { fail("enhance needs --enhancer ENHANCER.safetensors", code: 2) }
        guard !o.positional.isEmpty else { fail("enhance needs at least one FACE picture (PNG or JPEG)", code: 2) }
        let single = o.values["-o"]
        if single != nil && (o.positional.count > 1 || o.values["--out-dir"] != nil) {
            fail("-o names one output; use --out-dir DIR for \(o.positional.count) inputs", code: 2)
        }
        guard single != nil || o.values["--out-dir"] != nil else { fail("enhance needs -o OUT.png or --out-dir DIR", code: 2) }
        if o.values["--threads"] != nil { try Threads.set(o.integer("--threads", default: 0)) }
        let outDir = o.values["--out-dir"] ?? "."
        if o.values["--out-dir"] != nil { BatchRunner.makeOutputDirectory(outDir) }
        let enhancer = try Enhancer(path: enhancerPath)
        let outputs = BatchRunner.outputs(for: o.positional, single: single, outDir: outDir)
        let overwrite = o.flags.contains("--overwrite")
        let failed = BatchRunner.run(o.positional, verb: "enhanced") { index, input in
            if let note = BatchRunner.existingOutputNote(outputs[index], overwrite: overwrite) { return "\(input): \(note)" }
            let png = try enhance(input, with: enhancer)
            try FileIO.write(png, to: outputs[index])
            return "\(input) -> \(outputs[index]) (\(enhancer.size)x\(enhancer.size))"
        }
        return failed > 0 ? 1 : 0
    }

    /// The PNG of one restored picture, with the picture's and the enhancer's SHA-256.
    static func enhance(_ path: String, with enhancer: Enhancer) throws -> [UInt8] {
        let source = try FileIO.read(path)
        let image = try FaceImage.loadRGB8(path)
        var out = [UInt8](repeating: 0, count: 3 * enhancer.size * enhancer.size)
        try enhancer.enhanceRGB8(image.pixels, width: image.width, height: image.height, rowStride: 3 * image.width, into: &out)
        let text = [
            ("Software", "libavpgan \(LibraryVersion.string)"),
            ("avpgan:enhancer-sha256", enhancer.sha256),
            ("avpgan:enhancer", "\(EnhancerConfig.archName) size=\(enhancer.size) file-bytes=\(enhancer.fileBytes)"),
            ("avpgan:source-sha256", SHA256.hex(source)),
            ("avpgan:source-size", "\(image.width)x\(image.height)"),
        ]
        return try out.withUnsafeBufferPointer {
            try PNGCodec.encodeRGB8($0.baseAddress!, width: enhancer.size, height: enhancer.size, text: text)
        }
    }
}
