import BooklineCore
import Foundation
import Hummingbird

/// A person's own login over HTTP. Public (no credential, limited per IP): forgot and reset
/// the password, verify the email address. Signed in (a user's access token, tenant or
/// platform): change the password, resend verification, sessions, and the second factor.
struct AccountRoutes {
    let services: AppServices

    struct ForgotRequest: Decodable { var email: String? }
    struct ResetRequest: Decodable { var token: String?; var newPassword: String? }
    struct VerifyRequest: Decodable { var token: String? }
    struct ChangeRequest: Decodable { var currentPassword: String?; var newPassword: String? }
    struct CodeRequest: Decodable { var code: String?; var recoveryCode: String? }

    struct Accepted: ResponseEncodable {
        let status = "accepted"
        let detail: String
    }

    struct Verified: ResponseEncodable {
        let email: String
        let emailVerified = true
    }

    struct SessionView: ResponseEncodable {
        let id: String
        let userAgent: String?
        let ip: String?
        let createdAt: Date
        let lastSeenAt: Date
        let expiresAt: Date
        /// The session the request itself was made with.
        let current: Bool
    }

    struct SessionList: ResponseEncodable { let items: [SessionView] }
    struct Revoked: ResponseEncodable { let revoked: Int }

    struct MFAStatus: ResponseEncodable {
        let enabled: Bool
        let enabledAt: Date?
        let recoveryCodesLeft: Int
        /// The tenant requires it of everyone (always true for platform staff accounts).
        let required: Bool
    }

    struct RecoveryCodes: ResponseEncodable {
        let enabled = true
        /// Shown this once; each works one time instead of a code.
        let recoveryCodes: [String]
    }

    static let forgotAnswer = "If an account uses this address, an email with a reset link is on its way. The link is valid for 30 minutes."

