import AVPGANCore
import FuzzDriver
#if canImport(Glibc)
import Glibc
#endif

/// Fuzz target: the PNG and JPEG readers (libpng, libjpeg-turbo behind the library's checks)
/// and the PNG text-chunk reader. The first byte picks the reader; the rest is the file.
exit(runFuzzer(CommandLine.argc, CommandLine.unsafeArgv) { input in
    var r = FuzzReader(input)
    let which = r.byte() % 3
    let file = r.rest()
    switch which {
    case 0:
        if let image = try? PNGCodec.decodeRGB8(file) { precondition(image.pixels.count == 3 * image.width * image.height) }
    case 1:
        if let image = try? JPEGCodec.decodeRGB8(file) { precondition(image.pixels.count == 3 * image.width * image.height) }
    default: _ = PNGText.read(file)
    }
})
