import Crypto
import Foundation

/// Lowercase hex, without `String(format:)` (which is slow on Linux and sits on the request path
/// through API key hashing).
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Hex SHA-256 of `data`.
    public static func sha256(_ data: some DataProtocol) -> String {
        encode(SHA256.hash(data: data))
    }
}
