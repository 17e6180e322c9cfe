import Crypto
import Foundation

/// Tenant API keys, shaped like Stripe's and GitHub's: `bk_live_` or `bk_test_`, 32 random
/// base62 characters, then a 6-character checksum. The checksum lets Bookline (and secret
/// scanners) reject typos and made-up keys before any database lookup. Only the SHA-256 of a
/// key is stored.
public struct APIKeyFormat: Sendable, Equatable {
    public enum Environment: String, Sendable, Codable { case live, test }

    public static let randomLength = 32
    public static let checksumLength = 6
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// The whole key, e.g. `bk_live_4eC39HqLyjWDarjtT1zdp7dcAbCdEf123456`.
    public let key: String
    public let environment: Environment

    /// A new random key.
    public static func generate(_ environment: Environment = .live) -> APIKeyFormat {
        var generator = SystemRandomNumberGenerator()
        return generate(environment, using: &generator)
    }

    public static func generate(_ environment: Environment, using generator: inout some RandomNumberGenerator) -> APIKeyFormat {
        let random = String((0..<randomLength).map { _ in alphabet.randomElement(using: &generator)! })
        let body = "bk_\(environment.rawValue)_\(random)"
        return APIKeyFormat(key: body + checksum(of: body), environment: environment)
    }

    /// Parses and checks a presented key; nil for anything that is not a well-formed Bookline key.
    /// Prefix, length and alphabet only (no hashing): cheap enough to try before a cache look-up.
    public static func hasKeyShape(_ text: String) -> Bool {
        (text.hasPrefix("bk_live_") || text.hasPrefix("bk_test_")) && text.utf8.count == 8 + randomLength + checksumLength
            && text.utf8.dropFirst(8).allSatisfy(isBase62)
    }

    public static func parse(_ text: some StringProtocol) -> APIKeyFormat? {
        let environment: Environment
        if text.hasPrefix("bk_live_") { environment = .live } else if text.hasPrefix("bk_test_") { environment = .test } else { return nil }
        let expectedLength = 8 + randomLength + checksumLength
        guard text.utf8.count == expectedLength, text.utf8.dropFirst(8).allSatisfy(isBase62) else { return nil }
        let body = String(text.prefix(8 + randomLength))
        let given = Array(text.suffix(checksumLength).utf8)
        guard constantTimeEquals(given, Array(checksum(of: body).utf8)) else { return nil }
        return APIKeyFormat(key: String(text), environment: environment)
    }

    /// Hex SHA-256, the only form stored.
    public var hash: String { Self.sha256Hex(key) }
    /// Shown in listings: `bk_live_4eC3`.
    public var displayPrefix: String { String(key.prefix(12)) }
    public var lastFour: String { String(key.suffix(4)) }

    static func checksum(of body: String) -> String {
        let digest = Array(SHA256.hash(data: Data(body.utf8)))
        var value = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        var characters: [Character] = []
        for _ in 0..<checksumLength {
            characters.append(alphabet[Int(value % 62)])
            value /= 62
        }
        return String(characters)
    }

    static func isBase62(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    public static func sha256Hex(_ text: String) -> String {
        Hex.sha256(Data(text.utf8))
    }
}

/// Compares two byte strings in time that depends only on their lengths.
public func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
    return difference == 0
}

public func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
    constantTimeEquals(Array(lhs.utf8), Array(rhs.utf8))
}
