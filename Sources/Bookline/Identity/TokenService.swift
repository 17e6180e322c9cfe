import BooklineCore
import Crypto
import Foundation
import JWTKit
import SQLKit
import Synchronization

/// The claims of a Bookline access token.
public struct AccessClaims: JWTPayload, Equatable {
    public var iss: String
    public var aud: [String]
    public var sub: String
    /// `user` or `api_key`: what `sub` names.
    public var sub_type: String
    public var tid: String?
    public var scope: String
    public var role: String?
    public var iat: Int
    public var nbf: Int
    public var exp: Int
    public var jti: String
    /// Always `access`: nothing else Bookline issues is a JWT.
    public var token_use: String
    /// A user's signed-in session (revoking it ends this token).
    public var sid: String? = nil
    /// Set when the user's tenant requires a second factor the user has not enrolled yet.
    public var mfa_pending: Bool? = nil

    /// Time and audience checks happen in `TokenService.verify` against the injected clock.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

public struct TokenError: Error, Equatable {
    public let reason: String
}

/// Issues and verifies access JWTs with Ed25519 keys that carry a `kid`. Private keys live in
/// `signing_keys`, sealed with the master key; public keys are served as JWKS. Rotation adds a
/// new signing key and retires the old one, which still verifies until its tokens expire.
public final class TokenService: Sendable {
    public static let accessTokenLifetime: TimeInterval = 15 * 60
    public static let audience = "bookline-api"
    /// Retired keys stay published this long: longer than any access token lives.
    static let retiredKeyLifetime: TimeInterval = 24 * 3600
    static let allowedClockSkew: TimeInterval = 30

    struct LoadedKey: Sendable {
        let kid: String
        let publicKey: String
        let retiredAt: Date?
        let privateKey: Curve25519.Signing.PrivateKey
    }

    private let database: Database
    private let box: SecretBox
    public let issuer: String
    private let now: @Sendable () -> Date
    private let keys = JWTKeyCollection()
    private let loaded = Mutex<[LoadedKey]>([])
    private let lastReload = Mutex<Date?>(nil)

    init(database: Database, box: SecretBox, issuer: String, now: @escaping @Sendable () -> Date) {
        self.database = database
        self.box = box
        self.issuer = issuer
        self.now = now
    }

    /// What opening a signing key sealed under another master key means.
    static let wrongMasterKey = SecretBox.wrongMasterKey

    /// Loads the keys, creating the first signing key on a fresh database.
    func start() async throws {
        if try await database.sql.raw("SELECT kid FROM signing_keys WHERE retired_at IS NULL").first() == nil {
            try await addSigningKey()
        }
        try await reload()
    }

    /// Adds a signing key and retires the current one (`bookline keys rotate`).
    @discardableResult
    public func rotate() async throws -> String {
        let kid = try await addSigningKey()
        try await reload()
        return kid
    }

    @discardableResult
    private func addSigningKey() async throws -> String {
        let key = Curve25519.Signing.PrivateKey()
        let moment = now()
        let kid = "bk-" + Identifier.make(now: moment).replacingOccurrences(of: "-", with: "").prefix(20)
        let publicKey = key.publicKey.rawRepresentation.base64URLEncoded()
        let sealed = try box.seal(key.rawRepresentation)
        try await database.transaction { db in
            try await db.raw("UPDATE signing_keys SET retired_at = \(bind: moment) WHERE retired_at IS NULL").run()
            try await db.raw("""
                INSERT INTO signing_keys (kid, algorithm, public_key, private_key_sealed, created_at)
                VALUES (\(bind: kid), 'EdDSA', \(bind: publicKey), \(bind: sealed), \(bind: moment))
                """).run()
        }
        return kid
    }

    private func reload() async throws {
        let cutoff = now().addingTimeInterval(-Self.retiredKeyLifetime)
        let rows = try await database.sql.raw("""
            SELECT kid, public_key, private_key_sealed, retired_at FROM signing_keys
            WHERE retired_at IS NULL OR retired_at > \(bind: cutoff) ORDER BY created_at
            """).all()
        var fresh: [LoadedKey] = []
        for row in rows {
            let kid = try row.decode(column: "kid", as: String.self)
            let raw: Data
            do {
                raw = try box.open(try row.decode(column: "private_key_sealed", as: String.self))
            } catch {
                throw Self.wrongMasterKey
            }
            let signingKey = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            await keys.add(eddsa: EdDSA.PrivateKey(backing: signingKey), kid: JWKIdentifier(string: kid))
            fresh.append(LoadedKey(
                kid: kid, publicKey: try row.decode(column: "public_key", as: String.self),
                retiredAt: try row.decode(column: "retired_at", as: Date?.self), privateKey: signingKey
            ))
        }
        loaded.withLock { $0 = fresh }
        lastReload.withLock { $0 = now() }
    }

