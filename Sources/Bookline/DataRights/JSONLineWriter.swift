import Foundation

/// Compact JSON for export rows, with sorted keys. Exports write millions of rows and
/// Foundation's JSONEncoder (an encoder and a container tree per value) made up most of their
/// time; this writes straight into a byte buffer, with the same escaping rules (RFC 8259).
enum JSONLineWriter {
    static func append(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let flag): out.append(contentsOf: Array((flag ? "true" : "false").utf8))
        case .integer(let number): out.append(contentsOf: Array(String(number).utf8))
        case .number(let number):
            if number.isFinite { out.append(contentsOf: Array("\(number)".utf8)) } else { out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]) }
        case .string(let text): appendString(text, to: &out)
        case .array(let items):
            out.append(0x5B)
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(0x2C) }
                append(item, to: &out)
            }
            out.append(0x5D)
        case .object(let members):
            out.append(0x7B)
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(0x2C) }
                appendString(key, to: &out)
                out.append(0x3A)
                append(members[key]!, to: &out)
            }
            out.append(0x7D)
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(0x22)
        for byte in text.utf8 {
            switch byte {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: out.append(contentsOf: [0x5C, 0x72])
            case 0x09: out.append(contentsOf: [0x5C, 0x74])
            case 0x00..<0x20: out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(0x22)
    }
}
