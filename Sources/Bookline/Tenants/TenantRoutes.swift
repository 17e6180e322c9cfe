import BooklineCore
import Foundation
import Hummingbird

/// `GET/PATCH /api/tenant`: the calling tenant's own profile.
struct TenantRoutes {
    let services: AppServices

    struct ProfileResponse: ResponseEncodable {
        let id: String
        let slug: String
        let businessName: String
        let industry: String
        let tier: String
        let status: String
        let timezone: String
        /// The admin's override of the tier's requests per minute, if any.
        let rateLimitPerMinute: Int?
        let createdAt: Date
        let updatedAt: Date

        init(_ tenant: Tenant) {
            id = tenant.id
            slug = tenant.slug
            businessName = tenant.businessName
            industry = tenant.industry
            tier = tenant.tier
            status = tenant.status.rawValue
            timezone = tenant.timezone
            rateLimitPerMinute = tenant.rateLimitPerMinute
            createdAt = tenant.createdAt
            updatedAt = tenant.updatedAt
        }
    }

    struct ProfilePatch: Decodable {
        var businessName: String?
        var timezone: String?
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("tenant", use: show)
        group.patch("tenant", use: update)
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> ProfileResponse {
        guard let tenant = try await services.tenants.find(id: context.tenant.tenantId) else { throw Problem.notFound() }
        return ProfileResponse(tenant)
    }

    /// Owners, and API keys with `settings:write`, may change the profile; members may not.
    @Sendable func update(_ request: Request, context: TenantRequestContext) async throws -> ProfileResponse {
        if context.tenant.principal.kind == .user { try context.tenant.requireOwner() }
        try context.tenant.require(.settingsWrite)
        let patch = try await request.decodeJSON(as: ProfilePatch.self, context: context)
        var errors: [Problem.FieldError] = []
        let name = patch.businessName?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let name, !(2...120).contains(name.count) || (patch.businessName?.count ?? 0) > 120 {
            errors.append(.init(field: "businessName", message: "must be 2 to 120 characters"))
        }
        if let zone = patch.timezone, !TimeZones.isKnown(zone) {
            errors.append(.init(field: "timezone", message: "must be an IANA time zone such as Europe/London"))
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let now = services.now()
        var details: [String: String] = [:]
        if let name { details["businessName"] = name }
        if let zone = patch.timezone { details["timezone"] = zone }
        guard let tenant = try await services.tenants.updateProfile(
            tenantId: context.tenant.tenantId, businessName: name, timezone: patch.timezone, now: now,
            audit: AuditEntry(
                tenantId: context.tenant.tenantId, actor: context.auditActor(request), action: "tenant.updated",
                targetType: "tenant", targetId: context.tenant.tenantId, details: details
            ),
            auditLog: services.audit
        ) else { throw Problem.notFound() }
        return ProfileResponse(tenant)
    }
}
