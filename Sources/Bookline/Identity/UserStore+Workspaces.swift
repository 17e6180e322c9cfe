import BooklineCore
import Foundation
import SQLKit

/// One tenant a person belongs to, with their role there.
public struct Workspace: Sendable, Equatable {
    public let tenantId: String
    public let businessName: String
    public let slug: String
    public let status: String
    public let role: TenantRole
}

/// Memberships across tenants: one login, a role in each tenant it belongs to. `users.tenant_id`
/// is the login's home (whose export and purge it belongs to); removing the last membership
/// removes the login, and leaving the home re-homes it to the oldest remaining membership.
extension UserStore {
    /// Every tenant the person belongs to, oldest membership first.
    public func workspaces(userId: String) async throws -> [Workspace] {
        try await database.sql.raw("""
            SELECT tenants.id, tenants.business_name, tenants.slug, tenants.status, memberships.role
            FROM memberships JOIN tenants ON tenants.id = memberships.tenant_id
            WHERE memberships.user_id = \(bind: userId)
            ORDER BY memberships.created_at, tenants.id
            """).all().map { row in
            Workspace(
                tenantId: try row.decode(column: "id", as: String.self),
                businessName: try row.decode(column: "business_name", as: String.self),
                slug: try row.decode(column: "slug", as: String.self),
                status: try row.decode(column: "status", as: String.self),
                role: TenantRole(rawValue: try row.decode(column: "role", as: String.self)) ?? .viewer
            )
        }
    }

    /// The login of this address, if it has one (whether or not it belongs to any tenant).
    func userId(email: EmailAddress, on db: any SQLDatabase) async throws -> String? {
        try await db.raw("SELECT id FROM users WHERE email_key = \(bind: email.lookupKey)").first()?.decode(column: "id", as: String.self)
    }

    /// Sign-in opens this workspace next time.
    func setLastTenant(userId: String, tenantId: String, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE users SET last_tenant_id = \(bind: tenantId), updated_at = \(bind: now) WHERE id = \(bind: userId)
            """).run()
    }

    /// Joins an existing login to a tenant; false when it already is a member.
    func join(tenantId: String, userId: String, role: TenantRole, now: Date, on db: any SQLDatabase) async throws -> Bool {
        let exists = try await db.raw("""
            SELECT user_id FROM memberships WHERE tenant_id = \(bind: tenantId) AND user_id = \(bind: userId)
            """).first() != nil
        guard !exists else { return false }
        try await Self.addMembership(tenantId: tenantId, userId: userId, role: .tenant(role), now: now, on: db)
        return true
    }

    /// Takes the person out of the tenant. Their login goes with it when it was their only
    /// tenant; otherwise it stays for the others (and moves home if this was its home).
    /// Returns whether the login itself was removed; nil when they were not a member. Run it
    /// as platform work (outside a tenant's scope): the login's other memberships and its
    /// home lie beyond this tenant's row-level wall.
    func leave(tenantId: String, userId: String, now: Date, on db: any SQLDatabase) async throws -> Bool? {
        let gone = try await db.raw("""
            DELETE FROM memberships WHERE tenant_id = \(bind: tenantId) AND user_id = \(bind: userId) RETURNING user_id
            """).all()
        guard !gone.isEmpty else { return nil }
        let remaining = try await db.raw("""
            SELECT tenant_id FROM memberships WHERE user_id = \(bind: userId) ORDER BY created_at, tenant_id LIMIT 1
            """).first()?.decode(column: "tenant_id", as: String.self)
        guard let remaining else {
            try await db.raw("DELETE FROM users WHERE id = \(bind: userId)").run()
            return true
        }
        try await db.raw("""
            UPDATE users SET tenant_id = CASE WHEN tenant_id = \(bind: tenantId) THEN \(bind: remaining) ELSE tenant_id END,
                             last_tenant_id = CASE WHEN last_tenant_id = \(bind: tenantId) THEN NULL ELSE last_tenant_id END,
                             updated_at = \(bind: now)
            WHERE id = \(bind: userId)
            """).run()
        return false
    }

    /// Before a tenant is purged: people whose home it is but who belong to other tenants move
    /// home to their oldest other membership, so the purge's cascade takes only its own people.
    static func rehomeMembers(leaving tenantId: String, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE users SET tenant_id = (
                SELECT memberships.tenant_id FROM memberships
                WHERE memberships.user_id = users.id AND memberships.tenant_id <> \(bind: tenantId)
                ORDER BY memberships.created_at, memberships.tenant_id LIMIT 1
            ), updated_at = \(bind: now)
            WHERE tenant_id = \(bind: tenantId) AND EXISTS (
                SELECT 1 FROM memberships WHERE memberships.user_id = users.id AND memberships.tenant_id <> \(bind: tenantId)
            )
            """).run()
    }
}
