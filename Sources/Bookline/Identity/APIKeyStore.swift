import BooklineCore
import Foundation
import SQLKit

public struct APIKeyRecord: Sendable, Equatable {
    public let id: String
    public let tenantId: String
    public let name: String
    public let displayPrefix: String
    public let lastFour: String
    public let environment: String
    public let scopes: [String]
    public let expiresAt: Date?
    public let revokedAt: Date?
    public let lastUsedAt: Date?
    public let createdBy: String?
    public let createdAt: Date

    /// Usable now: not expired, and not revoked (a rotated key stays usable until its grace ends).
    public func isActive(at now: Date) -> Bool {
        !isRevoked(at: now) && !isExpired(at: now)
    }

    /// Stored times come back rounded to the microsecond, so "revoked now" compares with a
    /// millisecond of slack instead of exactly.
    public func isRevoked(at now: Date) -> Bool {
        revokedAt.map { $0.timeIntervalSince(now) <= 0.001 } ?? false
    }

    public func isExpired(at now: Date) -> Bool {
        expiresAt.map { $0.timeIntervalSince(now) <= 0.001 } ?? false
    }
}

/// SQL for `api_keys`. Keys are found by the SHA-256 of the presented key; every other
/// method takes the tenant id first, so one tenant can never touch another's keys.
public struct APIKeyStore: Sendable {
    /// How long another instance may accept a key this instance revoked.
    static let cacheLifetime: TimeInterval = 2
    let database: Database
    /// Keyed by key hash: the look-up every API request makes.
    private let cache = TTLCache<String, APIKeyRecord>(ttl: cacheLifetime)

    public init(database: Database) {
        self.database = database
    }

    /// Stores a new key and returns its record; the caller shows `key.key` once.
    public func create(tenantId: String, name: String, key: APIKeyFormat, scopes: [String], expiresAt: Date?,
                       createdBy: String?, now: Date, on db: (any SQLDatabase)? = nil) async throws -> APIKeyRecord {
        let record = APIKeyRecord(
            id: Identifier.make(now: now), tenantId: tenantId, name: name, displayPrefix: key.displayPrefix,
            lastFour: key.lastFour, environment: key.environment.rawValue, scopes: scopes.sorted(), expiresAt: expiresAt,
            revokedAt: nil, lastUsedAt: nil, createdBy: createdBy, createdAt: now
        )
        try await (db ?? database.sql).raw("""
            INSERT INTO api_keys (tenant_id, id, name, key_hash, display_prefix, last_four, environment, scopes,
                                  expires_at, created_by, created_at)
            VALUES (\(bind: tenantId), \(bind: record.id), \(bind: name), \(bind: key.hash), \(bind: record.displayPrefix),
                    \(bind: record.lastFour), \(bind: record.environment), \(bind: record.scopes.joined(separator: " ")),
                    \(bind: expiresAt), \(bind: createdBy), \(bind: now))
            """).run()
        return record
    }

    /// The cached record for a key hash, without touching the database.
    public func cached(hash: String) -> APIKeyRecord? {
        cache.value(for: hash, now: Date())
    }

    public func find(hash: String) async throws -> APIKeyRecord? {
        let now = Date()
        if let cached = cache.value(for: hash, now: now) { return cached }
        let record = try await database.sql.raw("SELECT * FROM api_keys WHERE key_hash = \(bind: hash)").first().map(Self.decode)
        if let record { cache.insert(record, for: hash, now: now) }
        return record
    }

    /// Forgets a cached key here and on every other instance. Callers that revoke inside a
    /// transaction call it after commit, so no request can re-cache the pre-commit row.
    public func invalidate(id: String) async {
        forget(id: id)
        await database.broadcast(.apiKey(id: id))
    }

    /// Forgets a cached key on this instance only.
    func forget(id: String) {
        cache.removeAll { $0.id == id }
    }

    func forgetAll() {
        cache.removeAll(whereKey: { _ in true })
    }

    public func find(tenantId: String, id: String) async throws -> APIKeyRecord? {
        try await database.sql.raw("SELECT * FROM api_keys WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)")
            .first().map(Self.decode)
    }

    public func list(tenantId: String) async throws -> [APIKeyRecord] {
        try await database.sql.raw("SELECT * FROM api_keys WHERE tenant_id = \(bind: tenantId) ORDER BY created_at, id")
            .all().map(Self.decode)
    }

    public func count(tenantId: String, activeAt now: Date) async throws -> Int {
        try await list(tenantId: tenantId).filter { $0.isActive(at: now) }.count
    }

    /// Revokes at `at` (now for revoke, now + grace for rotation), never extending an earlier revocation.
    /// Forgets the key here; callers broadcast with `invalidate` once the change has committed.
    public func revoke(tenantId: String, id: String, at: Date, on db: (any SQLDatabase)? = nil) async throws {
        defer { forget(id: id) }
        try await (db ?? database.sql).raw("""
            UPDATE api_keys SET revoked_at = \(bind: at)
            WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id) AND (revoked_at IS NULL OR revoked_at > \(bind: at))
            """).run()
    }

    public func touch(tenantId: String, id: String, now: Date) async throws {
        defer { forget(id: id) }
        try await database.sql.raw("""
            UPDATE api_keys SET last_used_at = \(bind: now) WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)
            """).run()
    }

    static func decode(_ row: any SQLRow) throws -> APIKeyRecord {
        APIKeyRecord(
            id: try row.decode(column: "id", as: String.self),
            tenantId: try row.decode(column: "tenant_id", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            displayPrefix: try row.decode(column: "display_prefix", as: String.self),
            lastFour: try row.decode(column: "last_four", as: String.self),
            environment: try row.decode(column: "environment", as: String.self),
            scopes: try row.decode(column: "scopes", as: String.self).split(separator: " ").map(String.init),
            expiresAt: try row.decode(column: "expires_at", as: Date?.self),
            revokedAt: try row.decode(column: "revoked_at", as: Date?.self),
            lastUsedAt: try row.decode(column: "last_used_at", as: Date?.self),
            createdBy: try row.decode(column: "created_by", as: String?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self)
        )
    }
}
