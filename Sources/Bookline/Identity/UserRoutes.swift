import BooklineCore
import Foundation
import Hummingbird

/// `/api/users`: the tenant's owners and admins list, add, re-role and remove the people who
/// sign in to it (see `PeopleService` for who may do what). A new user gets the password
/// given, or a generated one shown once. Another tenant's user id is 404.
struct UserRoutes {
    let services: AppServices

    struct UserView: ResponseEncodable {
        let id: String
        let email: String
        let role: String
        let emailVerified: Bool
        let mfaEnabled: Bool
        let createdAt: Date
        let lastLoginAt: Date?
        /// Only in the answer that created the user, when no password was given.
        var temporaryPassword: String? = nil

        init(_ user: User, temporaryPassword: String? = nil) {
            id = user.id
            email = user.email
            role = user.role.rawValue
            emailVerified = user.emailVerified
            mfaEnabled = user.mfaEnabled
            createdAt = user.createdAt
            lastLoginAt = user.lastLoginAt
            self.temporaryPassword = temporaryPassword
        }
    }

    struct UserList: ResponseEncodable {
        let items: [UserView]
    }

    struct NewUser: Decodable, PlatformOwnedFields {
        var email: String?
        var role: String?
        var password: String?

        static let platformOwnedFields: [String: String] = {
            let set = "is set by Bookline, not by the request"
            return ["id": set, "tenantId": set, "emailVerified": set, "mfaEnabled": set, "createdAt": set]
        }()
    }

    struct RoleChange: Decodable, PlatformOwnedFields {
        var role: String?

        static let platformOwnedFields: [String: String] = {
            let set = "cannot be changed here"
            return ["id": set, "tenantId": set, "email": set, "emailVerified": set, "mfaEnabled": set, "createdAt": set]
        }()
    }

    static let roleMessage = "must be one of \(TenantRole.allCases.map(\.rawValue).joined(separator: ", "))"

    var people: PeopleService {
        PeopleService(database: services.database, users: services.users, sessions: services.sessions, hasher: services.hasher, audit: services.audit, now: services.now)
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("users", use: list)
        group.post("users", use: create)
        group.patch("users/{id}", use: changeRole)
        group.delete("users/{id}", use: remove)
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> UserList {
        _ = try PeopleService.manager(context.tenant, actor: context.auditActor(request))
        return UserList(items: try await people.list(tenantId: context.tenant.tenantId).map { UserView($0) })
    }

    @Sendable func create(_ request: Request, context: TenantRequestContext) async throws -> EditedResponse<UserView> {
        let manager = try PeopleService.manager(context.tenant, actor: context.auditActor(request))
        let body = try await request.decodeJSON(as: NewUser.self, context: context)
        var errors: [Problem.FieldError] = []
        var email: EmailAddress?
        switch body.email.map({ EmailAddress.parse($0) }) {
        case .success(let parsed)?: email = parsed
        case .failure?: errors.append(.init(field: "email", message: "must be an email address such as name@example.com"))
        case nil: errors.append(.init(field: "email", message: "is required"))
        }
        let role = TenantRole(rawValue: body.role ?? TenantRole.member.rawValue)
        if role == nil { errors.append(.init(field: "role", message: Self.roleMessage)) }
        let generated = body.password == nil ? Self.generatedPassword() : nil
        let password = body.password ?? generated!
        switch PasswordPolicy.check(password, context: [email.map { String($0.normalized.prefix { $0 != "@" }) } ?? ""]) {
        case nil: break
        case .tooShort: errors.append(.init(field: "password", message: "must be at least \(PasswordPolicy.minimumLength) characters"))
        case .tooLong: errors.append(.init(field: "password", message: "must be at most \(PasswordPolicy.maximumLength) characters"))
        case .common: errors.append(.init(field: "password", message: "is too common or too easy to guess; choose another"))
        }
        guard errors.isEmpty, let email, let role else { throw Problem.validation(errors) }
        let user = try await people.add(email: email, role: role, password: password, by: manager)
        return EditedResponse(status: .created, response: UserView(user, temporaryPassword: generated))
    }

    @Sendable func changeRole(_ request: Request, context: TenantRequestContext) async throws -> UserView {
        let manager = try PeopleService.manager(context.tenant, actor: context.auditActor(request))
        let id = try context.parameters.require("id")
        let body = try await request.decodeJSON(as: RoleChange.self, context: context)
        guard let name = body.role else { throw Problem.validation(field: "role", "is required") }
        guard let role = TenantRole(rawValue: name) else { throw Problem.validation(field: "role", Self.roleMessage) }
        guard Identifier.isValid(id) else { throw PeopleService.notFound }
        return UserView(try await people.changeRole(userId: id, to: role, by: manager))
    }

    @Sendable func remove(_ request: Request, context: TenantRequestContext) async throws -> HTTPResponse.Status {
        let manager = try PeopleService.manager(context.tenant, actor: context.auditActor(request))
        let id = try context.parameters.require("id")
        guard Identifier.isValid(id) else { throw PeopleService.notFound }
        try await people.remove(userId: id, by: manager)
        return .noContent
    }

    /// 20 characters from 56 unambiguous letters and digits, from the system's secure generator (~116 bits).
    static func generatedPassword() -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
