import Foundation

/// What the CLI (`bookline tenants purge`, `bookline retention run`) calls.
extension AppServices {
    public enum PurgeError: Error, CustomStringConvertible {
        case notFound(String), notDeleted(String), notDue(String, Date)

        public var description: String {
            switch self {
            case .notFound(let id): "no tenant \(id)"
            case .notDeleted(let id): "tenant \(id) is not deleted; delete it first (DELETE /api/admin/tenants/{id})"
            case .notDue(let id, let date):
                "tenant \(id) is in its grace period until \(ISOTime.string(date)); pass --ignore-grace-period to purge it now"
            }
        }
    }

    /// Purges deleted tenants past their grace period, or just `tenantId` (optionally at once).
    /// Returns rows removed per table, per tenant.
    public func purgeDeletedTenants(tenantId: String? = nil, ignoringGracePeriod: Bool = false) async throws -> [String: [String: Int]] {
        let lifecycle = TenantLifecycle(services: self)
        let actor = AuditActor.system("cli")
        guard let tenantId else { return try await lifecycle.purgeDue(actor: actor) }
        guard let tenant = try await TenantLifecycle.find(tenantId, on: database.sql) else { throw PurgeError.notFound(tenantId) }
        guard tenant.status == .deleted else { throw PurgeError.notDeleted(tenantId) }
        let deletedAt = try await database.sql.raw("SELECT deleted_at FROM tenants WHERE id = \(bind: tenantId)").first()?
            .decode(column: "deleted_at", as: Date?.self) ?? now()
        let due = lifecycle.purgeDate(deletedAt: deletedAt)
        guard ignoringGracePeriod || due <= now() else { throw PurgeError.notDue(tenantId, due) }
        return [tenantId: try await lifecycle.purge(tenantId: tenantId, actor: actor)]
    }

    /// Applies every tenant's retention; (tenant, leads removed, messages removed) for each that removed any.
    public func applyRetention() async throws -> [(tenantId: String, leads: Int, messages: Int)] {
        try await Retention(services: self).run(actor: .system("cli")).map { ($0.tenantId, $0.leads, $0.messages) }
    }
}
