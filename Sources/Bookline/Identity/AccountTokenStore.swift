import BooklineCore
import Foundation
import SQLKit

/// Single-use tokens handed to a person: a password-reset or email-verification link, or the
/// challenge between the password and the code of an MFA sign-in. `bka_` + 43 base62
/// characters (~256 bits); only the SHA-256 is stored, so a database leak reveals no usable token.
public struct AccountTokenStore: Sendable {
    public enum Purpose: String, Sendable {
        case passwordReset = "password_reset"
        case emailVerification = "email_verification"
        case mfaChallenge = "mfa_challenge"

        var lifetime: TimeInterval {
            switch self {
            case .passwordReset: 30 * 60
            case .emailVerification: 7 * 24 * 3600
            case .mfaChallenge: 5 * 60
            }
        }
    }

    public struct Claim: Sendable, Equatable {
        public let userId: String
        public let tenantId: String?
    }

    static let prefix = "bka_"
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    static func generate(prefix: String = prefix) -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        return prefix + String((0..<43).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// Issues a token; earlier unused tokens of the same purpose for the user stop working, so
    /// only the newest link in someone's inbox is live.
    func issue(_ purpose: Purpose, userId: String, tenantId: String?, now: Date, on db: any SQLDatabase) async throws -> String {
        try await db.raw("""
            UPDATE account_tokens SET used_at = \(bind: now)
            WHERE user_id = \(bind: userId) AND purpose = \(bind: purpose.rawValue) AND used_at IS NULL
            """).run()
        let token = Self.generate()
        try await db.raw("""
            INSERT INTO account_tokens (id, token_hash, purpose, user_id, tenant_id, expires_at, created_at)
            VALUES (\(bind: Identifier.make(now: now)), \(bind: APIKeyFormat.sha256Hex(token)), \(bind: purpose.rawValue),
                    \(bind: userId), \(bind: tenantId), \(bind: now.addingTimeInterval(purpose.lifetime)), \(bind: now))
            """).run()
        return token
    }

    /// Spends a token: the claim when it is live and of this purpose, nil otherwise (unknown,
    /// expired, already used, or issued for something else). Two concurrent spends: one wins.
    func spend(_ token: String, _ purpose: Purpose, now: Date, on db: any SQLDatabase) async throws -> Claim? {
        guard Self.hasShape(token) else { return nil }
        // The lookup is by hash: comparing the hash, not the token, leaks nothing usable in timing.
        let row = try await db.raw("""
            UPDATE account_tokens SET used_at = \(bind: now)
            WHERE token_hash = \(bind: APIKeyFormat.sha256Hex(token)) AND purpose = \(bind: purpose.rawValue)
              AND used_at IS NULL AND expires_at > \(bind: now)
            RETURNING user_id, tenant_id
            """).first()
        return try row.map {
            Claim(userId: try $0.decode(column: "user_id", as: String.self), tenantId: try $0.decode(column: "tenant_id", as: String?.self))
        }
    }

    /// Reads a live token without spending it (the MFA step checks the code first).
    func peek(_ token: String, _ purpose: Purpose, now: Date) async throws -> Claim? {
        guard Self.hasShape(token) else { return nil }
        let row = try await database.sql.raw("""
            SELECT user_id, tenant_id FROM account_tokens
            WHERE token_hash = \(bind: APIKeyFormat.sha256Hex(token)) AND purpose = \(bind: purpose.rawValue)
              AND used_at IS NULL AND expires_at > \(bind: now)
            """).first()
        return try row.map {
            Claim(userId: try $0.decode(column: "user_id", as: String.self), tenantId: try $0.decode(column: "tenant_id", as: String?.self))
        }
    }

    /// Ends every unused token of the user (a password reset ends the others and any MFA step).
    func revokeAll(userId: String, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE account_tokens SET used_at = \(bind: now) WHERE user_id = \(bind: userId) AND used_at IS NULL
            """).run()
    }

    static func hasShape(_ token: String, prefix: String = prefix) -> Bool {
        token.utf8.count == prefix.utf8.count + 43 && token.hasPrefix(prefix)
            && token.utf8.dropFirst(prefix.utf8.count).allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7a) }
    }
}
