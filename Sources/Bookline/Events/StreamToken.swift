import BooklineCore
import Crypto
import Foundation

/// A short-lived token that opens one event stream from a browser (`EventSource` cannot send
/// an Authorization header, and an API key must never sit in a URL). It is the caller's own
/// credential, signed with a key derived from the master key, valid for a minute to *open* a
/// stream; any instance can check it.
struct StreamToken: Sendable {
    static let lifetime: TimeInterval = 60
    static let prefix = "bks_"

    struct Claims: Codable, Sendable {
        let tenantId: String
        let kind: String
        let principalId: String
        let role: String?
        let scopes: [String]
        let expires: Int
    }

    let box: SecretBox

    init(box: SecretBox) {
        self.box = box
    }

    private var key: SymmetricKey {
        get throws { try box.derivedKey(for: "bookline.event-stream-token.v1") }
    }

    func issue(for auth: Authentication, tenantId: String, now: Date) throws -> String {
        let claims = Claims(tenantId: tenantId, kind: auth.principal.kind.rawValue, principalId: auth.principal.id,
                            role: auth.principal.role?.rawValue, scopes: auth.scopes.sorted(),
                            expires: Int(now.timeIntervalSince1970 + Self.lifetime))
        let body = Base64URL.encode(try JSONEncoder().encode(claims))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: try key)
        return Self.prefix + body + "." + Base64URL.encode(Data(mac))
    }

    /// The credential the token stands for; 401 when it is forged, malformed or expired.
    func verify(_ token: String, now: Date) throws -> Authentication {
        let invalid = Problem.unauthorized("The stream token is not valid or has expired; ask for a new one.")
        guard token.hasPrefix(Self.prefix), token.count < 2048 else { throw invalid }
        let key = try key
        let parts = token.dropFirst(Self.prefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let mac = Base64URL.decode(String(parts[1])),
              HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(parts[0].utf8), using: key),
              let json = Base64URL.decode(String(parts[0])),
              let claims = try? JSONDecoder().decode(Claims.self, from: json),
              Double(claims.expires) >= now.timeIntervalSince1970,
              let kind = Principal.Kind(rawValue: claims.kind)
        else { throw invalid }
        return Authentication(principal: Principal(kind: kind, id: claims.principalId, role: claims.role.flatMap { Role(rawValue: $0, platform: claims.tenantId == nil) }),
                              tenantId: claims.tenantId, scopes: Set(claims.scopes), method: "stream_token")
    }
}

enum Base64URL {
    static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        return Data(base64Encoded: base64)
    }
}
