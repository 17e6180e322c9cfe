import BooklineCore
import Foundation
import Hummingbird
import SQLKit

/// `/api/admin/tenants`: platform admins list, inspect, re-tier, suspend and reactivate tenants.
struct AdminRoutes {
    let services: AppServices

    /// A tenant in the admin list, with its usage and when anything last happened in it (its
    /// newest event).
    struct TenantItem: Encodable {
        let tenant: TenantRoutes.ProfileResponse
        let usage: TenantUsage
        let lastActivityAt: Date?

        func encode(to encoder: any Encoder) throws {
            try tenant.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(usage, forKey: .usage)
            try container.encode(lastActivityAt, forKey: .lastActivityAt)
        }

        enum Key: String, CodingKey { case usage, lastActivityAt }
    }

    struct TenantPage: ResponseEncodable {
        let items: [TenantItem]
        let nextCursor: String?
    }

    struct TenantDetail: ResponseEncodable {
        let tenant: TenantRoutes.ProfileResponse
        let users: Int
        let activeApiKeys: Int
        let usage: TenantUsage
        let lastActivityAt: Date?
    }

    struct TenantPatch: Decodable {
        var tier: String?
        var status: String?
        /// 0 clears the override.
        var rateLimitPerMinute: Int?
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("tenants", use: list)
        group.get("tenants/{id}", use: show)
        group.patch("tenants/{id}", use: update)
        group.delete("tenants/{id}", use: delete)
        group.post("tenants/{id}/restore", use: restore)
    }

    struct DeletionView: ResponseEncodable {
        let tenant: TenantRoutes.ProfileResponse
        /// When the purge removes every row, unless restored before.
        let purgeAfter: Date?
    }

    /// Soft delete: credentials stop at once, data stays for the grace period (undo with restore).
    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> DeletionView {
        let id = try context.parameters.require("id")
        let reason = request.uri.queryParameters["reason"].map(String.init)
        if let reason, reason.count > 500 { throw Problem.validation(field: "reason", "must be at most 500 characters") }
        let lifecycle = TenantLifecycle(services: services)
        do {
            let tenant = try await lifecycle.delete(tenantId: id, reason: reason, actor: context.auditActor(request, principal: context.auth?.principal))
            return DeletionView(tenant: .init(tenant), purgeAfter: lifecycle.purgeDate(deletedAt: tenant.updatedAt))
        } catch TenantLifecycle.Failure.notFound {
            throw Problem.notFound("No tenant with this id.")
        } catch TenantLifecycle.Failure.alreadyDeleted {
            throw Problem(status: .conflict, slug: "tenant-already-deleted", title: "Tenant already deleted",
                          detail: "This tenant is already deleted; restore it within the grace period to undo.")
        }
    }

