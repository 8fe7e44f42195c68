#if canImport(Glibc)
import Glibc
#endif

/// PSNR and SSIM of a restored face against its truth, as basicsr's `calculate_psnr` and
/// `calculate_ssim` compute them (the measures GFPGAN reports), on planar RGB `[3, H, W]`
/// pictures in [0, 1], taken at the 8-bit scale (× 255), without cropping a border:
/// - `.rgb`: every channel (PSNR of the mean squared error over all of them, SSIM the mean of
///   the channels' SSIMs);
/// - `.luma`: the Y of ITU-R BT.601 YCbCr at studio range, `16 + 65.481 R + 128.553 G + 24.966 B`
///   (basicsr's `test_y_channel`), the usual choice of super-resolution papers.
/// SSIM is Wang et al.'s: an 11 x 11 Gaussian window of σ 1.5 (normalised), over the positions
/// where it fits whole (the map is `(H − 10) x (W − 10)`), K1 0.01, K2 0.03, L 255.
/// Computed in Double.
public enum ImageQuality {
    public enum Channels: String, Sendable { case rgb, luma }

    /// `10 log10(255² / MSE)`; infinity for identical pictures.
    public static func psnr(_ a: [Float], _ b: [Float], height: Int, width: Int, channels: Channels = .rgb) throws -> Double {
        let (x, y) = try planes(a, b, height: height, width: width, channels: channels)
        var squares = 0.0
        for i in x.indices { squares += (x[i] - y[i]) * (x[i] - y[i]) }
        let mse = squares / Double(x.count)
        return mse == 0 ? .infinity : 10 * log10(255 * 255 / mse)
    }

    /// The mean SSIM; pictures need at least 11 x 11 pixels.
    public static func ssim(_ a: [Float], _ b: [Float], height: Int, width: Int, channels: Channels = .rgb) throws -> Double {
        guard height >= 11, width >= 11 else { throw AVPGANError.invalid("SSIM needs at least 11 x 11 pixels, not \(width) x \(height)") }
        let (x, y) = try planes(a, b, height: height, width: width, channels: channels)
        let plane = height * width, count = x.count / plane
        var total = 0.0
        for c in 0..<count { total += ssimPlane(Array(x[(c * plane)..<((c + 1) * plane)]), Array(y[(c * plane)..<((c + 1) * plane)]), height, width) }
        return total / Double(count)
    }

    /// The pictures' planes at the 8-bit scale: all three, or the luma alone.
    static func planes(_ a: [Float], _ b: [Float], height: Int, width: Int, channels: Channels) throws -> ([Double], [Double]) {
        let plane = height * width
        guard height > 0, width > 0, a.count == 3 * plane, b.count == 3 * plane else {
            throw AVPGANError.invalid("image quality needs two 3 x \(height) x \(width) pictures, not \(a.count) and \(b.count) floats")
        }
        func convert(_ p: [Float]) -> [Double] {
            switch channels {
            case .rgb: return p.map { Double($0) * 255 }
            case .luma:
                return (0..<plane).map { i -> Double in
                    let r = 65.481 * Double(p[i]), g = 128.553 * Double(p[plane + i]), b = 24.966 * Double(p[2 * plane + i])
                    return 16 + r + g + b
                }
            }
        }
        return (convert(a), convert(b))
    }

    /// The normalised 11-tap Gaussian of σ 1.5 (its 2-D window is the outer product).
    static let window: [Double] = {
        let taps = (0..<11).map { exp(-Double(($0 - 5) * ($0 - 5)) / (2 * 1.5 * 1.5)) }
        let sum = taps.reduce(0, +)
        return taps.map { $0 / sum }
    }()

    /// The window-weighted mean of `p` at every position where the window fits.
    static func filtered(_ p: [Double], _ height: Int, _ width: Int) -> [Double] {
        let oh = height - 10, ow = width - 10
        var rows = [Double](repeating: 0, count: height * ow)
        for y in 0..<height { for x in 0..<ow { var s = 0.0; for k in 0..<11 { s += window[k] * p[y * width + x + k] }; rows[y * ow + x] = s } }
        var out = [Double](repeating: 0, count: oh * ow)
        for y in 0..<oh { for x in 0..<ow { var s = 0.0; for k in 0..<11 { s += window[k] * rows[(y + k) * ow + x] }; out[y * ow + x] = s } }
        return out
    }

    static func ssimPlane(_ x: [Double], _ y: [Double], _ height: Int, _ width: Int) -> Double {
        let c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255)
        let mx = filtered(x, height, width), my = filtered(y, height, width)
        let xx = filtered(x.map { $0 * $0 }, height, width), yy = filtered(y.map { $0 * $0 }, height, width)
        let xy = filtered(zip(x, y).map { $0 * $1 }, height, width)
        var total = 0.0
        for i in mx.indices {
            let sx = xx[i] - mx[i] * mx[i], sy = yy[i] - my[i] * my[i], sxy = xy[i] - mx[i] * my[i]
            total += ((2 * mx[i] * my[i] + c1) * (2 * sxy + c2)) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (sx + sy + c2))
        }
        return total / Double(mx.count)
    }
}
