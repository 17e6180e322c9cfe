import BooklineCore
import Foundation
import Hummingbird
import SQLKit

/// SQL for `message_templates`: a tenant's overrides, by template name.
struct TemplateStore: Sendable {
    func find(tenantId: String, name: String, on db: any SQLDatabase) async throws -> TemplateParts? {
        guard let row = try await db.raw("""
            SELECT * FROM message_templates WHERE tenant_id = \(bind: tenantId) AND name = \(bind: name)
            """).first()
        else { return nil }
        return TemplateParts(
            sms: try row.decode(column: "sms", as: String?.self),
            emailSubject: try row.decode(column: "email_subject", as: String?.self),
            emailText: try row.decode(column: "email_text", as: String?.self),
            emailHtml: try row.decode(column: "email_html", as: String?.self)
        )
    }

    func overridden(tenantId: String, on db: any SQLDatabase) async throws -> Set<String> {
        Set(try await db.raw("SELECT name FROM message_templates WHERE tenant_id = \(bind: tenantId)")
            .all().map { try $0.decode(column: "name", as: String.self) })
    }

    func save(_ parts: TemplateParts, tenantId: String, name: String, now: Date, on db: any SQLDatabase) async throws {
        try await delete(tenantId: tenantId, name: name, on: db)
        try await db.raw("""
            INSERT INTO message_templates (tenant_id, name, sms, email_subject, email_text, email_html, updated_at)
            VALUES (\(bind: tenantId), \(bind: name), \(bind: parts.sms), \(bind: parts.emailSubject), \(bind: parts.emailText),
                    \(bind: parts.emailHtml), \(bind: now))
            """).run()
    }

    func delete(tenantId: String, name: String, on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM message_templates WHERE tenant_id = \(bind: tenantId) AND name = \(bind: name)").run()
    }

    /// What the tenant sends: its override part by part, the default elsewhere.
    func effective(_ definition: TemplateDefinition, tenantId: String, on db: any SQLDatabase) async throws -> TemplateParts {
        try await find(tenantId: tenantId, name: definition.name, on: db)?.over(definition.defaults) ?? definition.defaults
    }
}

/// `/api/templates`: the message templates and the tenant's overrides. Reading needs
/// messages:send; changing needs settings:write. An override that does not parse or uses a
/// variable the template does not offer is refused, naming the part and the variable.
struct TemplateRoutes {
    let services: AppServices

    struct TemplateView: ResponseEncodable {
        let name: String
        let description: String
        let variables: [String]
        let overridden: Bool
        let sms: String?
        let emailSubject: String?
        let emailText: String?
        let emailHtml: String?
        let defaults: TemplateParts
    }

    struct TemplateSummary: ResponseEncodable {
        let name: String
        let description: String
        let variables: [String]
        let overridden: Bool
    }

    struct TemplateList: ResponseEncodable {
        let items: [TemplateSummary]
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("templates", use: list)
        group.get("templates/{name}", use: show)
        group.put("templates/{name}", use: update)
        group.delete("templates/{name}", use: reset)
        group.post("templates/{name}/preview", use: preview)
    }

    struct PreviewBody: Decodable {
        var sms: String?
        var emailSubject: String?
        var emailText: String?
        var emailHtml: String?
        var variables: [String: String]?
    }

    struct PreviewView: ResponseEncodable {
        let sms: String?
        let smsSegments: Int?
        let emailSubject: String?
        let emailText: String?
        let emailHtml: String?
    }

