import BooklineCore
import Foundation
import Hummingbird

/// Data rights over HTTP: tenant export (owner of the tenant, admins, compliance), data-subject
/// export (compliance) and erasure (compliance, or the tenant's owner for their own tenant).
struct DataRightsRoutes {
    let services: AppServices

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("clients/{id}/export", use: tenantExport)
        group.post("compliance/subject-export", use: subjectExport)
        group.get("compliance/subject-exports/{id}", use: subjectExportStatus)
        group.post("compliance/erasure", use: erase)
    }

    // MARK: Tenant export

    @Sendable func tenantExport(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let auth = context.auth else { throw Problem.missingCredential }
        let tenantId = try context.parameters.require("id")
        switch auth.principal.role {
        case .platformAdmin?, .compliance?: break
        case .owner? where auth.tenantId == tenantId: break
        // Another tenant's id looks exactly like an unknown one.
        case .owner?: throw Problem.notFound("No tenant with this id.")
        default: throw Problem.forbidden("Only the tenant's owner, admins and compliance staff can export a tenant.")
        }
        let format = request.uri.queryParameters["format"].map(String.init) ?? "json"
        guard ["json", "zip"].contains(format) else { throw Problem.validation(field: "format", "must be json or zip") }
        guard Identifier.isValid(tenantId), let tenant = try await services.tenants.find(id: tenantId) else {
            throw Problem.notFound("No tenant with this id.")
        }
        let now = services.now()
        try await services.database.transaction { db in
            try await services.audit.append(AuditEntry(
                tenantId: tenant.id, actor: context.auditActor(request, principal: auth.principal), action: "tenant.exported",
                targetType: "tenant", targetId: tenant.id, details: ["format": format]
            ), on: db, now: now)
        }
        let export = TenantExport(database: services.database, tenantId: tenant.id, exportedAt: now)
        let stamp = now.formatted(.iso8601.year().month().day())
        if format == "zip" {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bookline-export-\(UUID().uuidString)")
            do {
                let archive = try await export.writeZip(in: folder)
                return Response(status: .ok, headers: [
                    .contentType: "application/zip",
                    .contentDisposition: "attachment; filename=\"\(tenant.slug)-\(stamp).zip\"",
                ], body: try FileResponse.body(of: archive, removing: folder))
            } catch {
                try? FileManager.default.removeItem(at: folder)
                throw error
            }
        }
        return Response(status: .ok, headers: [
            .contentType: "application/json",
            .contentDisposition: "attachment; filename=\"\(tenant.slug)-\(stamp).json\"",
        ], body: ResponseBody { writer in
            try await export.writeJSON(to: &writer)
            try await writer.finish(nil)
        })
    }

    // MARK: Subject export and erasure

    struct SubjectRequest: Decodable {
        var tenantId: String?
        var tenant: String?
        var phone: String?
        var email: String?
        var reason: String?
        /// Forces the job path even for a small export.
        var async: Bool?
    }

    /// Validates the request and works out the tenant: compliance names it; an owner may only
    /// name their own (or omit it).
    private func subject(_ request: Request, context: AppRequestContext, allowOwner: Bool) async throws -> (SubjectRequest, DataSubject, String) {
        guard let auth = context.auth else { throw Problem.missingCredential }
        let body = try await request.decodeJSON(as: SubjectRequest.self, context: context)
        var errors: [Problem.FieldError] = []
        let named = body.tenantId ?? body.tenant
        var tenantId: String?
        switch auth.principal.role {
        case .compliance?:
            if named == nil { errors.append(.init(field: "tenantId", message: "is required")) }
            tenantId = named
        case .owner? where allowOwner && auth.principal.kind == .user:
            if let named, named != auth.tenantId { throw Problem.notFound("No tenant with this id.") }
            tenantId = auth.tenantId
        default:
            throw Problem.forbidden(allowOwner ? "Only compliance staff and the tenant's owner can erase personal data."
                                               : "Only compliance staff can export a data subject's records.")
        }
        var subject = DataSubject()
        if let raw = body.phone { subject.phone = OptOutRoutes.phone(raw, errors: &errors)?.e164 }
        if let raw = body.email {
            switch EmailAddress.parse(raw) {
            case .success(let email): subject.email = email.normalized
            case .failure: errors.append(.init(field: "email", message: "must be an email address such as name@example.com"))
            }
        }
        if body.phone == nil && body.email == nil {
            errors.append(.init(field: "phone", message: "give a phone, an email, or both"))
        }
        guard errors.isEmpty, let tenantId else { throw Problem.validation(errors) }
        guard Identifier.isValid(tenantId), let tenant = try await services.tenants.find(id: tenantId), tenant.status != .deleted else {
            throw Problem.notFound("No tenant with this id.")
        }
        return (body, subject, tenant.id)
    }

    @Sendable func subjectExport(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (body, subject, tenantId) = try await subject(request, context: context, allowOwner: false)
        let exporter = SubjectExport(services: services)
        let counts = try await exporter.counts(subject, tenantId: tenantId)
        let actor = context.auditActor(request, principal: context.auth?.principal)
        let large = counts.values.reduce(0, +) > services.config.subjectExportInlineRows || body.async == true
        let id = large ? try await exporter.start(subject, tenantId: tenantId, requestedBy: actor.id) : nil
        let now = services.now()
        try await services.database.transaction { db in
            try await services.audit.append(AuditEntry(
                tenantId: tenantId, actor: actor, action: "subject.exported", targetType: id == nil ? nil : "subject_export", targetId: id,
                details: ["mode": large ? "job" : "inline", "rows": String(counts.values.reduce(0, +))],
                personal: [subject.phone.map { ("phone", $0) }, subject.email.map { ("email", $0) }].compactMap { $0 }
                    .reduce(into: [:]) { $0[$1.0] = $1.1 }
            ), on: db, now: now)
        }
        if let id {
            let status = SubjectExport.Status(id: id, tenantId: tenantId, status: "pending", createdAt: now, finishedAt: nil,
                                              expiresAt: now.addingTimeInterval(SubjectExport.lifetime), document: nil)
            var response = try status.response(from: request, context: context)
            response.status = .accepted
            response.headers[.location] = "/api/compliance/subject-exports/\(id)"
            return response
        }
        let document = try await exporter.document(subject, tenantId: tenantId)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(data: document.jsonLine)))
    }

    @Sendable func subjectExportStatus(_ request: Request, context: AppRequestContext) async throws -> SubjectExport.Status {
        guard context.auth?.principal.role == .compliance else {
            throw Problem.forbidden("Only compliance staff can read data-subject exports.")
        }
        let id = try context.parameters.require("id")
        guard Identifier.isValid(id), let status = try await SubjectExport(services: services).status(id: id) else {
            throw Problem.notFound("No subject export with this id (they expire after 7 days).")
        }
        return status
    }

    struct ReceiptView: ResponseEncodable {
        let id: String
        let tenantId: String
        let createdAt: Date
        let reason: String
        let counts: [String: Int]
        let requestHash: String
        let repeated: Bool
    }

    @Sendable func erase(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (body, subject, tenantId) = try await subject(request, context: context, allowOwner: true)
        let reason = body.reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard (1...500).contains(reason.count) else {
            throw Problem.validation(field: "reason", "is required, 1 to 500 characters")
        }
        let receipt = try await Erasure(services: services).erase(
            subject, tenantId: tenantId, reason: reason, actor: context.auditActor(request, principal: context.auth?.principal)
        )
        let view = ReceiptView(id: receipt.id, tenantId: receipt.tenantId, createdAt: receipt.createdAt, reason: receipt.reason,
                               counts: receipt.counts, requestHash: receipt.requestHash, repeated: receipt.repeated)
        var response = try view.response(from: request, context: context)
        response.status = receipt.repeated ? .ok : .created
        return response
    }
}
