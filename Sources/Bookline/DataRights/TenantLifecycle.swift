import BooklineCore
import Foundation
import SQLKit

/// Deleting a tenant: at once its status is `deleted` (every credential refused, sessions
/// revoked) while its data waits out the grace period for an undo; then the purge removes
/// every row with its id from every registered table, audit chain included.
struct TenantLifecycle: Sendable {
    let services: AppServices

    enum Failure: Error, Equatable { case notFound, alreadyDeleted, notDeleted, gracePeriodOver }

    func delete(tenantId: String, reason: String?, actor: AuditActor) async throws -> Tenant {
        let now = services.now()
        let result = try await services.database.transaction { db in
            guard let tenant = try await Self.find(tenantId, on: db) else { throw Failure.notFound }
            guard tenant.status != .deleted else { throw Failure.alreadyDeleted }
            try await db.raw("""
                UPDATE tenants SET status = 'deleted', deleted_at = \(bind: now), updated_at = \(bind: now) WHERE id = \(bind: tenantId)
                """).run()
            try await db.raw("""
                UPDATE refresh_tokens SET revoked_at = \(bind: now) WHERE tenant_id = \(bind: tenantId) AND revoked_at IS NULL
                """).run()
            var details = ["previous_status": tenant.status.rawValue,
                           "purge_after": ISOTime.string(purgeDate(deletedAt: now))]
            if let reason { details["reason"] = reason }
            try await services.audit.append(AuditEntry(
                tenantId: tenantId, actor: actor, action: "tenant.deleted", targetType: "tenant", targetId: tenantId, details: details
            ), on: db, now: now)
            guard let deleted = try await Self.find(tenantId, on: db) else { throw Failure.notFound }
            return deleted
        }
        await services.tenants.invalidate(tenantId)
        return result
    }

    /// Undoes a deletion within the grace period; the tenant comes back active.
    func restore(tenantId: String, actor: AuditActor) async throws -> Tenant {
        let now = services.now()
        let result = try await services.database.transaction { db in
            guard let tenant = try await Self.find(tenantId, on: db) else { throw Failure.notFound }
            guard tenant.status == .deleted else { throw Failure.notDeleted }
            let deletedAt = try await db.raw("SELECT deleted_at FROM tenants WHERE id = \(bind: tenantId)").first()?
                .decode(column: "deleted_at", as: Date?.self) ?? now
            guard purgeDate(deletedAt: deletedAt) > now else { throw Failure.gracePeriodOver }
            try await db.raw("""
                UPDATE tenants SET status = 'active', deleted_at = NULL, updated_at = \(bind: now) WHERE id = \(bind: tenantId)
                """).run()
            try await services.audit.append(AuditEntry(
                tenantId: tenantId, actor: actor, action: "tenant.restored", targetType: "tenant", targetId: tenantId
            ), on: db, now: now)
            guard let restored = try await Self.find(tenantId, on: db) else { throw Failure.notFound }
            return restored
        }
        await services.tenants.invalidate(tenantId)
        return result
    }

    func purgeDate(deletedAt: Date) -> Date {
        deletedAt.addingTimeInterval(TimeInterval(services.config.tenantGraceDays) * 86_400)
    }

    /// Deleted tenants whose grace period has ended.
    func due(now: Date) async throws -> [String] {
        let cutoff = now.addingTimeInterval(-TimeInterval(services.config.tenantGraceDays) * 86_400)
        return try await services.database.sql.raw("""
            SELECT id FROM tenants WHERE status = 'deleted' AND deleted_at IS NOT NULL AND deleted_at <= \(bind: cutoff) ORDER BY id
            """).all().map { try $0.decode(column: "id", as: String.self) }
    }

    /// Purges every tenant that is due; returns rows removed per tenant.
    func purgeDue(actor: AuditActor) async throws -> [String: [String: Int]] {
        var result: [String: [String: Int]] = [:]
        for tenantId in try await due(now: services.now()) {
            result[tenantId] = try await purge(tenantId: tenantId, actor: actor)
        }
        return result
    }

    /// Removes every row of a deleted tenant from every table, in one transaction. The platform
    /// chain records that it happened (with counts, no data).
    func purge(tenantId: String, actor: AuditActor) async throws -> [String: Int] {
        let now = services.now()
        let engine = services.database.engine
        let result = try await services.database.transaction { db in
            guard let tenant = try await Self.find(tenantId, on: db) else { throw Failure.notFound }
            guard tenant.status == .deleted else { throw Failure.notDeleted }
            if engine == .postgres {
                // The audit log's trigger lets this transaction, and only it, remove the chain.
                try await db.raw("SELECT set_config('bookline.purging_tenant', \(bind: tenantId), true)").run()
            }
            // People who also belong to other tenants keep their login there.
            try await UserStore.rehomeMembers(leaving: tenantId, now: now, on: db)
            var counts: [String: Int] = [:]
            for table in DataRegistry.tenantTables.reversed() {
                guard let column = table.tenantColumn else { continue }
                let removed = try await db.raw("DELETE FROM \(ident: table.name) WHERE \(ident: column) = \(bind: tenantId) RETURNING \(ident: column)")
                    .all().count
                if removed > 0 { counts[table.name] = removed }
            }
            var details = counts.reduce(into: [String: String]()) { $0["rows." + $1.key] = String($1.value) }
            details["slug"] = tenant.slug
            try await services.audit.append(AuditEntry(
                tenantId: nil, actor: actor, action: "tenant.purged", targetType: "tenant", targetId: tenantId, details: details
            ), on: db, now: now)
            return counts
        }
        await services.tenants.invalidate(tenantId)
        return result
    }

    static func find(_ id: String, on db: any SQLDatabase) async throws -> Tenant? {
        try await db.raw("SELECT \(unsafeRaw: TenantStore.columns) FROM tenants WHERE id = \(bind: id)").first().map(TenantStore.decode)
    }
}
