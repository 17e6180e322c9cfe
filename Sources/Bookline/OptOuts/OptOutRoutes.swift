import BooklineCore
import Foundation
import Hummingbird

/// `/api/opt-outs` (the tenant's list, scopes `leads:read` / `leads:write`) and
/// `/api/admin/opt-outs` (the platform-wide list, admins). Withdrawing needs a reason.
struct OptOutRoutes {
    let services: AppServices

    struct OptOutView: ResponseEncodable {
        let id: String
        let scope: String
        /// nil once the person's data was erased (only a hash keeps them suppressed).
        let phone: String?
        let reason: String
        let source: String?
        let note: String?
        let active: Bool
        /// The API key or user that added it, and that last changed it.
        let createdBy: String?
        let updatedBy: String?
        let createdAt: Date
        let updatedAt: Date
        let deactivatedAt: Date?
        let deactivationReason: String?
        /// On withdrawal: the platform-wide list still blocks this number.
        let stillGloballyOptedOut: Bool?

        init(_ optOut: OptOut, stillGloballyOptedOut: Bool? = nil) {
            id = optOut.id
            scope = optOut.scope == OptOutStore.global ? "global" : "tenant"
            phone = optOut.phone
            reason = optOut.reason
            source = optOut.source
            note = optOut.note
            active = optOut.isActive
            createdBy = optOut.createdBy
            updatedBy = optOut.updatedBy
            createdAt = optOut.createdAt
            updatedAt = optOut.updatedAt
            deactivatedAt = optOut.deactivatedAt
            deactivationReason = optOut.deactivationReason
            self.stillGloballyOptedOut = stillGloballyOptedOut
        }
    }

    struct OptOutPage: ResponseEncodable {
        let items: [OptOutView]
        let nextCursor: String?
    }

    struct CreateBody: Decodable {
        var phone: String
        var reason: String?
        var source: String?
        var note: String?
    }

    struct WithdrawBody: Decodable {
        var reason: String?
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("opt-outs", use: { request, context in
            try context.tenant.require(.leadsRead)
            return try await list(request, scope: context.tenant.tenantId)
        })
        group.post("opt-outs", use: { request, context in
            try context.tenant.require(.leadsWrite)
            return try await create(request, context: context, scope: context.tenant.tenantId, actor: context.auditActor(request))
        })
        group.delete("opt-outs/{phone}", use: { request, context in
            try context.tenant.require(.leadsWrite)
            return try await withdraw(request, context: context, scope: context.tenant.tenantId, actor: context.auditActor(request))
        })
    }

    /// The platform-wide list, on the admin group.
    func addAdminRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("opt-outs", use: { request, _ in try await list(request, scope: OptOutStore.global) })
        group.post("opt-outs", use: { request, context in
            try await create(request, context: context, scope: OptOutStore.global, actor: context.auditActor(request, principal: context.auth?.principal))
        })
        group.delete("opt-outs/{phone}", use: { request, context in
            try await withdraw(request, context: context, scope: OptOutStore.global, actor: context.auditActor(request, principal: context.auth?.principal))
        })
    }

    func list(_ request: Request, scope: String) async throws -> OptOutPage {
        let query = request.uri.queryParameters
        var errors: [Problem.FieldError] = []
        var active: Bool? = true
        switch query["active"].map(String.init) ?? "true" {
        case "true": active = true
        case "false": active = false
        case "all": active = nil
        default: errors.append(.init(field: "active", message: "must be true, false or all"))
        }
        let paging = PageQuery(query, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let rows = try await services.optOuts.list(scope: scope, active: active, limit: paging.limit + 1, cursor: paging.cursor)
        let page = paging.page(rows, id: \.id)
        return OptOutPage(items: page.items.map { OptOutView($0) }, nextCursor: page.nextCursor)
    }

    func create(_ request: Request, context: some RequestContext, scope: String, actor: AuditActor) async throws -> EditedResponse<OptOutView> {
        let body = try await request.decodeJSON(as: CreateBody.self, context: context)
        var errors: [Problem.FieldError] = []
        let phone = Self.phone(body.phone, errors: &errors)
        let reason = body.reason ?? "request"
        if !OptOutService.clientReasons.contains(reason) {
            errors.append(.init(field: "reason", message: "must be one of \(OptOutService.clientReasons.joined(separator: ", "))"))
        }
        let source = LeadRules.clean(body.source)
        if let source, source.count > 64 { errors.append(.init(field: "source", message: "must be at most 64 characters")) }
        let note = LeadRules.clean(body.note)
        if let note, note.count > 500 { errors.append(.init(field: "note", message: "must be at most 500 characters")) }
        guard errors.isEmpty, let phone else { throw Problem.validation(errors) }
        let change = try await services.optOuts.add(scope: scope, phone: phone, reason: reason, source: source ?? "api",
                                                    note: note, actor: actor, now: services.now())
        return EditedResponse(status: change.changed ? .created : .ok, response: OptOutView(change.optOut))
    }

    func withdraw(_ request: Request, context: some RequestContext, scope: String, actor: AuditActor) async throws -> OptOutView {
        let raw = try context.parameters.require("phone")
        var errors: [Problem.FieldError] = []
        let phone = Self.phone(raw.removingPercentEncoding ?? raw, errors: &errors)
        var reason = request.uri.queryParameters["reason"].map(String.init)
        if reason == nil, request.headers[.contentLength].flatMap(Int.init) ?? 0 > 0 {
            reason = try await request.decodeJSON(as: WithdrawBody.self, context: context).reason
        }
        let cleaned = LeadRules.clean(reason)
        if cleaned == nil { errors.append(.init(field: "reason", message: "is required: say why the person may be contacted again")) }
        if let cleaned, cleaned.count > 500 { errors.append(.init(field: "reason", message: "must be at most 500 characters")) }
        guard errors.isEmpty, let phone, let cleaned else { throw Problem.validation(errors) }
        guard let withdrawal = try await services.optOuts.withdraw(scope: scope, phone: phone, reason: cleaned, actor: actor,
                                                                    now: services.now())
        else { throw Problem.notFound("This number has no active opt-out on this list.") }
        return OptOutView(withdrawal.optOut, stillGloballyOptedOut: withdrawal.stillGloballyOptedOut)
    }

    /// Any valid number may be opted out, premium and personal ones included.
    static func phone(_ raw: String, errors: inout [Problem.FieldError]) -> PhoneNumber? {
        switch PhoneNumber.parse(raw) {
        case .success(let number): return number
        case .failure(let problem):
            errors.append(.init(field: "phone", message: LeadRules.phoneMessage(problem)))
            return nil
        }
    }
}
