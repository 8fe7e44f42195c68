/// NumPy `.npy` files (format 1.0-3.0) of little-endian float arrays in C order: what
/// `np.save` writes for float32/float64 arrays, so features and embeddings move between
/// Python and the CLI. Reading checks every field against the file's length.
public enum NPY {
    /// The values (as Float) and shape of a `.npy` file's bytes; `<f4` or `<f8`, C order.
    public static func read(_ bytes: [UInt8], name: String = "npy") throws -> (values: [Float], shape: [Int]) {
        func bad(_ why: String) -> AVPGANError { AVPGANError.invalid("\(name): not a usable .npy file (\(why))") }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else { throw bad("no NUMPY magic") }
        let major = bytes[6]
        let headerLength: Int, start: Int
        switch major {
        case 1: headerLength = Int(bytes[8]) | Int(bytes[9]) << 8; start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw bad("truncated") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }; start = 12
        default: throw bad("format version \(major)")
        }
        guard headerLength <= bytes.count - start else { throw bad("header runs past the end") }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        /// The header text after `'key':`, leading spaces dropped.
        func field(_ key: String) -> Substring? {
            let needle = Array("'\(key)':"), text = Array(header)
            guard text.count >= needle.count,
                  let at = (0...(text.count - needle.count)).first(where: { Array(text[$0..<($0 + needle.count)]) == needle })
            else { return nil }
            return header.dropFirst(at + needle.count).drop { $0 == " " }
        }
        guard let descr = field("descr"), let order = field("fortran_order"), let shapeText = field("shape") else {
            throw bad("header lacks descr, fortran_order or shape")
        }
        let width: Int
        if descr.hasPrefix("'<f4'") { width = 4 } else if descr.hasPrefix("'<f8'") { width = 8 } else {
            throw bad("dtype \(descr.prefix { $0 != "," }); expected float32 or float64, little-endian")
        }
        guard order.hasPrefix("False") else { throw bad("Fortran order; save a C-contiguous array") }
        guard shapeText.first == "(", let close = shapeText.firstIndex(of: ")") else { throw bad("malformed shape") }
        let dims = shapeText[shapeText.index(after: shapeText.startIndex)..<close]
            .filter { $0 != " " }.split(separator: ",")
        var shape: [Int] = []
        for d in dims {
            guard let v = Int(d), v >= 0 else { throw bad("malformed shape") }
            shape.append(v)
        }
        let dataStart = start + headerLength
        guard let count = Checked.product(shape), let size = Checked.multiply(count, width),
              size == bytes.count - dataStart else {
            throw bad("shape \(shape) does not match the \(bytes.count - dataStart) data bytes")
        }
        let values: [Float] = bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress! + dataStart
            return width == 4
                ? (0..<count).map { Float(bitPattern: base.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian) }
                : (0..<count).map { Float(Double(bitPattern: base.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self).littleEndian)) }
        }
        return (values, shape)
    }

    /// `.npy` bytes (format 1.0, `<f4`, C order) of `values` with `shape`.
    public static func write(_ values: [Float], shape: [Int]) -> [UInt8] {
        let dims = shape.count == 1 ? "\(shape[0])," : shape.map(String.init).joined(separator: ", ")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        out += [UInt8(header.utf8.count & 0xFF), UInt8(header.utf8.count >> 8)]
        out += Array(header.utf8)
        values.withUnsafeBytes { out += $0 }
        return out
    }
}
