import BooklineCore
import Foundation
import Hummingbird
import SQLKit

/// `/api/users`: the account owner lists, adds and removes the people who sign in to the
/// tenant (owners and members). A new user gets the password given, or a generated one shown
/// once. Another tenant's user id is 404; nobody removes themselves.
struct UserRoutes {
    let services: AppServices

    struct UserView: ResponseEncodable {
        let id: String
        let email: String
        let role: String
        let createdAt: Date
        let lastLoginAt: Date?
        /// Only in the answer that created the user, when no password was given.
        let temporaryPassword: String?
    }

    struct UserList: ResponseEncodable {
        let items: [UserView]
    }

    struct NewUser: Decodable {
        var email: String?
        var role: String?
        var password: String?
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("users", use: list)
        group.post("users", use: create)
        group.delete("users/{id}", use: remove)
    }

    private func requireOwner(_ context: TenantRequestContext) throws {
        guard context.tenant.principal.kind == .user, context.tenant.principal.role == .owner else {
            throw Problem.forbidden("Only the account owner, signed in, can manage users.")
        }
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> UserList {
        try requireOwner(context)
        let rows = try await services.database.sql.raw("""
            SELECT id, email, role, created_at, last_login_at FROM users WHERE tenant_id = \(bind: context.tenant.tenantId) ORDER BY created_at, id
            """).all()
        return UserList(items: try rows.map { row in
            UserView(id: try row.decode(column: "id", as: String.self), email: try row.decode(column: "email", as: String.self),
                     role: try row.decode(column: "role", as: String.self), createdAt: try row.decode(column: "created_at", as: Date.self),
                     lastLoginAt: try row.decode(column: "last_login_at", as: Date?.self), temporaryPassword: nil)
        })
    }

    @Sendable func create(_ request: Request, context: TenantRequestContext) async throws -> EditedResponse<UserView> {
        try requireOwner(context)
        let body = try await request.decodeJSON(as: NewUser.self, context: context)
        var errors: [Problem.FieldError] = []
        var email: EmailAddress?
        switch body.email.map({ EmailAddress.parse($0) }) {
        case .success(let parsed)?: email = parsed
        case .failure?: errors.append(.init(field: "email", message: "must be an email address such as name@example.com"))
        case nil: errors.append(.init(field: "email", message: "is required"))
        }
        let role = Role(rawValue: body.role ?? "member")
        if role != .member && role != .owner { errors.append(.init(field: "role", message: "must be member or owner")) }
        let generated = body.password == nil ? Self.generatedPassword() : nil
        let password = body.password ?? generated!
        switch PasswordPolicy.check(password, context: [email.map { String($0.normalized.prefix { $0 != "@" }) } ?? ""]) {
        case nil: break
        case .tooShort: errors.append(.init(field: "password", message: "must be at least \(PasswordPolicy.minimumLength) characters"))
        case .tooLong: errors.append(.init(field: "password", message: "must be at most \(PasswordPolicy.maximumLength) characters"))
        case .common: errors.append(.init(field: "password", message: "is too common or too easy to guess; choose another"))
        }
        guard errors.isEmpty, let email, let role else { throw Problem.validation(errors) }
        let hash = try await services.hasher.hash(password)
        let now = services.now()
        let tenantId = context.tenant.tenantId
        do {
            let user = try await services.database.transaction { db in
                let user = try await services.users.create(tenantId: tenantId, email: email, passwordHash: hash, role: role, verified: false, now: now, on: db)
                try await services.audit.append(AuditEntry(
                    tenantId: tenantId, actor: context.auditActor(request), action: "user.created", targetType: "user",
                    targetId: user.id, details: ["role": role.rawValue]
                ), on: db, now: now)
                return user
            }
            return EditedResponse(status: .created, response: UserView(
                id: user.id, email: user.email, role: user.role.rawValue, createdAt: user.createdAt, lastLoginAt: nil,
                temporaryPassword: generated
            ))
        } catch where ConstraintViolation.isUnique(error) {
            throw Problem(status: .conflict, slug: "email-taken", title: "Email already registered",
                          detail: "This email already signs in to Bookline; each person has one login.")
        }
    }

    @Sendable func remove(_ request: Request, context: TenantRequestContext) async throws -> HTTPResponse.Status {
        try requireOwner(context)
        let id = try context.parameters.require("id")
        guard id != context.tenant.principal.id else {
            throw Problem(status: .conflict, slug: "cannot-remove-self", title: "Cannot remove yourself",
                          detail: "Ask another owner to remove your login.")
        }
        let tenantId = context.tenant.tenantId
        let now = services.now()
        let removed = try await services.database.transaction { db -> Bool in
            let gone = try await db.raw("DELETE FROM users WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id) RETURNING id").all()
            guard !gone.isEmpty else { return false }
            try await services.audit.append(AuditEntry(
                tenantId: tenantId, actor: context.auditActor(request), action: "user.removed", targetType: "user", targetId: id
            ), on: db, now: now)
            return true
        }
        guard removed else { throw Problem.notFound("No user with this id in this account.") }
        await services.users.invalidate(id)
        return .noContent
    }

    /// 20 characters from 56 unambiguous letters and digits, from the system's secure generator (~116 bits).
    static func generatedPassword() -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
