import BooklineCore
import Foundation
import HTTPTypes
import Hummingbird

/// Login, refresh, logout, API-key-for-token exchange and the JWKS.
struct AuthRoutes {
    static let maxFailuresBeforeLock = 5
    static let lockDuration: TimeInterval = 15 * 60
    static let badCredentials = Problem.unauthorized("The email or password is incorrect, or the account is temporarily locked.")
    /// Said only after the right password (or inside the MFA step), so it reveals nothing to
    /// someone guessing: a wrong password keeps getting `badCredentials`.
    static let lockedOut = Problem(
        status: .tooManyRequests, slug: "account-locked", title: "Account temporarily locked",
        detail: "Too many wrong codes or passwords. Wait 15 minutes, or reset your password by email."
    )

    let services: AppServices

    struct LoginRequest: Decodable {
        var email: String?
        var password: String?
        /// "cookie": the refresh token goes into an httpOnly cookie instead of the body (pages).
        var session: String?
    }

    /// The dashboard's refresh token: httpOnly (no script reads it), SameSite=Strict and scoped to
    /// /api/auth. Using it also needs the X-Requested-With header, which a cross-site form cannot
    /// send and a cross-origin script may only send to an allowed origin (CSRF).
    static let refreshCookie = "bookline_refresh"
    static let csrfHeader = HTTPField.Name("X-Requested-With")!

    func refreshCookie(_ token: String?) -> String {
        let secure = services.config.baseURL.hasPrefix("https://") ? "; Secure" : ""
        guard let token else { return "\(Self.refreshCookie)=; Path=/api/auth; HttpOnly; SameSite=Strict; Max-Age=0\(secure)" }
        return "\(Self.refreshCookie)=\(token); Path=/api/auth; HttpOnly; SameSite=Strict; Max-Age=\(Int(RefreshTokenStore.lifetime))\(secure)"
    }

    /// The refresh token from the cookie, when the request carries it with the CSRF header.
    func cookieToken(_ request: Request) throws -> String? {
        guard let value = request.cookies[Self.refreshCookie]?.value, !value.isEmpty else { return nil }
        guard request.headers[Self.csrfHeader]?.lowercased() == "bookline" else {
            throw Problem.forbidden("Cookie sessions need the header X-Requested-With: bookline.")
        }
        return value
    }

