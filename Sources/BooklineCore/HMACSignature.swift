import Crypto
import Foundation

/// Webhook signatures that are a hex HMAC-SHA256 of the raw body with a shared secret (the
/// voice-AI provider's `X-Vapi-Signature`), compared in constant time.
public enum HMACSignature {
    public static func hexSHA256(body: [UInt8], secret: String) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))))
    }

    /// Case-insensitive hex, an optional `sha256=` prefix, constant time in the signature's length.
    public static func isValid(signature: String, body: [UInt8], secret: String) -> Bool {
        var given = signature.trimmingWhitespace().lowercased()
        if given.hasPrefix("sha256=") { given.removeFirst(7) }
        return constantTimeEquals(Array(given.utf8), Array(hexSHA256(body: body, secret: secret).utf8))
    }
}
