import Foundation
import Hummingbird

/// `GET/PUT /api/settings/retention`: how long the tenant keeps uncontacted leads and messages.
struct RetentionRoutes {
    let services: AppServices

    struct SettingsView: ResponseEncodable {
        let uncontactedLeadDays: Int
        let messageDays: Int
    }

    struct SettingsBody: Decodable {
        var uncontactedLeadDays: Int?
        var messageDays: Int?
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("settings/retention", use: show)
        group.put("settings/retention", use: update)
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> SettingsView {
        try context.tenant.require(.settingsWrite)
        let settings = try await Retention(services: services).settings(tenantId: context.tenant.tenantId, on: services.database.sql)
        return SettingsView(uncontactedLeadDays: settings.uncontactedLeadDays, messageDays: settings.messageDays)
    }

    @Sendable func update(_ request: Request, context: TenantRequestContext) async throws -> SettingsView {
        try context.tenant.require(.settingsWrite)
        let body = try await request.decodeJSON(as: SettingsBody.self, context: context)
        let retention = Retention(services: services)
        var settings = try await retention.settings(tenantId: context.tenant.tenantId, on: services.database.sql)
        var errors: [Problem.FieldError] = []
        let range = Retention.allowedDays
        let message = "must be a whole number of days from \(range.lowerBound) to \(range.upperBound)"
        if let days = body.uncontactedLeadDays {
            if range.contains(days) { settings.uncontactedLeadDays = days } else { errors.append(.init(field: "uncontactedLeadDays", message: message)) }
        }
        if let days = body.messageDays {
            if range.contains(days) { settings.messageDays = days } else { errors.append(.init(field: "messageDays", message: message)) }
        }
        if body.uncontactedLeadDays == nil && body.messageDays == nil {
            errors.append(.init(field: "uncontactedLeadDays", message: "give uncontactedLeadDays, messageDays or both"))
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        try await retention.save(settings, tenantId: context.tenant.tenantId, actor: context.auditActor(request))
        return SettingsView(uncontactedLeadDays: settings.uncontactedLeadDays, messageDays: settings.messageDays)
    }
}
