import Crypto
import Foundation

/// Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1, 6 digits,
/// 30-second steps, accepting one step either side for clock drift. What authenticator apps
/// (and `pyotp`) produce by default.
public struct TOTP: Sendable, Equatable {
    public static let digits = 6
    public static let period: TimeInterval = 30
    /// Steps accepted either side of now.
    public static let window = 1
    /// 160 bits, as RFC 4226 recommends for SHA-1.
    public static let secretLength = 20

    public let secret: [UInt8]

    public init(secret: [UInt8]) {
        self.secret = secret
    }

    /// A new random secret.
    public static func generate() -> TOTP {
        var generator = SystemRandomNumberGenerator()
        return TOTP(secret: (0..<secretLength).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    public var base32Secret: String { Base32.encode(secret) }

    /// The step (counter) a moment falls in.
    public static func step(at date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / period).rounded(.down))
    }

    /// The code for one step (RFC 4226 §5.3: dynamic truncation of HMAC-SHA1).
    public func code(step: Int64) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let binary = (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16)
            | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        let value = binary % 1_000_000
        let text = String(value)
        return String(repeating: "0", count: Self.digits - text.count) + text
    }

    public func code(at date: Date) -> String { code(step: Self.step(at: date)) }

    /// The step a code matches within the window around `date`, newest first; nil when none
    /// does. Every candidate is compared in constant time, and all of them are computed, so
    /// the answer's timing says nothing about which step (if any) matched.
    public func matchingStep(_ candidate: String, at date: Date) -> Int64? {
        let presented = Array(candidate.utf8.filter { $0 != UInt8(ascii: " ") })
        guard presented.count == Self.digits, presented.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        let now = Self.step(at: date)
        var found: Int64?
        for offset in stride(from: Self.window, through: -Self.window, by: -1) {
            let step = now + Int64(offset)
            if constantTimeEquals(Array(code(step: step).utf8), presented), found == nil { found = step }
        }
        return found
    }

    /// The `otpauth://` URI authenticator apps scan (Google Authenticator's key URI format).
    public func provisioningURI(account: String, issuer: String) -> String {
        let label = Self.escape("\(issuer):\(account)")
        return "otpauth://totp/\(label)?secret=\(base32Secret)&issuer=\(Self.escape(issuer))"
            + "&algorithm=SHA1&digits=\(Self.digits)&period=\(Int(Self.period))"
    }

    private static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// RFC 4648 base32 (upper case, no padding on output; padding and case ignored on input).
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var buffer = 0, bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return String(decoding: output, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        var buffer = 0, bits = 0
        for char in text.uppercased().utf8 where char != UInt8(ascii: "=") && char != UInt8(ascii: " ") {
            guard let value = alphabet.firstIndex(of: char) else { return nil }
            buffer = ((buffer << 5) | value) & 0xFFFF
            bits += 5
            if bits >= 8 {
                output.append(UInt8((buffer >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return output
    }
}