    @Sendable func restore(_ request: Request, context: AppRequestContext) async throws -> TenantRoutes.ProfileResponse {
        let id = try context.parameters.require("id")
        do {
            return .init(try await TenantLifecycle(services: services).restore(
                tenantId: id, actor: context.auditActor(request, principal: context.auth?.principal)))
        } catch TenantLifecycle.Failure.notFound {
            throw Problem.notFound("No tenant with this id.")
        } catch TenantLifecycle.Failure.notDeleted {
            throw Problem(status: .conflict, slug: "tenant-not-deleted", title: "Tenant not deleted", detail: "Only a deleted tenant can be restored.")
        } catch TenantLifecycle.Failure.gracePeriodOver {
            throw Problem(status: .conflict, slug: "grace-period-over", title: "Grace period over",
                          detail: "This tenant's grace period has ended; its data is being purged.")
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> TenantPage {
        let query = request.uri.queryParameters
        var errors: [Problem.FieldError] = []
        let status = query["status"].map(String.init)
        if let status, TenantStatus(rawValue: status) == nil {
            errors.append(.init(field: "status", message: "must be active, suspended or deleted"))
        }
        let tier = query["tier"].map(String.init)
        if let tier, services.tiers.tiers[tier] == nil {
            errors.append(.init(field: "tier", message: "must be one of \(services.tiers.names.joined(separator: ", "))"))
        }
        let paging = PageQuery(query, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }

        let rows = try await services.tenants.list(status: status.flatMap(TenantStatus.init), tier: tier,
                                                   after: paging.cursor, limit: paging.limit + 1)
        let page = paging.page(rows, id: \.id)
        let ids = page.items.map(\.id)
        let activity = try await lastActivity(ids)
        let usage = try await TenantUsage.counts(for: ids, database: services.database, now: services.now())
        return TenantPage(items: page.items.map {
            TenantItem(tenant: .init($0), usage: usage[$0.id] ?? TenantUsage(), lastActivityAt: activity[$0.id])
        }, nextCursor: page.nextCursor)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> TenantDetail {
        let tenant = try await find(context)
        let users = try await services.database.sql.raw("SELECT COUNT(*) AS n FROM users WHERE tenant_id = \(bind: tenant.id)")
            .first()?.decode(column: "n", as: Int.self) ?? 0
        let now = services.now()
        let keys = try await services.apiKeys.count(tenantId: tenant.id, activeAt: now)
        let usage = try await TenantUsage.counts(for: [tenant.id], database: services.database, now: now)[tenant.id] ?? TenantUsage()
        return TenantDetail(tenant: .init(tenant), users: users, activeApiKeys: keys, usage: usage,
                            lastActivityAt: try await lastActivity([tenant.id])[tenant.id])
    }

    /// Each tenant's newest event time, in one query.
    private func lastActivity(_ ids: [String]) async throws -> [String: Date] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await services.database.sql.raw("""
            SELECT tenant_id, MAX(created_at) AS at FROM events WHERE tenant_id IN (\(binds: ids)) GROUP BY tenant_id
            """).all()
        return try Dictionary(uniqueKeysWithValues: rows.map {
            (try $0.decode(column: "tenant_id", as: String.self), try $0.decode(column: "at", as: Date.self))
        })
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> TenantRoutes.ProfileResponse {
        let tenant = try await find(context)
        let patch = try await request.decodeJSON(as: TenantPatch.self, context: context)
        var errors: [Problem.FieldError] = []
        if let tier = patch.tier, services.tiers.tiers[tier] == nil {
            errors.append(.init(field: "tier", message: "must be one of \(services.tiers.names.joined(separator: ", "))"))
        }
        if let limit = patch.rateLimitPerMinute, !(0...1_000_000).contains(limit) {
            errors.append(.init(field: "rateLimitPerMinute", message: "must be from 1 to 1000000, or 0 to use the tier's"))
        }
        let status = patch.status.flatMap(TenantStatus.init)
        if patch.status != nil, status == nil || status == .deleted {
            errors.append(.init(field: "status", message: "must be active or suspended"))
        }
        if tenant.status == .deleted { errors.append(.init(field: "status", message: "a deleted tenant cannot be changed")) }
        guard errors.isEmpty else { throw Problem.validation(errors) }

        let now = services.now()
        let actor = context.auditActor(request, principal: context.auth?.principal)
        let updated = try await services.database.transaction { db in
            var details: [String: String] = [:]
            if let tier = patch.tier, tier != tenant.tier {
                try await db.update("tenants").set("tier", to: tier).set("updated_at", to: now).where("id", .equal, tenant.id).run()
                details["tier"] = "\(tenant.tier) -> \(tier)"
            }
            if let limit = patch.rateLimitPerMinute {
                let value: Int? = limit == 0 ? nil : limit
                try await db.update("tenants").set("rate_limit_per_minute", to: value).set("updated_at", to: now)
                    .where("id", .equal, tenant.id).run()
                details["rate_limit_per_minute"] = value.map(String.init) ?? "tier default"
            }
            if let status, status != tenant.status {
                try await db.update("tenants").set("status", to: status.rawValue).set("updated_at", to: now)
                    .where("id", .equal, tenant.id).run()
                details["status"] = "\(tenant.status.rawValue) -> \(status.rawValue)"
            }
            if !details.isEmpty {
                let action = status == .suspended && tenant.status != .suspended ? "tenant.suspended"
                    : status == .active && tenant.status == .suspended ? "tenant.reactivated" : "tenant.updated"
                try await services.audit.append(AuditEntry(
                    tenantId: tenant.id, actor: actor, action: action, targetType: "tenant", targetId: tenant.id, details: details
                ), on: db, now: now)
            }
            return try await db.raw("SELECT \(unsafeRaw: TenantStore.columns) FROM tenants WHERE id = \(bind: tenant.id)")
                .first().map(TenantStore.decode)
        }
        await services.tenants.invalidate(tenant.id)
        guard let updated else { throw Problem.notFound("No tenant with this id.") }
        return .init(updated)
    }

    private func find(_ context: AppRequestContext) async throws -> Tenant {
        let id = try context.parameters.require("id")
        guard let tenant = try await services.tenants.find(id: id) else { throw Problem.notFound("No tenant with this id.") }
        return tenant
    }
}