    /// The current signing key (another instance may have rotated: reload at most once a minute).
    private func signingKid() async throws -> String {
        if loaded.withLock({ $0.isEmpty }) {
            // Not started yet (the database was down at start, or migrations ran later).
            try await start()
        } else if let last = lastReload.withLock({ $0 }), now().timeIntervalSince(last) > 60 {
            try await reload()
        }
        guard let kid = loaded.withLock({ $0.last { $0.retiredAt == nil }?.kid }) else {
            throw TokenError(reason: "no signing key")
        }
        return kid
    }

    public func issue(subject: String, subjectType: Principal.Kind, tenantId: String?, role: Role?, scopes: Set<String>,
                      sessionId: String? = nil, mfaPending: Bool = false) async throws -> (token: String, expiresIn: Int) {
        let issuedAt = Int(now().timeIntervalSince1970)
        let lifetime = Int(Self.accessTokenLifetime)
        let claims = AccessClaims(
            iss: issuer, aud: [Self.audience], sub: subject, sub_type: subjectType.rawValue, tid: tenantId,
            scope: scopes.sorted().joined(separator: " "), role: role?.rawValue, iat: issuedAt, nbf: issuedAt,
            exp: issuedAt + lifetime, jti: Identifier.make(), token_use: "access", sid: sessionId,
            mfa_pending: mfaPending ? true : nil
        )
        let kid = try await signingKid()
        var header = JWTHeader()
        header.typ = "JWT"
        let token = try await keys.sign(claims, kid: JWKIdentifier(string: kid), header: header)
        return (token, lifetime)
    }

    /// Verifies signature, header and claims. Refuses `alg` other than EdDSA (so `none` and
    /// HS256-with-the-public-key fail), unknown or missing `kid`, and key-carrying headers
    /// (`jku`, `x5u`, `jwk`, `x5c`) or `crit` that could point verification elsewhere.
    public func verify(_ token: String) async throws -> AccessClaims {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Data(base64URLEncoded: String(parts[0])),
              let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any]
        else { throw TokenError(reason: "malformed") }
        guard header["alg"] as? String == "EdDSA" else { throw TokenError(reason: "algorithm") }
        for forbidden in ["jku", "x5u", "jwk", "x5c", "x5t", "crit"] where header[forbidden] != nil {
            throw TokenError(reason: "header \(forbidden)")
        }
        guard let kid = header["kid"] as? String else { throw TokenError(reason: "kid") }
        if !loaded.withLock({ $0.contains { $0.kid == kid } }) {
            try await reload()
            guard loaded.withLock({ $0.contains { $0.kid == kid } }) else { throw TokenError(reason: "kid") }
        }
        let claims: AccessClaims
        do {
            claims = try await keys.verify(token, as: AccessClaims.self)
        } catch {
            throw TokenError(reason: "signature")
        }
        let moment = now().timeIntervalSince1970
        guard claims.token_use == "access" else { throw TokenError(reason: "token_use") }
        guard claims.iss == issuer else { throw TokenError(reason: "issuer") }
        guard claims.aud.contains(Self.audience) else { throw TokenError(reason: "audience") }
        guard Double(claims.exp) > moment else { throw TokenError(reason: "expired") }
        guard Double(claims.nbf) <= moment + Self.allowedClockSkew else { throw TokenError(reason: "not yet valid") }
        return claims
    }

    /// Signs arbitrary header and claims with the current key: lets tests forge tokens that
    /// are correctly signed but otherwise wrong. Never used by the server itself.
    func signForTesting(header: [String: Any], claims: AccessClaims) throws -> String {
        guard let key = loaded.withLock({ $0.last { $0.retiredAt == nil } }) else { throw TokenError(reason: "no key") }
        var header = header
        if header["kid"] == nil { header["kid"] = key.kid }
        let headerPart = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]).base64URLEncoded()
        let claimsPart = try JSONEncoder().encode(claims).base64URLEncoded()
        let signature = try key.privateKey.signature(for: Data("\(headerPart).\(claimsPart)".utf8))
        return "\(headerPart).\(claimsPart).\(signature.base64URLEncoded())"
    }

    /// `/.well-known/jwks.json`: current and recently retired public keys.
    public func jwks() -> JWKSDocument {
        JWKSDocument(keys: loaded.withLock { $0 }.map {
            .init(kty: "OKP", crv: "Ed25519", x: $0.publicKey, kid: $0.kid, alg: "EdDSA", use: "sig")
        })
    }
}

public struct JWKSDocument: Codable, Sendable, Equatable {
    public struct Key: Codable, Sendable, Equatable {
        public let kty: String
        public let crv: String
        public let x: String
        public let kid: String
        public let alg: String
        public let use: String
    }
    public let keys: [Key]
}

extension Data {
    func base64URLEncoded() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}
