/// torch's `MaxPool2d(kernel_size=2, stride=2)` (floor mode: an odd last row or column is
/// dropped) applied to `relu(z)`, the only way VGG uses it, with its reverse mode. Planes are
/// independent: `planes` maps of `h x w` floats in a row (a CNHW map's channels x images).
enum ReLUMaxPool2x2 {
    /// `out[p, i, j] = max(0, z[p, 2i..2i+1, 2j..2j+1])`, `out` `planes x (h/2) x (w/2)`.
    static func forward(_ z: UnsafePointer<Float>, planes: Int, h: Int, w: Int, into out: UnsafeMutablePointer<Float>) {
        let oh = h / 2, ow = w / 2
        parallelFor(planes, costPerItem: h * w) { p in
            let src = z + p * h * w, dst = out + p * oh * ow
            for i in 0..<oh {
                let r0 = src + 2 * i * w, r1 = r0 + w, o = dst + i * ow
                for j in 0..<ow {
                    o[j] = max(max(max(r0[2 * j], r0[2 * j + 1]), max(r1[2 * j], r1[2 * j + 1])), 0)
                }
            }
        }
    }

    /// Reverse mode through the pool and the ReLU before it: `dz` (OVERWRITTEN, `planes x h x w`)
    /// is 0 except, in each window, at torch's argmax (the first maximum in row-major order)
    /// when that maximum is positive, where it is `dOut`. (Where the window's maximum is not
    /// positive the ReLU's gradient is 0 wherever torch routes it.)
    static func backward(_ dOut: UnsafePointer<Float>, input z: UnsafePointer<Float>, planes: Int, h: Int, w: Int,
                         into dz: UnsafeMutablePointer<Float>) {
        let oh = h / 2, ow = w / 2
        parallelFor(planes, costPerItem: h * w) { p in
            let src = z + p * h * w, dst = dz + p * h * w, g = dOut + p * oh * ow
            dst.update(repeating: 0, count: h * w)
            for i in 0..<oh {
                for j in 0..<ow {
                    let a = 2 * i * w + 2 * j, c = a + w
                    var at = a, best = src[a]
                    if src[a + 1] > best { at = a + 1; best = src[a + 1] }
                    if src[c] > best { at = c; best = src[c] }
                    if src[c + 1] > best { at = c + 1; best = src[c + 1] }
                    if best > 0 { dst[at] = g[i * ow + j] }
                }
            }
        }
    }
}
