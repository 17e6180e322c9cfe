import BooklineCore
import Foundation
import Hummingbird

/// `GET /api/audit`: tenant owners read their own tenant's trail; platform admins and
/// compliance staff read any tenant's (or the platform chain with `tenantId=platform`).
struct AuditRoutes {
    let services: AppServices

    struct AuditView: Encodable {
        let id: String
        let tenantId: String?
        let seq: Int
        let actorType: String
        let actorId: String?
        let action: String
        let targetType: String?
        let targetId: String?
        let details: [String: String]
        /// The personal values behind the details' `ref:` references, until an erasure clears them.
        let personal: [String: String]?
        let ip: String?
        let userAgent: String?
        let requestId: String?
        let createdAt: Date
        let prevHash: String
        let hash: String

        init(_ record: AuditRecord) {
            id = record.id
            tenantId = record.tenantId
            seq = record.seq
            actorType = record.actorType
            actorId = record.actorId
            action = record.action
            targetType = record.targetType
            targetId = record.targetId
            details = (try? JSONDecoder().decode([String: String].self, from: Data(record.details.utf8))) ?? [:]
            personal = record.personal.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
            ip = record.ip
            userAgent = record.userAgent
            requestId = record.requestId
            createdAt = record.createdAt
            prevHash = record.prevHash
            hash = record.hash
        }
    }

    struct AuditPage: ResponseEncodable {
        let items: [AuditView]
        let nextCursor: String?
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("audit", use: list)
        group.get("audit/verify", use: verify)
    }

    struct VerifyView: ResponseEncodable {
        struct Broken: Encodable {
            let chain: String
            let id: String
            let seq: Int
            let reason: String
        }

        let ok: Bool
        let chains: Int
        let rows: Int
        let broken: Broken?
    }

    /// What `bookline audit verify` reports, for the consoles: staff check any chain (or all),
    /// an owner their own tenant's.
    @Sendable func verify(_ request: Request, context: AppRequestContext) async throws -> VerifyView {
        guard let auth = context.auth else { throw Problem.missingCredential }
        let requested = request.uri.queryParameters["tenantId"].map(String.init)
        let chain: String?
        switch auth.principal.role {
        case .platformAdmin?, .compliance?:
            if let requested, requested != "platform", !Identifier.isValid(requested) {
                throw Problem.validation(field: "tenantId", "must be a tenant id or platform")
            }
            chain = requested
        case .owner?, .tenantAdmin?:
            guard let own = auth.tenantId else { throw Problem.forbidden("No tenant.") }
            if let requested, requested != own { throw Problem.notFound("No such tenant.") }
            chain = own
        default:
            throw Problem.forbidden("Only the account owner, admins and compliance staff can verify the audit log.")
        }
        let result = try await AuditReader(database: services.database).verify(tenantId: chain)
        return VerifyView(ok: result.broken == nil, chains: result.chains, rows: result.rows,
                          broken: result.broken.map { .init(chain: $0.chain, id: $0.id, seq: $0.seq, reason: $0.reason) })
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> AuditPage {
        guard let auth = context.auth else { throw Problem.missingCredential }
        let query = request.uri.queryParameters
        var filter = AuditReader.Filter()
        var errors: [Problem.FieldError] = []
        let requested = query["tenantId"].map(String.init)

        switch auth.principal.role {
        case .platformAdmin?, .compliance?:
            if let requested, requested != "platform", !Identifier.isValid(requested) {
                errors.append(.init(field: "tenantId", message: "must be a tenant id or platform"))
            }
            filter.tenantId = requested == "platform" ? nil : requested
            filter.platformOnly = requested == "platform"
        case .owner?, .tenantAdmin?:
            guard let own = auth.tenantId else { throw Problem.forbidden("No tenant.") }
            // Another tenant's id looks exactly like an unknown one.
            if let requested, requested != own { throw Problem.notFound("No such tenant.") }
            filter.tenantId = own
        default:
            throw Problem.forbidden("Only the account owner, admins and compliance staff can read the audit log.")
        }
        if let actor = query["actorId"] {
            if actor.count > 64 { errors.append(.init(field: "actorId", message: "must be at most 64 characters")) }
            filter.actorId = String(actor)
        }
        if let action = query["action"] {
            if action.count > 100 { errors.append(.init(field: "action", message: "must be at most 100 characters")) }
            filter.action = String(action)
        }
        ISOTime.query(query, "from", errors: &errors) { filter.from = $0 }
        ISOTime.query(query, "to", errors: &errors) { filter.to = $0 }
        let paging = PageQuery(query, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        filter.before = paging.cursor
        filter.limit = paging.limit + 1

        let rows = try await AuditReader(database: services.database).list(filter)
        let page = paging.page(rows, id: \.id)
        return AuditPage(items: page.items.map(AuditView.init), nextCursor: page.nextCursor)
    }
}
