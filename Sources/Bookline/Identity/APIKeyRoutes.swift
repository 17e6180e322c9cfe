import BooklineCore
import Foundation
import Hummingbird

/// `/api/keys`: list, create, rotate and revoke the tenant's API keys (scope `keys:manage`).
struct APIKeyRoutes {
    static let maxGraceHours = 7 * 24
    let services: AppServices

    struct KeyView: ResponseEncodable {
        let id: String
        let name: String
        let prefix: String
        let lastFour: String
        let environment: String
        let scopes: [String]
        let status: String
        let expiresAt: Date?
        let revokedAt: Date?
        let lastUsedAt: Date?
        let createdAt: Date
        /// Only in the response that creates the key.
        let key: String?

        init(_ record: APIKeyRecord, now: Date, key: String? = nil) {
            id = record.id
            name = record.name
            prefix = record.displayPrefix
            lastFour = record.lastFour
            environment = record.environment
            scopes = record.scopes
            let revoked = record.isRevoked(at: now)
            let expired = record.isExpired(at: now)
            status = revoked ? "revoked" : expired ? "expired" : record.revokedAt != nil ? "rotating" : "active"
            expiresAt = record.expiresAt
            revokedAt = record.revokedAt
            lastUsedAt = record.lastUsedAt
            createdAt = record.createdAt
            self.key = key
        }
    }

    struct KeyList: ResponseEncodable {
        let items: [KeyView]
    }

    struct CreateRequest: Decodable, PlatformOwnedFields {
        static let platformOwnedFields = setByBookline("id", "tenantId", "key", "prefix", "lastFour", "status", "createdBy",
                                                       "createdAt", "lastUsedAt", "revokedAt")

        var name: String?
        var scopes: [String]?
        var expiresInDays: Int?
        var environment: String?
    }

    struct RotateRequest: Decodable {
        var gracePeriodHours: Int?
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("keys", use: list)
        group.post("keys", use: create)
        group.post("keys/{id}/rotate", use: rotate)
        group.delete("keys/{id}", use: revoke)
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> KeyList {
        try context.tenant.require(.keysManage)
        let now = services.now()
        return KeyList(items: try await services.apiKeys.list(tenantId: context.tenant.tenantId).map { KeyView($0, now: now) })
    }

    @Sendable func create(_ request: Request, context: TenantRequestContext) async throws -> EditedResponse<KeyView> {
        try context.tenant.require(.keysManage)
        let input = try await request.decodeJSON(as: CreateRequest.self, context: context)
        let now = services.now()
        var errors: [Problem.FieldError] = []
        let name = input.name?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "API key"
        if !(1...80).contains(name.count) || (input.name?.count ?? 0) > 80 { errors.append(.init(field: "name", message: "must be 1 to 80 characters")) }
        let scopes = input.scopes ?? context.tenant.scopes.sorted()
        if scopes.count > 20 { errors.append(.init(field: "scopes", message: "may list at most 20 scopes")) }
        let unknown = scopes.filter { !Scope.allNames.contains($0) }
        if !unknown.isEmpty {
            errors.append(.init(field: "scopes", message: "unknown scopes \(unknown.joined(separator: ", ")); known: \(Scope.allNames.sorted().joined(separator: ", "))"))
        } else if !Set(scopes).isSubset(of: context.tenant.scopes) {
            errors.append(.init(field: "scopes", message: "cannot exceed the scopes of the credential creating the key"))
        }
        if scopes.isEmpty { errors.append(.init(field: "scopes", message: "must name at least one scope")) }
        if let days = input.expiresInDays, !(1...3650).contains(days) {
            errors.append(.init(field: "expiresInDays", message: "must be from 1 to 3650"))
        }
        let expiresAt = input.expiresInDays.map { now.addingTimeInterval(TimeInterval($0) * 86400) }
        let environment = APIKeyFormat.Environment(rawValue: input.environment ?? "live")
        if environment == nil { errors.append(.init(field: "environment", message: "must be live or test")) }
        guard errors.isEmpty, let environment else { throw Problem.validation(errors) }

        let key = APIKeyFormat.generate(environment)
        let record = try await services.database.transaction { db in
            let record = try await services.apiKeys.create(
                tenantId: context.tenant.tenantId, name: name, key: key, scopes: Array(Set(scopes)),
                expiresAt: expiresAt, createdBy: context.tenant.principal.id, now: now, on: db
            )
            try await services.audit.append(AuditEntry(
                tenantId: context.tenant.tenantId, actor: context.auditActor(request), action: "api_key.created",
                targetType: "api_key", targetId: record.id,
                details: ["name": name, "scopes": record.scopes.joined(separator: " ")]
            ), on: db, now: now)
            return record
        }
        return EditedResponse(status: .created, response: KeyView(record, now: now, key: key.key))
    }

    @Sendable func rotate(_ request: Request, context: TenantRequestContext) async throws -> EditedResponse<KeyView> {
        try context.tenant.require(.keysManage)
        let id = try context.parameters.require("id")
        let input = request.headers[.contentLength] == "0" || request.headers[.contentType] == nil
            ? RotateRequest() : try await request.decodeJSON(as: RotateRequest.self, context: context)
        let hours = input.gracePeriodHours ?? 24
        guard (0...Self.maxGraceHours).contains(hours) else {
            throw Problem.validation(field: "gracePeriodHours", "must be from 0 to \(Self.maxGraceHours)")
        }
        let now = services.now()
        guard let old = try await services.apiKeys.find(tenantId: context.tenant.tenantId, id: id), old.isActive(at: now) else {
            throw Problem.notFound("No active API key with this id.")
        }
        let key = APIKeyFormat.generate(APIKeyFormat.Environment(rawValue: old.environment) ?? .live)
        let record = try await services.database.transaction { db in
            let record = try await services.apiKeys.create(
                tenantId: context.tenant.tenantId, name: old.name, key: key, scopes: old.scopes, expiresAt: old.expiresAt,
                createdBy: context.tenant.principal.id, now: now, on: db
            )
            try await services.apiKeys.revoke(tenantId: context.tenant.tenantId, id: old.id,
                                              at: now.addingTimeInterval(TimeInterval(hours * 3600)), on: db)
            try await services.audit.append(AuditEntry(
                tenantId: context.tenant.tenantId, actor: context.auditActor(request), action: "api_key.rotated",
                targetType: "api_key", targetId: old.id, details: ["new_key_id": record.id, "grace_hours": String(hours)]
            ), on: db, now: now)
            return record
        }
        await services.apiKeys.invalidate(id: old.id)
        return EditedResponse(status: .created, response: KeyView(record, now: now, key: key.key))
    }

    @Sendable func revoke(_ request: Request, context: TenantRequestContext) async throws -> HTTPResponse.Status {
        try context.tenant.require(.keysManage)
        let id = try context.parameters.require("id")
        let now = services.now()
        guard let key = try await services.apiKeys.find(tenantId: context.tenant.tenantId, id: id), !key.isRevoked(at: now)
        else { throw Problem.notFound("No API key with this id.") }
        try await services.database.transaction { db in
            try await services.apiKeys.revoke(tenantId: context.tenant.tenantId, id: id, at: now, on: db)
            try await services.audit.append(AuditEntry(
                tenantId: context.tenant.tenantId, actor: context.auditActor(request), action: "api_key.revoked",
                targetType: "api_key", targetId: id
            ), on: db, now: now)
        }
        await services.apiKeys.invalidate(id: id)
        return .noContent
    }
}
