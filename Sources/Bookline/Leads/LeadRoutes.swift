import BooklineCore
import Foundation
import Hummingbird

/// `/api/leads`: create, list, read, update, delete and move leads through their statuses
/// (scopes `leads:read` / `leads:write`), plus the tenant's duplicate rules.
struct LeadRoutes {
    let services: AppServices

    struct LeadView: ResponseEncodable, Decodable, Equatable {
        let id: String
        let name: String?
        let phone: String
        let phoneType: String
        let email: String?
        let source: String?
        let status: String
        let tags: [String]
        let notes: String?
        let customFields: [String: JSONScalar]
        let lastContactedAt: Date?
        let createdAt: Date
        let updatedAt: Date

        init(_ lead: Lead) {
            id = lead.id
            name = lead.name
            phone = lead.phone
            phoneType = lead.phoneType
            email = lead.email
            source = lead.source
            status = lead.status.rawValue
            tags = lead.tags
            notes = lead.notes
            customFields = lead.customFields
            lastContactedAt = lead.lastContactedAt
            createdAt = lead.createdAt
            updatedAt = lead.updatedAt
        }
    }

    struct LeadPage: ResponseEncodable {
        let items: [LeadView]
        let nextCursor: String?
    }

    struct LeadBody: Decodable, PlatformOwnedFields {
        static let platformOwnedFields = setByBookline("id", "tenantId", "phoneType", "createdAt", "updatedAt", "optedOut")

        var name: String?
        var phone: String?
        var email: String?
        var source: String?
        var tags: [String]?
        var notes: String?
        var customFields: [String: JSONScalar]?
        /// Only to refuse it clearly on PATCH: status moves through /status.
        var status: String?
    }

    struct StatusBody: Decodable {
        var status: String
        var reason: String?
    }