    func addPublicRoutes(to router: Router<AppRequestContext>) {
        router.post("api/auth/password/forgot") { request, context -> Response in
            try await perIP(context) {
                let input = try await request.decodeJSON(as: ForgotRequest.self, context: context)
                let email = try Self.email(input.email)
                // Per address as well: nobody floods one inbox through many addresses of theirs.
                let flooding = (try? await services.rateLimiter.check(
                    bucket: "account:forgot:\(email.lookupKey)", policy: RateLimitPolicy(name: "forgot", limit: 5, window: 3600)
                )) == nil
                if !flooding {
                    try await services.accounts.forgotPassword(email: email.normalized, actor: context.auditActor(request, principal: nil))
                }
                return try EditedResponse(status: .accepted, response: Accepted(detail: Self.forgotAnswer))
                    .response(from: request, context: context)
            }
        }
        router.post("api/auth/password/reset") { request, context -> Response in
            try await perIP(context) {
                let input = try await request.decodeJSON(as: ResetRequest.self, context: context)
                let token = try Self.token(input.token)
                guard let password = input.newPassword, !password.isEmpty else { throw Problem.validation(field: "newPassword", "is required") }
                try await services.accounts.resetPassword(token: token, new: password, actor: context.auditActor(request, principal: nil))
                return Response(status: .noContent)
            }
        }
        router.post("api/auth/email/verify") { request, context -> Response in
            try await perIP(context) {
                let input = try await request.decodeJSON(as: VerifyRequest.self, context: context)
                let user = try await services.accounts.verifyEmail(token: try Self.token(input.token),
                                                                   actor: context.auditActor(request, principal: nil))
                return try Verified(email: user.email).response(from: request, context: context)
            }
        }
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("me/password") { request, context -> Response in
            let (auth, userId) = try Self.user(context)
            let input = try await request.decodeJSON(as: ChangeRequest.self, context: context)
            guard let current = input.currentPassword, !current.isEmpty else { throw Problem.validation(field: "currentPassword", "is required") }
            guard let new = input.newPassword, !new.isEmpty else { throw Problem.validation(field: "newPassword", "is required") }
            guard current.count <= PasswordPolicy.maximumLength else { throw Problem.validation(field: "currentPassword", "is too long") }
            try await services.accounts.changePassword(userId: userId, current: current, new: new, keepingSession: auth.sessionId,
                                                       actor: context.auditActor(request, principal: auth.principal))
            return Response(status: .noContent)
        }
        group.post("me/email/verification") { request, context -> Response in
            let (auth, userId) = try Self.user(context)
            return try await services.rateLimiter.limited(bucket: "account:verify:\(userId)", policy: RateLimitPolicy(name: "verify", limit: 5, window: 3600)) {
                let business = try await auth.tenantId.asyncMap { try await services.tenants.find(id: $0)?.businessName } ?? nil
                try await services.accounts.sendVerification(userId: userId, businessName: business,
                                                             actor: context.auditActor(request, principal: auth.principal))
                return try EditedResponse(status: .accepted, response: Accepted(detail: "If the address is not verified yet, a new link is on its way."))
                    .response(from: request, context: context)
            }
        }
        group.get("me/sessions") { _, context -> SessionList in
            let (auth, userId) = try Self.user(context)
            return SessionList(items: try await services.accounts.sessions(userId: userId).map {
                SessionView(id: $0.id, userAgent: $0.userAgent, ip: $0.ip, createdAt: $0.createdAt, lastSeenAt: $0.lastSeenAt,
                            expiresAt: $0.expiresAt, current: $0.id == auth.sessionId)
            })
        }
        group.delete("me/sessions") { request, context -> Revoked in
            let (auth, userId) = try Self.user(context)
            return Revoked(revoked: try await services.accounts.revokeSessions(
                userId: userId, tenantId: auth.tenantId, id: nil, actor: context.auditActor(request, principal: auth.principal)
            ))
        }
        group.delete("me/sessions/{id}") { request, context -> Response in
            let (auth, userId) = try Self.user(context)
            let id = try context.parameters.require("id")
            guard Identifier.isValid(id) else { throw Problem.notFound("No signed-in session with this id.") }
            _ = try await services.accounts.revokeSessions(userId: userId, tenantId: auth.tenantId, id: id,
                                                           actor: context.auditActor(request, principal: auth.principal))
            return Response(status: .noContent)
        }
        group.get("me/mfa") { _, context -> MFAStatus in
            let (auth, userId) = try Self.user(context)
            guard let user = try await services.users.find(id: userId) else { throw Problem.unauthorized("The access token is not valid or has expired.") }
            let required = try await auth.tenantId.asyncMap { try await services.tenants.requiresMFA($0) } ?? true
            return MFAStatus(enabled: user.mfaEnabled, enabledAt: user.totpEnabledAt,
                             recoveryCodesLeft: user.mfaEnabled ? (user.recoveryHashes?.split(separator: " ").count ?? 0) : 0,
                             required: required)
        }
        group.post("me/mfa/totp") { request, context -> Response in
            let (_, userId) = try Self.user(context)
            let enrolment = try await services.mfa.begin(userId: userId)
            var response = try EditedResponse(status: .created, response: EnrolmentView(enrolment)).response(from: request, context: context)
            response.headers[.cacheControl] = "no-store"
            return response
        }
        group.post("me/mfa/totp/confirm") { request, context -> Response in
            let (auth, userId) = try Self.user(context)
            let input = try await request.decodeJSON(as: CodeRequest.self, context: context)
            guard let code = input.code, !code.isEmpty else { throw Problem.validation(field: "code", "is required") }
            let codes = try await services.mfa.confirm(userId: userId, code: String(code.prefix(20)),
                                                       actor: context.auditActor(request, principal: auth.principal))
            var response = try RecoveryCodes(recoveryCodes: codes).response(from: request, context: context)
            response.headers[.cacheControl] = "no-store"
            return response
        }
        group.post("me/mfa/disable") { request, context -> Response in
            let (auth, userId) = try Self.user(context)
            let input = try await request.decodeJSON(as: CodeRequest.self, context: context)
            try await services.mfa.disable(userId: userId, code: input.code.map { String($0.prefix(20)) },
                                           recoveryCode: input.recoveryCode.map { String($0.prefix(40)) },
                                           actor: context.auditActor(request, principal: auth.principal))
            return Response(status: .noContent)
        }
    }

    struct EnrolmentView: ResponseEncodable {
        let secret: String
        let otpauthUri: String
        let detail = "Scan the URI (or type the secret) into an authenticator app, then confirm with its current code."
        init(_ enrolment: MFAService.Enrolment) {
            secret = enrolment.secret
            otpauthUri = enrolment.otpauthUri
        }
    }

    private func perIP(_ context: AppRequestContext, _ body: () async throws -> Response) async throws -> Response {
        try await services.rateLimiter.limited(bucket: "ip:login:\(context.remoteIP ?? "unknown")", policy: services.loginPolicy, body)
    }

    /// The signed-in user: account routes are a person's own, not an API key's.
    static func user(_ context: AppRequestContext) throws -> (Authentication, String) {
        guard let auth = context.auth else { throw Problem.missingCredential }
        guard auth.principal.kind == .user else {
            throw Problem.forbidden("This is a person's own account: sign in (POST /api/auth/login) and use the access token, not an API key.")
        }
        return (auth, auth.principal.id)
    }

    static func email(_ raw: String?) throws -> EmailAddress {
        guard let raw, !raw.isEmpty else { throw Problem.validation(field: "email", "is required") }
        guard raw.utf8.count <= 254, case .success(let email) = EmailAddress.parse(raw) else {
            throw Problem.validation(field: "email", "must be an email address such as name@example.com")
        }
        return email
    }

    static func token(_ raw: String?) throws -> String {
        guard let raw, !raw.isEmpty else { throw Problem.validation(field: "token", "is required") }
        guard raw.utf8.count <= 100 else { throw AccountService.badResetToken }
        return raw
    }
}
