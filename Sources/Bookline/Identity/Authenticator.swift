import BooklineCore
import Foundation
import Hummingbird
import HTTPTypes

/// Turns the credential in a request (`Authorization: Bearer <API key or JWT>` or `X-API-Key`)
/// into an `Authentication`. Returns nil when there is no credential; throws 401 when there is
/// one that is not valid. Keys are checked for format and checksum before any database lookup.
public struct Authenticator: Sendable {
    static let apiKeyHeader = HTTPField.Name("X-API-Key")!
    /// last_used_at is written at most this often per key, not on every request.
    static let lastUsedResolution: TimeInterval = 60

    let apiKeys: APIKeyStore
    let tokens: TokenService
    let users: UserStore
    let sessions: SessionStore
    let now: @Sendable () -> Date

    public func authenticate(_ request: Request) async throws -> Authentication? {
        guard let credential = try Self.credential(in: request) else { return nil }
        if APIKeyFormat.hasKeyShape(credential) {
            // A cached key was checksummed when it was first looked up: one SHA-256, not two.
            let hash = APIKeyFormat.sha256Hex(credential)
            if let record = apiKeys.cached(hash: hash) { return try await authenticate(record: record) }
            // The checksum turns away typos and forgeries before the database is asked.
            guard APIKeyFormat.parse(credential) != nil else { throw Problem.unauthorized("The credential is not valid.") }
            guard let record = try await apiKeys.find(hash: hash) else { throw Problem.unauthorized("The credential is not valid.") }
            return try await authenticate(record: record)
        }
        if credential.split(separator: ".").count == 3 {
            return try await authenticate(jwt: credential)
        }
        throw Problem.unauthorized("The credential is not valid.")
    }

    static func credential(in request: Request) throws -> String? {
        if let header = request.headers[.authorization] {
            // "Bearer " in any case, then the credential.
            guard header.utf8.count > 7, header.utf8.prefix(7).map({ $0 | 0x20 }) == Array("bearer ".utf8) else {
                throw Problem.unauthorized("Use Authorization: Bearer <API key or access token>.")
            }
            let credential = trimmingSpaces(header.utf8.dropFirst(7))
            guard !credential.isEmpty else { throw Problem.unauthorized("Use Authorization: Bearer <API key or access token>.") }
            return credential
        }
        return request.headers[apiKeyHeader].map { trimmingSpaces($0.utf8[...]) }
    }

    /// The value without the spaces and tabs HTTP allows around it. Foundation's
    /// `trimmingCharacters(in:)` costs several percent of an authenticated request.
    private static func trimmingSpaces(_ bytes: Substring.UTF8View) -> String {
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(Substring(bytes[first...last]))
    }

    /// A parsed key (its checksum already checked), as /api/auth/token presents it.
    func authenticate(apiKey: APIKeyFormat) async throws -> Authentication {
        guard let record = try await apiKeys.find(hash: apiKey.hash) else { throw Problem.unauthorized("The credential is not valid.") }
        return try await authenticate(record: record)
    }

    func authenticate(record: APIKeyRecord) async throws -> Authentication {
        let moment = now()
        guard record.isActive(at: moment) else { throw Problem.unauthorized("The credential is not valid.") }
        if record.lastUsedAt.map({ moment.timeIntervalSince($0) > Self.lastUsedResolution }) ?? true {
            try? await apiKeys.touch(tenantId: record.tenantId, id: record.id, now: moment)
        }
        return Authentication(
            principal: Principal(kind: .apiKey, id: record.id), tenantId: record.tenantId,
            scopes: Set(record.scopes), method: "api_key"
        )
    }

    func authenticate(jwt: String) async throws -> Authentication {
        let claims: AccessClaims
        do {
            claims = try await tokens.verify(jwt)
        } catch {
            throw Problem.unauthorized("The access token is not valid or has expired.")
        }
        let scopes = Set(claims.scope.split(separator: " ").map(String.init))
        switch claims.sub_type {
        case Principal.Kind.apiKey.rawValue:
            // A token minted from a key dies with the key.
            guard let tid = claims.tid, let record = try await apiKeys.find(tenantId: tid, id: claims.sub),
                  record.isActive(at: now())
            else { throw Problem.unauthorized("The access token is not valid or has expired.") }
            return Authentication(principal: Principal(kind: .apiKey, id: record.id), tenantId: tid,
                                  scopes: scopes.intersection(record.scopes), method: "jwt")
        case Principal.Kind.user.rawValue:
            guard let role = claims.role.flatMap({ Role(rawValue: $0, platform: claims.tid == nil) }),
                  try await users.isCurrent(id: claims.sub, tenantId: claims.tid, role: role, now: now()),
                  try await claims.sid.asyncMap({ try await sessions.isLive($0, now: now()) }) ?? true
            else {
                throw Problem.unauthorized("The access token is not valid or has expired.")
            }
            return Authentication(principal: Principal(kind: .user, id: claims.sub, role: role), tenantId: claims.tid,
                                  scopes: scopes, method: "jwt", sessionId: claims.sid, mfaPending: claims.mfa_pending ?? false)
        default:
            throw Problem.unauthorized("The access token is not valid or has expired.")
        }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
