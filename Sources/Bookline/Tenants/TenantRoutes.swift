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

    /// What an owner may change about the business. Its tier, status, limits and ids are the
    /// platform's (`PATCH /api/admin/tenants/{id}`): naming one is a 422.
    struct ProfilePatch: Decodable, PlatformOwnedFields {
        var businessName: String?
        var timezone: String?

        static let platformOwnedFields: [String: String] = {
            let plan = "is set by the platform: only an admin or a plan change moves it"
            let set = "is set by the platform and cannot be changed here"
            return ["tier": plan, "plan": plan, "rateLimitPerMinute": plan, "status": set, "id": set, "slug": set,
                    "industry": set, "createdAt": set, "updatedAt": set, "mfaRequired": "is changed with PUT /api/tenant/security"]
        }()
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("tenant", use: show)
        group.patch("tenant", use: update)
        group.get("tenant/security", use: security)
        group.put("tenant/security", use: updateSecurity)
    }

    struct SecurityView: ResponseEncodable {
        let mfaRequired: Bool
    }

    struct SecurityUpdate: Decodable {
        var mfaRequired: Bool?
    }

    @Sendable func security(_ request: Request, context: TenantRequestContext) async throws -> SecurityView {
        SecurityView(mfaRequired: try await services.tenants.requiresMFA(context.tenant.tenantId))
    }

    /// Only a signed-in owner sets the tenant's sign-in policy (not an API key).
    @Sendable func updateSecurity(_ request: Request, context: TenantRequestContext) async throws -> SecurityView {
        guard context.tenant.principal.kind == .user else {
            throw Problem.forbidden("Only an owner, signed in, changes the sign-in policy.")
        }
        try context.tenant.requireOwner()
        let input = try await request.decodeJSON(as: SecurityUpdate.self, context: context)
        guard let required = input.mfaRequired else { throw Problem.validation(field: "mfaRequired", "is required") }
        try await services.mfa.setTenantRequirement(tenants: services.tenants, tenantId: context.tenant.tenantId,
                                                    required: required, actor: context.auditActor(request))
        return SecurityView(mfaRequired: required)
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> ProfileResponse {
        guard let tenant = try await services.tenants.find(id: context.tenant.tenantId) else { throw Problem.notFound() }
        return ProfileResponse(tenant)
    }

    /// Owners and admins, and API keys with `settings:write`, may change the profile; members may not.
    @Sendable func update(_ request: Request, context: TenantRequestContext) async throws -> ProfileResponse {
        if context.tenant.principal.kind == .user { try context.tenant.requireSettingsManager() }
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