    /// Renders the tenant's template (with any parts given, unsaved) for the editor: the same
    /// checks as saving, then each part with the given variables, or `[name]` placeholders.
    @Sendable func preview(_ request: Request, context: TenantRequestContext) async throws -> PreviewView {
        try context.tenant.require(.messagesSend)
        let definition = try definition(context)
        let body = try await request.decodeJSON(as: PreviewBody.self, context: context)
        let parts = TemplateParts(sms: body.sms, emailSubject: body.emailSubject, emailText: body.emailText, emailHtml: body.emailHtml)
        var errors = TemplateRules.problems(in: parts, allowed: Set(definition.variables)).map { Problem.FieldError(field: $0.field, message: $0.message) }
        if let variables = body.variables, variables.count > 50 || variables.values.contains(where: { $0.count > 1000 }) {
            errors.append(.init(field: "variables", message: "at most 50 values of up to 1000 characters"))
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let saved = try await TemplateStore().find(tenantId: context.tenant.tenantId, name: definition.name, on: services.database.sql)
        let effective = parts.over(saved?.over(definition.defaults) ?? definition.defaults)
        var values = Dictionary(uniqueKeysWithValues: definition.variables.map { ($0, "[\($0)]") })
        for (name, value) in body.variables ?? [:] where values[name] != nil { values[name] = value }
        func render(_ source: String?, _ field: String) throws -> String? {
            guard let source else { return nil }
            do { return try TemplateRules.render(source, field: field, values: values) } catch {
                throw Problem.validation(field: field, error.message)
            }
        }
        let sms = try render(effective.sms, "sms")
        return PreviewView(sms: sms, smsSegments: sms.map { SMSSegments.count($0).segments },
                           emailSubject: try render(effective.emailSubject, "emailSubject"),
                           emailText: try render(effective.emailText, "emailText"), emailHtml: try render(effective.emailHtml, "emailHtml"))
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> TemplateList {
        try context.tenant.require(.messagesSend)
        let overridden = try await TemplateStore().overridden(tenantId: context.tenant.tenantId, on: services.database.sql)
        return TemplateList(items: services.templates.names.compactMap { services.templates.definition($0) }.map {
            TemplateSummary(name: $0.name, description: $0.description, variables: $0.variables, overridden: overridden.contains($0.name))
        })
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> TemplateView {
        try context.tenant.require(.messagesSend)
        let definition = try definition(context)
        let override = try await TemplateStore().find(tenantId: context.tenant.tenantId, name: definition.name, on: services.database.sql)
        return view(definition, override: override)
    }

    @Sendable func update(_ request: Request, context: TenantRequestContext) async throws -> TemplateView {
        try context.tenant.require(.settingsWrite)
        let definition = try definition(context)
        let parts = try await request.decodeJSON(as: TemplateParts.self, context: context)
        var errors = parts.named.compactMap { field, source -> Problem.FieldError? in
            guard let source, source.trimmingWhitespace().isEmpty else { return nil }
            return .init(field: field, message: "must not be empty; leave it out to keep the default, or DELETE the template to reset it")
        }
        if parts.named.allSatisfy({ $0.source == nil }) {
            errors.append(.init(field: "sms", message: "send at least one of sms, emailSubject, emailText, emailHtml"))
        }
        errors += TemplateRules.problems(in: parts, allowed: Set(definition.variables)).map { .init(field: $0.field, message: $0.message) }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let tenantId = context.tenant.tenantId
        let store = TemplateStore()
        let now = services.now()
        let merged = try await services.database.transaction { db in
            let merged = try await store.find(tenantId: tenantId, name: definition.name, on: db).map { parts.over($0) } ?? parts
            try await store.save(merged, tenantId: tenantId, name: definition.name, now: now, on: db)
            try await services.audit.append(AuditEntry(
                tenantId: tenantId, actor: context.auditActor(request), action: "template.updated", targetType: "template",
                targetId: definition.name, details: ["parts": parts.named.filter { $0.source != nil }.map(\.field).joined(separator: " ")]
            ), on: db, now: now)
            return merged
        }
        return view(definition, override: merged)
    }

    @Sendable func reset(_ request: Request, context: TenantRequestContext) async throws -> HTTPResponse.Status {
        try context.tenant.require(.settingsWrite)
        let definition = try definition(context)
        let tenantId = context.tenant.tenantId
        let now = services.now()
        try await services.database.transaction { db in
            guard try await TemplateStore().find(tenantId: tenantId, name: definition.name, on: db) != nil else {
                throw Problem.notFound("This template has no override; it already uses the default.")
            }
            try await TemplateStore().delete(tenantId: tenantId, name: definition.name, on: db)
            try await services.audit.append(AuditEntry(
                tenantId: tenantId, actor: context.auditActor(request), action: "template.reset", targetType: "template",
                targetId: definition.name
            ), on: db, now: now)
        }
        return .noContent
    }

    func definition(_ context: TenantRequestContext) throws -> TemplateDefinition {
        let name = try context.parameters.require("name")
        guard let definition = services.templates.definition(name) else {
            throw Problem.notFound("No template named \(name.prefix(64)); GET /api/templates lists them.")
        }
        return definition
    }

    func view(_ definition: TemplateDefinition, override: TemplateParts?) -> TemplateView {
        let effective = override?.over(definition.defaults) ?? definition.defaults
        return TemplateView(
            name: definition.name, description: definition.description, variables: definition.variables,
            overridden: override != nil, sms: effective.sms, emailSubject: effective.emailSubject,
            emailText: effective.emailText, emailHtml: effective.emailHtml, defaults: definition.defaults
        )
    }
}
