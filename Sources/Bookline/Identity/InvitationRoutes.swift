import BooklineCore
import Foundation
import Hummingbird

/// `/api/invitations` (owners and admins: invite, list, resend, revoke) and the invitee's
/// public side, `/api/auth/invitations/preview` and `/accept`, behind the per-IP sign-in
/// budget. See `InvitationService` for the rules. Another tenant's invitation id is 404.
struct InvitationRoutes {
    let services: AppServices

    struct InvitationView: ResponseEncodable, Decodable {
        let id: String
        let email: String
        let role: String
        let status: String
        let invitedBy: String?
        let createdAt: Date
        let sentAt: Date
        let expiresAt: Date
        let acceptedAt: Date?

        init(_ invitation: Invitation, now: Date) {
            id = invitation.id
            email = invitation.email
            role = invitation.role.rawValue
            status = invitation.status(at: now).rawValue
            invitedBy = invitation.invitedBy
            createdAt = invitation.createdAt
            sentAt = invitation.sentAt
            expiresAt = invitation.expiresAt
            acceptedAt = invitation.acceptedAt
        }
    }

    struct InvitationList: ResponseEncodable, Decodable {
        let items: [InvitationView]
    }

    struct NewInvitation: Decodable, PlatformOwnedFields {
        var email: String?
        var role: String?

        static let platformOwnedFields: [String: String] = {
            let set = "is set by Bookline, not by the request"
            return ["id": set, "tenantId": set, "status": set, "invitedBy": set, "expiresAt": set, "acceptedAt": set,
                    "createdAt": set, "token": set]
        }()
    }

    struct TokenRequest: Decodable {
        var token: String?
        var password: String?
        var session: String?
    }

    struct PreviewView: ResponseEncodable, Decodable {
        let businessName: String
        let email: String
        let role: String
        let expiresAt: Date
        let existingAccount: Bool
    }

    var service: InvitationService {
        InvitationService(database: services.database, users: services.users, invitations: InvitationStore(database: services.database),
                          tenants: services.tenants, hasher: services.hasher, audit: services.audit, accounts: services.accounts,
                          now: services.now)
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("invitations") { request, context -> InvitationList in
            let manager = try PeopleService.manager(context.tenant, actor: context.auditActor(request))
            let now = services.now()
            return InvitationList(items: try await service.list(tenantId: manager.tenantId).map { InvitationView($0, now: now) })
        }
        group.post("invitations") { request, context -> EditedResponse<InvitationView> in
            let manager = try PeopleService.manager(context.tenant, actor: context.auditActor(request))
            let body = try await request.decodeJSON(as: NewInvitation.self, context: context)
            var errors: [Problem.FieldError] = []
            var email: EmailAddress?
            switch body.email.map({ EmailAddress.parse($0) }) {
            case .success(let parsed)?: email = parsed
            case .failure?: errors.append(.init(field: "email", message: "must be an email address such as name@example.com"))
            case nil: errors.append(.init(field: "email", message: "is required"))
            }
            let role = TenantRole(rawValue: body.role ?? TenantRole.member.rawValue)
            if role == nil { errors.append(.init(field: "role", message: UserRoutes.roleMessage)) }
            guard errors.isEmpty, let email, let role else { throw Problem.validation(errors) }
            let invitation = try await service.invite(email: email, role: role, by: manager)
            return EditedResponse(status: .created, response: InvitationView(invitation, now: services.now()))
        }
        group.post("invitations/{id}/resend") { request, context -> InvitationView in
            let manager = try PeopleService.manager(context.tenant, actor: context.auditActor(request))
            let id = try context.parameters.require("id")
            return InvitationView(try await service.resend(id: id, by: manager), now: services.now())
        }
        group.delete("invitations/{id}") { request, context -> HTTPResponse.Status in
            let manager = try PeopleService.manager(context.tenant, actor: context.auditActor(request))
            try await service.revoke(id: try context.parameters.require("id"), by: manager)
            return .noContent
        }
    }

    func addPublicRoutes(to router: Router<AppRequestContext>) {
        router.post("api/auth/invitations/preview") { request, context in
            try await perIP(context) {
                let input = try await request.decodeJSON(as: TokenRequest.self, context: context)
                let preview = try await service.preview(token: try Self.token(input))
                return try PreviewView(businessName: preview.businessName, email: preview.invitation.email,
                                       role: preview.invitation.role.rawValue, expiresAt: preview.invitation.expiresAt,
                                       existingAccount: preview.existingAccount).response(from: request, context: context)
            }
        }
        router.post("api/auth/invitations/accept") { request, context in
            try await perIP(context) {
                let input = try await request.decodeJSON(as: TokenRequest.self, context: context)
                if let session = input.session, session != "cookie", session != "body" {
                    throw Problem.validation(field: "session", "must be cookie or body")
                }
                if let password = input.password, password.count > PasswordPolicy.maximumLength {
                    throw Problem.validation(field: "password", "must be at most \(PasswordPolicy.maximumLength) characters")
                }
                // Optional: an existing login accepts signed in (its own sign-in checked any second factor).
                let signedIn = try await services.authenticator.authenticate(request)
                let user = try await service.accept(token: try Self.token(input), password: input.password, signedIn: signedIn,
                                                    actor: context.auditActor(request, principal: signedIn?.principal))
                let routes = AuthRoutes(services: services)
                let tokens = try await routes.signIn(user, request: request, context: context, proof: nil,
                                                     endingSession: signedIn?.sessionId)
                return input.session == "cookie" ? try routes.cookieResponse(tokens, request: request, context: context)
                    : try tokens.response(from: request, context: context)
            }
        }
    }

    private func perIP(_ context: AppRequestContext, _ body: () async throws -> Response) async throws -> Response {
        try await services.rateLimiter.limited(bucket: "ip:login:\(context.remoteIP ?? "unknown")", policy: services.loginPolicy, body)
    }

    static func token(_ input: TokenRequest) throws -> String {
        guard let token = input.token, !token.isEmpty else { throw Problem.validation(field: "token", "is required") }
        guard token.utf8.count <= 100 else { throw InvitationService.badToken }
        return token
    }
}
