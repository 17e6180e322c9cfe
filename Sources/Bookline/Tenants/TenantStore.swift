import BooklineCore
import Foundation
import SQLKit

/// SQL for the `tenants` table. Stores never see HTTP types.
public struct TenantStore: Sendable {
    /// How long another instance may serve a tenant's old tier or status.
    static let cacheLifetime: TimeInterval = 2
    let database: Database
    private let cache = TTLCache<String, Tenant>(ttl: cacheLifetime)

    public init(database: Database) {
        self.database = database
    }

    public struct NewTenant: Sendable {
        public var businessName: String
        public var industry: String
        public var tier: String
        public var timezone: String
        public var settingsJSON: String

        public init(businessName: String, industry: String = "generic", tier: String = "free",
                    timezone: String = "Europe/London", settingsJSON: String = "{}") {
            self.businessName = businessName
            self.industry = industry
            self.tier = tier
            self.timezone = timezone
            self.settingsJSON = settingsJSON
        }
    }

    /// Inserts a tenant with a slug derived from its name, made unique with a numeric suffix.
    public func create(_ new: NewTenant, now: Date, on db: (any SQLDatabase)? = nil) async throws -> Tenant {
        let db = db ?? database.sql
        let base = Slug.make(from: new.businessName)
        let taken = try await db.raw("""
            SELECT slug FROM tenants WHERE slug = \(bind: base) OR slug LIKE \(bind: base + "-%")
            """).all().map { try $0.decode(column: "slug", as: String.self) }
        let slug = Slug.firstFree(base: base, taken: Set(taken))
        let tenant = Tenant(
            id: Identifier.make(now: now), slug: slug, businessName: new.businessName, industry: new.industry,
            tier: new.tier, status: .active, timezone: new.timezone, rateLimitPerMinute: nil, createdAt: now, updatedAt: now
        )
        try await db.raw("""
            INSERT INTO tenants (id, slug, business_name, industry, tier, status, timezone, settings, created_at, updated_at)
            VALUES (\(bind: tenant.id), \(bind: tenant.slug), \(bind: tenant.businessName), \(bind: tenant.industry),
                    \(bind: tenant.tier), \(bind: tenant.status.rawValue), \(bind: tenant.timezone),
                    \(bind: new.settingsJSON), \(bind: now), \(bind: now))
            """).run()
        return tenant
    }

    /// The tenant, from a short-lived cache on the request path (see `cacheLifetime`).
    /// Whether the tenant's owners require a second factor of everyone (read at sign-in only).
    func requiresMFA(_ id: String) async throws -> Bool {
        try await database.sql.raw("SELECT mfa_required FROM tenants WHERE id = \(bind: id)").first()?
            .decode(column: "mfa_required", as: Int.self) == 1
    }

    func setMFARequired(_ id: String, _ required: Bool, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE tenants SET mfa_required = \(bind: required ? 1 : 0), updated_at = \(bind: now) WHERE id = \(bind: id)
            """).run()
    }

    public func find(id: String) async throws -> Tenant? {
        guard Identifier.isValid(id) else { return nil }
        let now = Date()
        if let cached = cache.value(for: id, now: now) { return cached }
        let tenant = try await database.sql.raw("SELECT \(unsafeRaw: Self.columns) FROM tenants WHERE id = \(bind: id)")
            .first().map(Self.decode)
        if let tenant { cache.insert(tenant, for: id, now: now) }
        return tenant
    }

    /// For operators' commands, which name tenants by slug.
    public func find(slug: String) async throws -> Tenant? {
        try await database.sql.raw("SELECT \(unsafeRaw: Self.columns) FROM tenants WHERE slug = \(bind: slug)")
            .first().map(Self.decode)
    }

    /// Forgets a cached tenant here and on every other instance; every write to `tenants`
    /// calls this after it commits.
    public func invalidate(_ id: String) async {
        forget(id)
        await database.broadcast(.tenant(id: id))
    }

    /// Forgets a cached tenant on this instance only.
    func forget(_ id: String) {
        cache.remove(id)
    }

    func forgetAll() {
        cache.removeAll(whereKey: { _ in true })
    }

    /// A page of tenants in id (creation) order, after `cursor`.
    public func list(status: TenantStatus?, tier: String?, after cursor: String?, limit: Int) async throws -> [Tenant] {
        var query = database.sql.select().column(SQLRaw(Self.columns)).from("tenants")
        if let status { query = query.where("status", .equal, status.rawValue) }
        if let tier { query = query.where("tier", .equal, tier) }
        if let cursor { query = query.where("id", .greaterThan, cursor) }
        return try await query.orderBy("id").limit(limit).all().map(Self.decode)
    }

    public func setStatus(_ status: TenantStatus, tenantId: String, now: Date) async throws {
        try await database.sql.raw("""
            UPDATE tenants SET status = \(bind: status.rawValue), updated_at = \(bind: now) WHERE id = \(bind: tenantId)
            """).run()
        await invalidate(tenantId)
    }

    /// Applies the given profile changes and returns the updated tenant (nil if it does not exist).
    public func updateProfile(tenantId: String, businessName: String?, timezone: String?, now: Date,
                              audit: AuditEntry, auditLog: AuditLog) async throws -> Tenant? {
        defer { forget(tenantId) }
        return try await database.transaction { db in
            try await auditLog.append(audit, on: db, now: now)
            var update = db.update("tenants").set("updated_at", to: now).where("id", .equal, tenantId)
            if let businessName { update = update.set("business_name", to: businessName) }
            if let timezone { update = update.set("timezone", to: timezone) }
            try await update.run()
            return try await db.raw("SELECT \(unsafeRaw: Self.columns) FROM tenants WHERE id = \(bind: tenantId)")
                .first().map(Self.decode)
        }
    }

    static let columns = "id, slug, business_name, industry, tier, status, timezone, rate_limit_per_minute, created_at, updated_at"

    static func decode(_ row: any SQLRow) throws -> Tenant {
        Tenant(
            id: try row.decode(column: "id", as: String.self),
            slug: try row.decode(column: "slug", as: String.self),
            businessName: try row.decode(column: "business_name", as: String.self),
            industry: try row.decode(column: "industry", as: String.self),
            tier: try row.decode(column: "tier", as: String.self),
            status: TenantStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .suspended,
            timezone: try row.decode(column: "timezone", as: String.self),
            rateLimitPerMinute: try row.decode(column: "rate_limit_per_minute", as: Int?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            updatedAt: try row.decode(column: "updated_at", as: Date.self)
        )
    }
}
