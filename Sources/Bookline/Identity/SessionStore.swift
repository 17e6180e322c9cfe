import BooklineCore
import Foundation
import SQLKit

/// One sign-in of a user: the device and address it came from and when it was last used. Its
/// id is the refresh-token family of the sign-in, and every access token it issues carries it
/// as `sid`, so revoking the session also ends its access tokens (within the 2 s cache here, at
/// once on every instance through the cache broadcast).
public struct UserSession: Sendable, Equatable, Codable {
    public let id: String
    public let userId: String
    public let tenantId: String?
    public let userAgent: String?
    public let ip: String?
    public let createdAt: Date
    public let lastSeenAt: Date
    public let expiresAt: Date
    public let revokedAt: Date?
}

/// SQL for `user_sessions`.
public struct SessionStore: Sendable {
    let database: Database
    /// Whether a session is still live, for 2 seconds.
    private let live = TTLCache<String, Bool>(ttl: 2)

    public init(database: Database) {
        self.database = database
    }

    func create(id: String, userId: String, tenantId: String?, userAgent: String?, ip: String?, now: Date,
                on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO user_sessions (id, user_id, tenant_id, user_agent, ip, created_at, last_seen_at, expires_at)
            VALUES (\(bind: id), \(bind: userId), \(bind: tenantId), \(bind: userAgent.map { String($0.prefix(300)) }),
                    \(bind: ip), \(bind: now), \(bind: now), \(bind: now.addingTimeInterval(RefreshTokenStore.lifetime)))
            """).run()
    }

    /// A refresh: the session was used now (a sign-in from before sessions existed gets its row).
    func touch(id: String, userId: String, tenantId: String?, now: Date) async throws {
        let updated = try await database.sql.raw("""
            UPDATE user_sessions SET last_seen_at = \(bind: now), expires_at = \(bind: now.addingTimeInterval(RefreshTokenStore.lifetime))
            WHERE id = \(bind: id) RETURNING id
            """).all()
        if updated.isEmpty {
            try await create(id: id, userId: userId, tenantId: tenantId, userAgent: nil, ip: nil, now: now, on: database.sql)
        }
    }

    /// True while the session is neither revoked nor expired.
    func isLive(_ id: String, now: Date) async throws -> Bool {
        if let cached = live.value(for: id, now: now) { return cached }
        let row = try await database.sql.raw("""
            SELECT revoked_at, expires_at FROM user_sessions WHERE id = \(bind: id)
            """).first()
        // A token whose session row was never written (a sign-in from before sessions existed
        // refreshed on another instance mid-upgrade) is judged by its refresh family instead.
        let alive = try row.map { try $0.decode(column: "revoked_at", as: Date?.self) == nil && $0.decode(column: "expires_at", as: Date.self) > now } ?? true
        live.insert(alive, for: id, now: now)
        return alive
    }

    /// The user's live sessions, newest first.
    func list(userId: String, now: Date) async throws -> [UserSession] {
        try await database.sql.raw("""
            SELECT * FROM user_sessions WHERE user_id = \(bind: userId) AND revoked_at IS NULL AND expires_at > \(bind: now)
            ORDER BY last_seen_at DESC, id DESC LIMIT 100
            """).all().map(Self.decode)
    }

    /// Revokes sessions of `userId`: one (`only`), all but `keeping`, or those in one tenant.
    /// Returns the ids revoked; their refresh tokens are revoked in the same transaction.
    func revoke(userId: String, only: String? = nil, keeping: String? = nil, tenantId: String? = nil,
                now: Date, on db: any SQLDatabase) async throws -> [String] {
        var query = db.update("user_sessions").set("revoked_at", to: SQLBind(now))
            .where("user_id", .equal, userId).where("revoked_at", .is, SQLLiteral.null)
        if let only { query = query.where("id", .equal, only) }
        if let keeping { query = query.where("id", .notEqual, keeping) }
        if let tenantId { query = query.where("tenant_id", .equal, tenantId) }
        let ids = try await query.returning("id").all().map { try $0.decode(column: "id", as: String.self) }
        // Refresh families with no session row (sign-ins from before sessions) go too.
        var tokens = db.update("refresh_tokens").set("revoked_at", to: SQLBind(now))
            .where("user_id", .equal, userId).where("revoked_at", .is, SQLLiteral.null)
        if let only { tokens = tokens.where("family_id", .equal, only) }
        if let keeping { tokens = tokens.where("family_id", .notEqual, keeping) }
        if let tenantId { tokens = tokens.where("tenant_id", .equal, tenantId) }
        try await tokens.run()
        return ids
    }

    /// Forgets sessions' cached standing here and on every other instance.
    func invalidate(_ ids: [String]) async {
        for id in ids {
            live.remove(id)
            await database.broadcast(.session(id: id))
        }
    }

    func forget(_ id: String) { live.remove(id) }
    func forgetAll() { live.removeAll(whereKey: { _ in true }) }

    static func decode(_ row: any SQLRow) throws -> UserSession {
        UserSession(
            id: try row.decode(column: "id", as: String.self),
            userId: try row.decode(column: "user_id", as: String.self),
            tenantId: try row.decode(column: "tenant_id", as: String?.self),
            userAgent: try row.decode(column: "user_agent", as: String?.self),
            ip: try row.decode(column: "ip", as: String?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            lastSeenAt: try row.decode(column: "last_seen_at", as: Date.self),
            expiresAt: try row.decode(column: "expires_at", as: Date.self),
            revokedAt: try row.decode(column: "revoked_at", as: Date?.self)
        )
    }
}