    /// Moves the refresh token out of the body into the cookie.
    func cookieResponse(_ tokens: TokenResponse, request: Request, context: AppRequestContext) throws -> Response {
        let body = TokenResponse(accessToken: tokens.accessToken, expiresIn: tokens.expiresIn, refreshToken: nil,
                                 refreshExpiresIn: tokens.refreshExpiresIn, scope: tokens.scope)
        var response = try body.response(from: request, context: context)
        response.headers[.setCookie] = refreshCookie(tokens.refreshToken)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    struct RefreshRequest: Decodable {
        var refreshToken: String?
    }

    struct TokenResponse: ResponseEncodable {
        let accessToken: String
        let tokenType = "Bearer"
        let expiresIn: Int
        let refreshToken: String?
        let refreshExpiresIn: Int?
        let scope: String
        /// The tenant requires a second factor this user has not enrolled: the token only
        /// reaches the user's own account routes until they enrol and sign in again.
        var mfaEnrolmentRequired: Bool? = nil
    }

    /// The password was right and the account has a second factor: the code comes next.
    struct MFAChallenge: ResponseEncodable {
        let mfaRequired = true
        let mfaToken: String
        let expiresIn: Int
        let methods = ["totp", "recovery_code"]
    }

    struct SecondStepRequest: Decodable {
        var mfaToken: String?
        var code: String?
        var recoveryCode: String?
        var session: String?
    }

    enum LoginOutcome {
        case signedIn(TokenResponse, cookie: Bool)
        case challenge(MFAChallenge)
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("api/auth/login") { request, context in
            try await services.rateLimiter.limited(bucket: "ip:login:\(context.remoteIP ?? "unknown")", policy: services.loginPolicy) {
                switch try await login(request, context: context) {
                case .challenge(let challenge):
                    return try challenge.response(from: request, context: context)
                case .signedIn(let tokens, let cookie):
                    return cookie ? try cookieResponse(tokens, request: request, context: context)
                        : try tokens.response(from: request, context: context)
                }
            }
        }
        router.post("api/auth/login/mfa") { request, context in
            try await services.rateLimiter.limited(bucket: "ip:login:\(context.remoteIP ?? "unknown")", policy: services.loginPolicy) {
                let (tokens, cookie) = try await secondStep(request, context: context)
                return cookie ? try cookieResponse(tokens, request: request, context: context)
                    : try tokens.response(from: request, context: context)
            }
        }
        router.post("api/auth/refresh") { request, context in
            if let token = try cookieToken(request) {
                do {
                    return try cookieResponse(try await refresh(token, request: request, context: context), request: request, context: context)
                } catch let problem as Problem where problem.status == .unauthorized {
                    // A spent or revoked cookie is cleared, so the page shows its sign-in form.
                    var response = problem.response(requestId: context.requestId)
                    response.headers[.setCookie] = refreshCookie(nil)
                    return response
                }
            }
            return try await refresh(request, context: context).response(from: request, context: context)
        }
        router.post("api/auth/logout") { request, context in
            if let token = try cookieToken(request) {
                try await services.refreshTokens.revokeFamily(of: token, now: services.now())
                return Response(status: .noContent, headers: [.setCookie: refreshCookie(nil)])
            }
            return Response(status: try await logout(request, context: context))
        }
        router.post("api/auth/token") { request, context in
            // No credential at all is a plain 401: it costs nothing, so it is not counted.
            guard try Authenticator.credential(in: request) != nil else {
                throw Problem.unauthorized("Send an API key as Authorization: Bearer <key>.")
            }
            return try await perIP(request, context) { try await token(request, context: context) }
        }
        router.get(".well-known/jwks.json") { _, _ in
            services.tokens.jwks()
        }
    }

    /// Login and token requests share one per-IP budget: they run before any credential is trusted.
    private func perIP(_ request: Request, _ context: AppRequestContext,
                       _ body: () async throws -> TokenResponse) async throws -> Response {
        try await services.rateLimiter.limited(bucket: "ip:login:\(context.remoteIP ?? "unknown")", policy: services.loginPolicy) {
            try await body().response(from: request, context: context)
        }
    }

    func login(_ request: Request, context: AppRequestContext) async throws -> LoginOutcome {
        let now = services.now()
        let input = try await request.decodeJSON(as: LoginRequest.self, context: context)
        if let session = input.session, session != "cookie", session != "body" {
            throw Problem.validation(field: "session", "must be cookie or body")
        }
        guard let rawEmail = input.email, !rawEmail.isEmpty, let password = input.password, !password.isEmpty else {
            throw Problem.validation(
                [("email", input.email), ("password", input.password)]
                    .filter { $0.1?.isEmpty ?? true }.map { .init(field: $0.0, message: "is required") }
            )
        }
        guard rawEmail.utf8.count <= 254, password.count <= PasswordPolicy.maximumLength else {
            throw Problem.validation(
                [("email", rawEmail.utf8.count > 254), ("password", password.count > PasswordPolicy.maximumLength)]
                    .filter(\.1).map { .init(field: $0.0, message: "is too long") }
            )
        }
        guard case .success(let email) = EmailAddress.parse(rawEmail), let user = try await services.users.find(email: email) else {
            // Same work as a real check, so timing does not reveal which emails exist.
            _ = await services.hasher.verify(password, against: services.decoyHash)
            throw Self.badCredentials
        }
        let locked = user.lockedUntil.map { $0 > now } ?? false
        let matches = await services.hasher.verify(password, against: user.passwordHash)
        let actor = context.auditActor(request, principal: Principal(kind: .user, id: user.id, role: user.role))
        guard matches, !locked else {
            let failures = user.failedLogins + 1
            let lockUntil = failures >= Self.maxFailuresBeforeLock ? now.addingTimeInterval(Self.lockDuration) : user.lockedUntil
            try await services.users.recordFailure(userId: user.id, lockedUntil: lockUntil, now: now)
            try await services.database.transaction { db in
                try await services.audit.append(AuditEntry(
                    tenantId: user.tenantId, actor: actor, action: "auth.login_failed", targetType: "user", targetId: user.id,
                    details: ["reason": locked ? "locked" : "bad_password", "failures": String(failures)]
                ), on: db, now: now)
                if !locked, failures == Self.maxFailuresBeforeLock {
                    try await services.audit.append(AuditEntry(
                        tenantId: user.tenantId, actor: actor, action: "auth.account_locked", targetType: "user", targetId: user.id,
                        details: ["minutes": String(Int(Self.lockDuration / 60))]
                    ), on: db, now: now)
                }
            }
            // Only someone who knows the password learns that the lock is why.
            throw matches && locked ? Self.lockedOut : Self.badCredentials
        }
        let rehash = services.hasher.needsRehash(user.passwordHash) ? try await services.hasher.hash(password) : nil
        if user.mfaEnabled {
            // The password is right, but the sign-in completes only with a code: failures of
            // that step count towards the same lock as wrong passwords.
            if let rehash { try await services.users.recordSuccess(userId: user.id, newHash: rehash, now: now) }
            let challenge = try await services.database.transaction { db in
                try await services.accountTokens.issue(.mfaChallenge, userId: user.id, tenantId: user.tenantId, now: now, on: db)
            }
            return .challenge(MFAChallenge(mfaToken: challenge, expiresIn: Int(AccountTokenStore.Purpose.mfaChallenge.lifetime)))
        }
        try await services.users.recordSuccess(userId: user.id, newHash: rehash, now: now)
        return .signedIn(try await signIn(user, request: request, context: context, proof: nil), cookie: input.session == "cookie")
    }

    /// The second step of an MFA sign-in: the challenge from the first, and a TOTP code or a
    /// recovery code. A wrong code counts as a failed sign-in (five lock the account).
    func secondStep(_ request: Request, context: AppRequestContext) async throws -> (TokenResponse, cookie: Bool) {
        let now = services.now()
        let input = try await request.decodeJSON(as: SecondStepRequest.self, context: context)
        if let session = input.session, session != "cookie", session != "body" {
            throw Problem.validation(field: "session", "must be cookie or body")
        }
        guard let token = input.mfaToken, !token.isEmpty else { throw Problem.validation(field: "mfaToken", "is required") }
        guard (input.code ?? input.recoveryCode).map({ !$0.isEmpty }) ?? false else {
            throw Problem.validation(field: "code", "is required (or send recoveryCode)")
        }
        guard token.utf8.count <= 100, (input.code?.utf8.count ?? 0) <= 20, (input.recoveryCode?.utf8.count ?? 0) <= 40 else {
            throw Problem.validation(field: "code", "is too long")
        }
        let expired = Problem.unauthorized("The sign-in step has expired or was already used; sign in again with your password.")
        guard let claim = try await services.accountTokens.peek(token, .mfaChallenge, now: now),
              let user = try await services.users.find(id: claim.userId)
        else { throw expired }
        let actor = context.auditActor(request, principal: Principal(kind: .user, id: user.id, role: user.role))
        let locked = user.lockedUntil.map { $0 > now } ?? false
        let proof = locked ? nil : try await services.mfa.verify(user: user, code: input.code, recoveryCode: input.recoveryCode)
        guard let proof else {
            let failures = user.failedLogins + 1
            let lockUntil = failures >= Self.maxFailuresBeforeLock ? now.addingTimeInterval(Self.lockDuration) : user.lockedUntil
            try await services.users.recordFailure(userId: user.id, lockedUntil: lockUntil, now: now)
            try await services.database.transaction { db in
                try await services.audit.append(AuditEntry(
                    tenantId: user.tenantId, actor: actor, action: "auth.mfa_failed", targetType: "user", targetId: user.id,
                    details: ["reason": locked ? "locked" : "wrong_code", "failures": String(failures)]
                ), on: db, now: now)
            }
            if locked || lockUntil.map({ $0 > now }) ?? false { throw Self.lockedOut }
            throw Problem.unauthorized("The code is not correct, or was already used.")
        }
        let spent = try await services.database.transaction { db in
            try await services.accountTokens.spend(token, .mfaChallenge, now: now, on: db)
        }
        guard spent != nil else { throw expired }
        try await services.users.recordSuccess(userId: user.id, newHash: nil, now: now)
        return (try await signIn(user, request: request, context: context, proof: proof), input.session == "cookie")
    }

    /// A completed sign-in: its session (device, address), the audit entry, the tokens. The
    /// user's tenant is the workspace signed in to, opened again by the next sign-in. A
    /// workspace switch ends the session it came from (`endingSession`) in the same step.
    func signIn(_ user: User, request: Request, context: AppRequestContext, proof: MFAService.Proof?,
                action: String = "auth.login", endingSession: String? = nil) async throws -> TokenResponse {
        let now = services.now()
        let actor = context.auditActor(request, principal: Principal(kind: .user, id: user.id, role: user.role))
        let sessionId = Identifier.make(now: now)
        // Before anything is written: a suspended or deleted workspace is refused.
        if let tenantId = user.tenantId, let tenant = try await services.tenants.find(id: tenantId), tenant.status != .active {
            throw Problem.forbidden("This account is \(tenant.status.rawValue).")
        }
        let (refresh, ended) = try await services.database.transaction { db in
            let ended = try await endingSession.asyncMap {
                try await services.sessions.revoke(userId: user.id, only: $0, now: now, on: db)
            } ?? []
            try await services.sessions.create(id: sessionId, userId: user.id, tenantId: user.tenantId,
                                               userAgent: request.headers[.userAgent], ip: context.remoteIP, now: now, on: db)
            if let tenantId = user.tenantId { try await services.users.setLastTenant(userId: user.id, tenantId: tenantId, now: now, on: db) }
            try await services.audit.append(AuditEntry(
                tenantId: user.tenantId, actor: actor, action: action, targetType: "user", targetId: user.id,
                details: ["session_id": sessionId, "mfa": proof?.rawValue ?? (endingSession == nil ? "none" : "kept")]
            ), on: db, now: now)
            return (try await services.refreshTokens.issue(userId: user.id, tenantId: user.tenantId, familyId: sessionId, now: now, on: db), ended)
        }
        await services.sessions.invalidate(ended)
        return try await tokens(for: user, refreshToken: refresh, sessionId: sessionId)
    }

    func refresh(_ request: Request, context: AppRequestContext) async throws -> TokenResponse {
        // The body is optional (a cookie session sends none), so an empty one is "no token".
        let input = try await request.decodeJSON(as: RefreshRequest.self, context: context, ifEmpty: RefreshRequest())
        guard let presented = input.refreshToken, !presented.isEmpty else {
            throw Problem.validation(field: "refreshToken", "is required")
        }
        return try await refresh(presented, request: request, context: context)
    }

    func refresh(_ presented: String, request: Request, context: AppRequestContext) async throws -> TokenResponse {
        guard presented.utf8.count <= 256 else { throw Problem.validation(field: "refreshToken", "is too long") }
        let now = services.now()
        switch try await services.refreshTokens.rotate(presented, now: now) {
        case .invalid:
            throw Problem.unauthorized("The refresh token is not valid or has expired.")
        case .reused(let userId, let family):
            let user = try await services.users.find(id: userId)
            try await services.database.transaction { db in
                try await services.audit.append(AuditEntry(
                    tenantId: user?.tenantId, actor: context.auditActor(request, principal: nil),
                    action: "auth.token_family_revoked", targetType: "user", targetId: userId,
                    details: ["reason": "refresh_token_reused", "family_id": family]
                ), on: db, now: now)
            }
            throw Problem.unauthorized("The refresh token was already used; every session from that sign-in is now signed out.")
        case .rotated(let userId, let tenantId, let family, let next):
            // The session's workspace: a person removed from it is signed out of it.
            guard let user = try await services.users.find(id: userId, in: tenantId) else {
                throw Problem.unauthorized("The refresh token is not valid or has expired.")
            }
            try await services.sessions.touch(id: family, userId: user.id, tenantId: user.tenantId, now: now)
            return try await tokens(for: user, refreshToken: next, sessionId: family)
        }
    }

    func logout(_ request: Request, context: AppRequestContext) async throws -> HTTPResponse.Status {
        // The body is optional (a cookie session sends none), so an empty one is "no token".
        let input = try await request.decodeJSON(as: RefreshRequest.self, context: context, ifEmpty: RefreshRequest())
        guard let presented = input.refreshToken, !presented.isEmpty else {
            throw Problem.validation(field: "refreshToken", "is required")
        }
        guard presented.utf8.count <= 256 else { throw Problem.validation(field: "refreshToken", "is too long") }
        try await services.refreshTokens.revokeFamily(of: presented, now: services.now())
        return .noContent
    }

    /// Client-credentials style: an API key in the Authorization header buys a short-lived JWT.
    @Sendable func token(_ request: Request, context: AppRequestContext) async throws -> TokenResponse {
        guard let credential = try Authenticator.credential(in: request), let key = APIKeyFormat.parse(credential) else {
            throw Problem.unauthorized("Send an API key as Authorization: Bearer <key>.")
        }
        let auth = try await services.authenticator.authenticate(apiKey: key)
        guard let tenantId = auth.tenantId, let tenant = try await services.tenants.find(id: tenantId), tenant.status == .active else {
            throw Problem.forbidden("This account is not active.")
        }
        let issued = try await services.tokens.issue(
            subject: auth.principal.id, subjectType: .apiKey, tenantId: tenantId, role: nil, scopes: auth.scopes
        )
        return TokenResponse(accessToken: issued.token, expiresIn: issued.expiresIn, refreshToken: nil,
                             refreshExpiresIn: nil, scope: auth.scopes.sorted().joined(separator: " "))
    }

    private func tokens(for user: User, refreshToken: String, sessionId: String) async throws -> TokenResponse {
        var mfaPending = false
        if let tenantId = user.tenantId, let tenant = try await services.tenants.find(id: tenantId) {
            guard tenant.status == .active else { throw Problem.forbidden("This account is \(tenant.status.rawValue).") }
            if !user.mfaEnabled { mfaPending = try await services.tenants.requiresMFA(tenantId) }
        }
        let scopes = Scope.granted(to: user.role)
        let issued = try await services.tokens.issue(
            subject: user.id, subjectType: .user, tenantId: user.tenantId, role: user.role, scopes: scopes,
            sessionId: sessionId, mfaPending: mfaPending
        )
        return TokenResponse(
            accessToken: issued.token, expiresIn: issued.expiresIn, refreshToken: refreshToken,
            refreshExpiresIn: Int(RefreshTokenStore.lifetime), scope: scopes.sorted().joined(separator: " "),
            mfaEnrolmentRequired: mfaPending ? true : nil
        )
    }
}

extension JWKSDocument: ResponseEncodable {}
