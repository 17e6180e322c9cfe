import Foundation
import Hummingbird

/// Compact JSON with sorted keys, written straight into a byte buffer with the escaping rules of
/// Foundation's JSONEncoder as the API configures it (RFC 8259, slashes unescaped). Foundation's
/// encoder builds an encoder and a container tree per value: it made up most of an export's time
/// and an eighth of the CPU of `GET /api/me`, so exports and the hottest responses use this.
enum JSONWriter {
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

/// A JSON response rendered by `JSONWriter`, byte for byte what `JSONEncoder.bookline` writes
/// for the same fields (nil optionals left out, as synthesized `Codable` does).
struct RenderedJSON: ResponseGenerator {
    let value: JSONValue

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        JSONWriter.append(value, to: &bytes)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(bytes.count)],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
