import BooklineCore
import Foundation
import SQLKit

public struct User: Sendable, Equatable {
    public let id: String
    public let tenantId: String?
    public let email: String
    public let passwordHash: String
    public let role: Role
    public let failedLogins: Int
    public let lockedUntil: Date?
    public let createdAt: Date
}

/// SQL for `users`: tenant owners and members, and platform staff (no tenant).
public struct UserStore: Sendable {
    let database: Database
    /// Whether a signed-in user still exists with the role their token claims, for 2 seconds:
    /// a removed user's access token stops working (on another instance within 2 s).
    private let standing = TTLCache<String, String>(ttl: 2)

    public init(database: Database) {
        self.database = database
    }

    /// True when the user exists in `tenantId` (nil for staff) with `role`.
    func isCurrent(id: String, tenantId: String?, role: Role, now: Date) async throws -> Bool {
        let expected = "\(tenantId ?? "-"):\(role.rawValue)"
        if let cached = standing.value(for: id, now: now) { return cached == expected }
        guard let user = try await find(id: id) else {
            standing.insert("gone", for: id, now: now)
            return false
        }
        let actual = "\(user.tenantId ?? "-"):\(user.role.rawValue)"
        standing.insert(actual, for: id, now: now)
        return actual == expected
    }

    /// Forgets a user's cached standing here and on every other instance; removing a user
    /// calls it.
    func invalidate(_ id: String) async {
        forget(id)
        await database.broadcast(.user(id: id))
    }

    /// Forgets a user's cached standing on this instance only.
    func forget(_ id: String) {
        standing.remove(id)
    }

    func forgetAll() {
        standing.removeAll(whereKey: { _ in true })
    }

    public func create(tenantId: String?, email: EmailAddress, passwordHash: String, role: Role, now: Date,
                       on db: (any SQLDatabase)? = nil) async throws -> User {
        let user = User(id: Identifier.make(now: now), tenantId: tenantId, email: email.normalized,
                        passwordHash: passwordHash, role: role, failedLogins: 0, lockedUntil: nil, createdAt: now)
        try await (db ?? database.sql).raw("""
            INSERT INTO users (id, tenant_id, email, email_key, password_hash, role, failed_logins, created_at, updated_at)
            VALUES (\(bind: user.id), \(bind: tenantId), \(bind: user.email), \(bind: email.lookupKey),
                    \(bind: passwordHash), \(bind: role.rawValue), 0, \(bind: now), \(bind: now))
            """).run()
        return user
    }

    public func find(email: EmailAddress) async throws -> User? {
        try await database.sql.raw("SELECT * FROM users WHERE email_key = \(bind: email.lookupKey)").first().map(Self.decode)
    }

    public func find(id: String) async throws -> User? {
        guard Identifier.isValid(id) else { return nil }
        return try await database.sql.raw("SELECT * FROM users WHERE id = \(bind: id)").first().map(Self.decode)
    }

    public func emailExists(_ email: EmailAddress, on db: (any SQLDatabase)? = nil) async throws -> Bool {
        try await (db ?? database.sql).raw("SELECT id FROM users WHERE email_key = \(bind: email.lookupKey)").first() != nil
    }

    public func recordFailure(userId: String, lockedUntil: Date?, now: Date) async throws {
        try await database.sql.raw("""
            UPDATE users SET failed_logins = failed_logins + 1, locked_until = \(bind: lockedUntil), updated_at = \(bind: now)
            WHERE id = \(bind: userId)
            """).run()
    }

    public func recordSuccess(userId: String, newHash: String?, now: Date) async throws {
        if let newHash {
            try await database.sql.raw("UPDATE users SET password_hash = \(bind: newHash) WHERE id = \(bind: userId)").run()
        }
        try await database.sql.raw("""
            UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = \(bind: now), updated_at = \(bind: now)
            WHERE id = \(bind: userId)
            """).run()
    }

    static func decode(_ row: any SQLRow) throws -> User {
        User(
            id: try row.decode(column: "id", as: String.self),
            tenantId: try row.decode(column: "tenant_id", as: String?.self),
            email: try row.decode(column: "email", as: String.self),
            passwordHash: try row.decode(column: "password_hash", as: String.self),
            role: Role(rawValue: try row.decode(column: "role", as: String.self)) ?? .member,
            failedLogins: try row.decode(column: "failed_logins", as: Int.self),
            lockedUntil: try row.decode(column: "locked_until", as: Date?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self)
        )
    }
}
