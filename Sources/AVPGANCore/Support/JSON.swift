/// A JSON value, as parsed by `JSON.parse`. Objects keep their keys in file order.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double, integer: Int64?)  // `integer` is set when the literal is an exact integer
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (l: JSONValue, r: JSONValue) -> Bool {
        switch (l, r) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a, ai), .number(b, bi)): return a == b && ai == bi
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value of `key` in an object (the first one, should a file repeat it).
    public subscript(key: String) -> JSONValue? {
        if case let .object(members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    public var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    public var integerValue: Int64? { if case let .number(_, i) = self { return i }; return nil }
    public var doubleValue: Double? { if case let .number(d, _) = self { return d }; return nil }
    public var arrayValue: [JSONValue]? { if case let .array(a) = self { return a }; return nil }
    public var objectValue: [(String, JSONValue)]? { if case let .object(o) = self { return o }; return nil }

    /// Compact JSON text for this value (keys in stored order).
    public var serialized: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .number(d, i):
            if let i { return String(i) }
            return d.isFinite ? "\(d)" : "null"
        case let .string(s): return JSON.quote(s)
        case let .array(a): return "[" + a.map(\.serialized).joined(separator: ",") + "]"
        case let .object(o): return "{" + o.map { JSON.quote($0.0) + ":" + $0.1.serialized }.joined(separator: ",") + "}"
        }
    }
}

/// A strict RFC 8259 parser for headers read from untrusted files: bounded nesting, no
/// trailing garbage (trailing white space allowed), every error a message with the byte offset.
public enum JSON {
    public static let maxDepth = 64

    public static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        var parser = Parser(bytes: bytes)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.at == bytes.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    public static func parse(_ text: String) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { try parse(UnsafeRawBufferPointer($0)) }
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var at = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        func error(_ what: String) -> AVPGANError { AVPGANError.format("JSON header: \(what) at byte \(at)") }

        var peek: UInt8? { at < bytes.count ? bytes[at] : nil }

        mutating func skipSpace() {
            while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { at += 1 }
        }

        mutating func expect(_ literal: StaticString) throws {
            let n = literal.utf8CodeUnitCount
            guard at + n <= bytes.count else { throw error("truncated literal") }
            for i in 0..<n where bytes[at + i] != literal.utf8Start[i] { throw error("invalid literal") }
            at += n
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < JSON.maxDepth else { throw error("nesting deeper than \(JSON.maxDepth)") }
            guard let c = peek else { throw error("unexpected end") }
            switch c {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character '\(Character(Unicode.Scalar(c)))'")
            }
        }

        mutating func object(depth: Int) throws -> JSONValue {
            at += 1
            var members: [(String, JSONValue)] = []
            skipSpace()
            if peek == UInt8(ascii: "}") { at += 1; return .object(members) }
            while true {
                skipSpace()
                guard peek == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try string()
                skipSpace()
                guard peek == UInt8(ascii: ":") else { throw error("expected ':'") }
                at += 1
                skipSpace()
                members.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard let c = peek else { throw error("unterminated object") }
                at += 1
                if c == UInt8(ascii: "}") { return .object(members) }
                guard c == UInt8(ascii: ",") else { throw error("expected ',' or '}'") }
            }
        }

        mutating func array(depth: Int) throws -> JSONValue {
            at += 1
            var items: [JSONValue] = []
            skipSpace()
            if peek == UInt8(ascii: "]") { at += 1; return .array(items) }
            while true {
                skipSpace()
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard let c = peek else { throw error("unterminated array") }
                at += 1
                if c == UInt8(ascii: "]") { return .array(items) }
                guard c == UInt8(ascii: ",") else { throw error("expected ',' or ']'") }
            }
        }

        mutating func hex4() throws -> UInt32 {
            guard at + 4 <= bytes.count else { throw error("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[at]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw error("invalid \\u escape")
                }
                v = v * 16 + d
                at += 1
            }
            return v
        }

        mutating func string() throws -> String {
            at += 1
            var utf8: [UInt8] = []
            while true {
                guard let c = peek else { throw error("unterminated string") }
                at += 1
                switch c {
                case UInt8(ascii: "\""):
                    guard let s = String(validating: utf8, as: UTF8.self) else { throw error("string is not valid UTF-8") }
                    return s
                case UInt8(ascii: "\\"):
                    guard let e = peek else { throw error("unterminated escape") }
                    at += 1
                    switch e {
                    case UInt8(ascii: "\""): utf8.append(0x22)
                    case UInt8(ascii: "\\"): utf8.append(0x5C)
                    case UInt8(ascii: "/"): utf8.append(0x2F)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800..<0xDC00).contains(code) {
                            guard at + 2 <= bytes.count, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u")
                            else { throw error("unpaired surrogate") }
                            at += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(code) else { throw error("invalid code point") }
                        utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default: throw error("invalid escape")
                    }
                default:
                    guard c >= 0x20 else { throw error("control character in string") }
                    utf8.append(c)
                }
            }
        }

        mutating func number() throws -> JSONValue {
            let start = at
            if peek == UInt8(ascii: "-") { at += 1 }
            guard let first = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { throw error("invalid number") }
            if first == UInt8(ascii: "0") { at += 1 } else { skipDigits() }
            var isInteger = true
            if peek == UInt8(ascii: ".") {
                isInteger = false
                at += 1
                guard skipDigits() > 0 else { throw error("invalid number") }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                isInteger = false
                at += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { at += 1 }
                guard skipDigits() > 0 else { throw error("invalid number") }
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
            guard let d = Double(text) else { throw error("invalid number") }
            return .number(d, integer: isInteger ? Int64(text) : nil)
        }

        @discardableResult
        mutating func skipDigits() -> Int {
            var n = 0
            while let c = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) { at += 1; n += 1 }
            return n
        }
    }
}
