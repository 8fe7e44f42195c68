/// PNG text chunks: provenance is stored as uncompressed iTXt chunks (UTF-8) right after
/// IHDR, and can be read back from any PNG's tEXt and iTXt chunks.
public enum PNGText {
    /// `png` with one iTXt chunk per `(keyword, text)` inserted after its IHDR chunk.
    /// Keywords are 1-79 printable Latin-1 characters without leading/trailing spaces.
    public static func insert(_ entries: [(String, String)], into png: [UInt8]) throws -> [UInt8] {
        guard png.count >= 33, Array(png[12..<16]) == Array("IHDR".utf8) else {
            throw AVPGANError(.internal, "not a PNG with IHDR first")
        }
        var chunks: [UInt8] = []
        for (keyword, text) in entries {
            let key = Array(keyword.utf8)
            guard (1...79).contains(key.count), key.allSatisfy({ (32...126).contains($0) }), key.first != 32, key.last != 32 else {
                throw AVPGANError.invalid("PNG text keyword '\(keyword)' is not 1-79 printable characters")
            }
            // keyword \0, compression flag 0, method 0, language "" \0, translated keyword "" \0, UTF-8 text
            chunks += chunk("iTXt", key + [0, 0, 0, 0, 0] + Array(text.utf8))
        }
        return Array(png[0..<33]) + chunks + Array(png[33...])
    }

    /// The tEXt and iTXt (uncompressed) entries of a PNG, in file order.
    public static func read(_ png: [UInt8]) -> [(String, String)] {
        var out: [(String, String)] = []
        var at = 8
        while at + 12 <= png.count {
            let length = Int(png[at]) << 24 | Int(png[at + 1]) << 16 | Int(png[at + 2]) << 8 | Int(png[at + 3])
            guard length <= png.count - at - 12 else { break }
            let type = String(decoding: png[(at + 4)..<(at + 8)], as: UTF8.self)
            let data = Array(png[(at + 8)..<(at + 8 + length)])
            if let nul = data.firstIndex(of: 0) {
                let key = String(decoding: data[..<nul], as: UTF8.self)
                if type == "tEXt" {
                    out.append((key, String(String.UnicodeScalarView(data[(nul + 1)...].map { Unicode.Scalar($0) }))))  // Latin-1
                } else if type == "iTXt", nul + 2 < data.count, data[nul + 1] == 0 {
                    // Skip compression flag/method, language tag and translated keyword.
                    var p = nul + 3
                    for _ in 0..<2 { while p < data.count && data[p] != 0 { p += 1 }; p += 1 }
                    if p <= data.count { out.append((key, String(decoding: data[min(p, data.count)...], as: UTF8.self))) }
                }
            }
            if type == "IEND" { break }
            at += 12 + length
        }
        return out
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        let n = UInt32(data.count)
        let length: [UInt8] = [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
        let crc = CRC32.checksum(typeBytes + data)
        return length + typeBytes + data + [UInt8(crc >> 24), UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 8), UInt8(truncatingIfNeeded: crc)]
    }
}

/// CRC-32 as PNG chunks use it (ISO 3309, reflected polynomial 0xEDB88320).
enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
