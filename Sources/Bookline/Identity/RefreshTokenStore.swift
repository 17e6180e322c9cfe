import BooklineCore
import Foundation
import SQLKit

/// Opaque refresh tokens (`bkr_` + 43 base62), stored as SHA-256, rotated on every use. All
/// tokens descending from one login share a family; presenting a spent token again means it
/// leaked, so the whole family is revoked.
public struct RefreshTokenStore: Sendable {
    public static let lifetime: TimeInterval = 30 * 24 * 3600
    static let prefix = "bkr_"
    let database: Database

    public enum Outcome: Sendable, Equatable {
        case rotated(userId: String, tenantId: String?, familyId: String, newToken: String)
        case invalid
        /// A spent token came back: its family is now revoked.
        case reused(userId: String, familyId: String)
    }

    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        return prefix + String((0..<43).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// Starts a new family (a login) and returns its first token.
    public func issue(userId: String, tenantId: String?, familyId: String? = nil, now: Date,
                      on db: (any SQLDatabase)? = nil) async throws -> String {
        let token = Self.generate()
        try await (db ?? database.sql).raw("""
            INSERT INTO refresh_tokens (id, token_hash, family_id, user_id, tenant_id, expires_at, created_at)
            VALUES (\(bind: Identifier.make(now: now)), \(bind: APIKeyFormat.sha256Hex(token)),
                    \(bind: familyId ?? Identifier.make(now: now)), \(bind: userId), \(bind: tenantId),
                    \(bind: now.addingTimeInterval(Self.lifetime)), \(bind: now))
            """).run()
        return token
    }

    /// Spends `token` and issues its successor, or detects reuse.
    public func rotate(_ token: String, now: Date) async throws -> Outcome {
        guard token.hasPrefix(Self.prefix), token.count == Self.prefix.count + 43 else { return .invalid }
        let hash = APIKeyFormat.sha256Hex(token)
        return try await database.transaction { db in
            guard let row = try await db.raw("SELECT * FROM refresh_tokens WHERE token_hash = \(bind: hash)").first() else {
                return .invalid
            }
            let id = try row.decode(column: "id", as: String.self)
            let family = try row.decode(column: "family_id", as: String.self)
            let userId = try row.decode(column: "user_id", as: String.self)
            let tenantId = try row.decode(column: "tenant_id", as: String?.self)
            if try row.decode(column: "revoked_at", as: Date?.self) != nil { return .invalid }
            if try row.decode(column: "used_at", as: Date?.self) != nil {
                try await Self.revokeFamily(family, now: now, on: db)
                return .reused(userId: userId, familyId: family)
            }
            guard try row.decode(column: "expires_at", as: Date.self) > now else { return .invalid }
            try await db.raw("UPDATE refresh_tokens SET used_at = \(bind: now) WHERE id = \(bind: id)").run()
            let next = try await issue(userId: userId, tenantId: tenantId, familyId: family, now: now, on: db)
            return .rotated(userId: userId, tenantId: tenantId, familyId: family, newToken: next)
        }
    }

    /// Logout: revokes the family `token` belongs to. Unknown tokens are ignored.
    public func revokeFamily(of token: String, now: Date) async throws {
        let hash = APIKeyFormat.sha256Hex(token)
        try await database.transaction { db in
            if let row = try await db.raw("SELECT family_id FROM refresh_tokens WHERE token_hash = \(bind: hash)").first() {
                try await Self.revokeFamily(try row.decode(column: "family_id", as: String.self), now: now, on: db)
            }
        }
    }

    static func revokeFamily(_ family: String, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE refresh_tokens SET revoked_at = \(bind: now) WHERE family_id = \(bind: family) AND revoked_at IS NULL
            """).run()
    }
}