    struct SettingsView: ResponseEncodable, Decodable {
        var duplicateLookbackDays: Int
        var duplicateSkipDays: Int
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("leads", use: list)
        group.post("leads", use: create)
        group.get("leads/{id}", use: show)
        group.patch("leads/{id}", use: update)
        group.delete("leads/{id}", use: delete)
        group.post("leads/{id}/status", use: changeStatus)
        group.get("settings/leads", use: settings)
        group.put("settings/leads", use: updateSettings)
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> LeadPage {
        try context.tenant.require(.leadsRead)
        let query = request.uri.queryParameters
        var errors: [Problem.FieldError] = []
        var filter = LeadFilter()
        if let statuses = query["status"] {
            for name in statuses.split(separator: ",") {
                guard let status = LeadStatus(rawValue: String(name)) else {
                    errors.append(.init(field: "status", message: "must be one or more of \(LeadStatus.allCases.map(\.rawValue).joined(separator: ", ")), comma-separated"))
                    break
                }
                filter.statuses.append(status)
            }
        }
        for (name, limit) in [("tag", LeadRules.maxTagLength), ("source", LeadRules.maxSource), ("q", 100)] {
            guard let value = query[Substring(name)].map(String.init) else { continue }
            guard (1...limit).contains(value.count) else {
                errors.append(.init(field: name, message: "must be 1 to \(limit) characters"))
                continue
            }
            switch name {
            case "tag": filter.tag = value
            case "source": filter.source = value
            default: filter.search = value
            }
        }
        ISOTime.query(query, "createdFrom", errors: &errors) { filter.createdFrom = $0 }
        ISOTime.query(query, "createdTo", errors: &errors) { filter.createdTo = $0 }
        let paging = PageQuery(query, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let rows = try await services.leads.list(tenantId: context.tenant.tenantId, filter: filter,
                                                 limit: paging.limit + 1, cursor: paging.cursor)
        let page = paging.page(rows, id: \.id)
        return LeadPage(items: page.items.map(LeadView.init), nextCursor: page.nextCursor)
    }

    @Sendable func create(_ request: Request, context: TenantRequestContext) async throws -> EditedResponse<LeadView> {
        try context.tenant.require(.leadsWrite)
        let body = try await request.decodeJSON(as: LeadBody.self, context: context)
        if body.status != nil { throw Self.statusField }
        let input = LeadInput(name: body.name, phone: body.phone, email: body.email, source: body.source ?? "api",
                              tags: body.tags, notes: body.notes, customFields: body.customFields)
        let draft: LeadDraft
        switch LeadRules.validate(input) {
        case .success(let valid): draft = valid
        case .failure(let violations): throw Problem.validation(violations.items.map { Problem.FieldError(field: $0.field, message: $0.message) })
        }
        let lead = try await services.leads.create(tenantId: context.tenant.tenantId, draft: draft,
                                                   actor: context.auditActor(request), now: services.now())
        var response = EditedResponse(status: .created, response: LeadView(lead))
        response.headers[.location] = "/api/leads/\(lead.id)"
        return response
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> LeadView {
        try context.tenant.require(.leadsRead)
        let id = try Self.leadId(context)
        guard let lead = try await services.leads.find(tenantId: context.tenant.tenantId, id: id) else {
            throw Problem.notFound("No lead with this id.")
        }
        return LeadView(lead)
    }

    @Sendable func update(_ request: Request, context: TenantRequestContext) async throws -> LeadView {
        try context.tenant.require(.leadsWrite)
        let id = try Self.leadId(context)
        let body = try await request.decodeJSON(as: LeadBody.self, context: context)
        if body.status != nil { throw Self.statusField }
        var violations: [LeadRules.Violation] = []
        var patch = LeadService.Patch()
        if let phone = body.phone {
            switch LeadRules.checkPhone(phone) {
            case .success(let number): patch.phone = number
            case .failure(let violation): violations.append(violation)
            }
        }
        // Validate the sent fields with a stand-in phone; empty strings clear a field.
        let probe = LeadInput(name: body.name, phone: "+447400100000", email: body.email, source: body.source,
                              tags: body.tags, notes: body.notes, customFields: body.customFields)
        switch LeadRules.validate(probe) {
        case .failure(let more): violations += more.items
        case .success(let draft):
            if body.name != nil { patch.name = .some(draft.name) }
            if body.email != nil { patch.email = .some(draft.email) }
            if body.source != nil { patch.source = .some(draft.source) }
            if body.notes != nil { patch.notes = .some(draft.notes) }
            if body.tags != nil { patch.tags = draft.tags }
            if body.customFields != nil { patch.customFields = draft.customFields }
        }
        guard violations.isEmpty else { throw Problem.validation(violations.map { Problem.FieldError(field: $0.field, message: $0.message) }) }
        let lead = try await services.leads.update(tenantId: context.tenant.tenantId, id: id, patch: patch,
                                                   actor: context.auditActor(request), now: services.now())
        return LeadView(lead)
    }

    @Sendable func delete(_ request: Request, context: TenantRequestContext) async throws -> HTTPResponse.Status {
        try context.tenant.require(.leadsWrite)
        let id = try Self.leadId(context)
        try await services.leads.delete(tenantId: context.tenant.tenantId, id: id, actor: context.auditActor(request),
                                        now: services.now())
        return .noContent
    }

    @Sendable func changeStatus(_ request: Request, context: TenantRequestContext) async throws -> LeadView {
        try context.tenant.require(.leadsWrite)
        let id = try Self.leadId(context)
        let body = try await request.decodeJSON(as: StatusBody.self, context: context)
        guard let status = LeadStatus(rawValue: body.status) else {
            throw Problem.validation(field: "status", "must be one of \(LeadStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let reason = body.reason?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let reason, reason.count > 500 { throw Problem.validation(field: "reason", "must be at most 500 characters") }
        let lead = try await services.leads.changeStatus(
            tenantId: context.tenant.tenantId, id: id, to: status, reason: reason?.isEmpty == true ? nil : reason,
            actor: context.auditActor(request), now: services.now()
        )
        return LeadView(lead)
    }

    @Sendable func settings(_ request: Request, context: TenantRequestContext) async throws -> SettingsView {
        try context.tenant.require(.leadsRead)
        let policy = try await services.leads.duplicatePolicy(tenantId: context.tenant.tenantId)
        return SettingsView(duplicateLookbackDays: policy.lookbackDays, duplicateSkipDays: policy.skipDays)
    }

    @Sendable func updateSettings(_ request: Request, context: TenantRequestContext) async throws -> SettingsView {
        try context.tenant.require(.settingsWrite)
        let body = try await request.decodeJSON(as: SettingsView.self, context: context)
        let policy = DuplicatePolicy(lookbackDays: body.duplicateLookbackDays, skipDays: body.duplicateSkipDays)
        let problems = policy.problems
        guard problems.isEmpty else { throw Problem.validation(problems.map { Problem.FieldError(field: $0.field, message: $0.message) }) }
        try await services.leads.setDuplicatePolicy(policy, tenantId: context.tenant.tenantId,
                                                    actor: context.auditActor(request), now: services.now())
        return body
    }

    static let statusField = Problem.validation(
        field: "status", "cannot be set here; use POST /api/leads/{id}/status (new leads start as new)"
    )

    /// A malformed id cannot name a lead: 404, like any other unknown id.
    static func leadId(_ context: TenantRequestContext) throws -> String {
        let id = try context.parameters.require("id")
        guard Identifier.isValid(id) else { throw Problem.notFound("No lead with this id.") }
        return id
    }
}
