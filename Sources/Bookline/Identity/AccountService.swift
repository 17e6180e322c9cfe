import BooklineCore
import Foundation
import Logging

/// A person's own login: change, forget and reset the password, verify the email address,
/// and list or end signed-in sessions. Each change is audited in its own transaction; mail
/// goes out after the commit, off the request path.
public struct AccountService: Sendable {
    let database: Database
    let users: UserStore
    let sessions: SessionStore
    let accountTokens: AccountTokenStore
    let hasher: PasswordHasher
    let decoyHash: String
    let audit: AuditLog
    let mailer: any AccountMailer
    let mail: AccountMailTemplates
    let baseURL: String
    let logger: Logger
    let now: @Sendable () -> Date

    static let wrongCurrentPassword = Problem(
        status: .forbidden, slug: "wrong-password", title: "Wrong password",
        detail: "The current password is not correct."
    )
    static let badResetToken = Problem(
        status: .unprocessableContent, slug: "invalid-token", title: "Link not valid",
        detail: "This link is not valid: it has expired, was already used, or a newer one was sent. Ask for a new one."
    )

    // MARK: Password

    /// Signed in, with the current password: sets the new one and signs out every other
    /// session (the caller's own, `keepingSession`, stays).
    public func changePassword(userId: String, current: String, new: String, keepingSession: String?,
                               actor: AuditActor) async throws {
        guard let user = try await users.find(id: userId) else { throw Problem.unauthorized("The access token is not valid or has expired.") }
        guard await hasher.verify(current, against: user.passwordHash) else { throw Self.wrongCurrentPassword }
        try Self.checkPolicy(new, email: user.email)
        let hash = try await hasher.hash(new)
        let moment = now()
        let revoked = try await database.transaction { db in
            try await users.setPassword(userId: userId, hash: hash, now: moment, on: db)
            let revoked = try await sessions.revoke(userId: userId, keeping: keepingSession, now: moment, on: db)
            try await accountTokens.revokeAll(userId: userId, now: moment, on: db)
            try await audit.append(AuditEntry(
                tenantId: user.tenantId, actor: actor, action: "user.password_changed", targetType: "user", targetId: userId,
                details: ["sessions_revoked": String(revoked.count)]
            ), on: db, now: moment)
            return revoked
        }
        await sessions.invalidate(revoked)
        deliver(.passwordChanged, to: user.email, values: ["how": "changed"])
    }

    /// Always the same answer and the same work on the request path whether or not the address
    /// has a login: the look-up, then (only for a real login, in the background) the token and
    /// the mail. `false` only tells tests nothing was sent.
    @discardableResult
    public func forgotPassword(email raw: String, actor: AuditActor) async throws -> Bool {
        guard case .success(let email) = EmailAddress.parse(raw), let user = try await users.find(email: email) else { return false }
        let moment = now()
        let service = self
        Task {
            do {
                let token = try await service.database.transaction { db in
                    let token = try await service.accountTokens.issue(.passwordReset, userId: user.id, tenantId: user.tenantId, now: moment, on: db)
                    try await service.audit.append(AuditEntry(
                        tenantId: user.tenantId, actor: actor, action: "user.password_reset_requested", targetType: "user", targetId: user.id
                    ), on: db, now: moment)
                    return token
                }
                await service.send(.passwordReset, to: user.email, values: ["link": service.link("reset-password", token)])
            } catch {
                service.logger.error("password reset not issued", metadata: ["error": "\(TransientError.kind(of: error))"])
            }
        }
        return true
    }

    /// Spends a reset link: the new password, every session and refresh token of the user ended.
    public func resetPassword(token: String, new: String, actor: AuditActor) async throws {
        // The password is checked before the link is spent, so a refused one does not burn it.
        guard let peeked = try await accountTokens.peek(token, .passwordReset, now: now()),
              let user = try await users.find(id: peeked.userId)
        else { throw Self.badResetToken }
        try Self.checkPolicy(new, email: user.email)
        let hash = try await hasher.hash(new)
        let moment = now()
        let revoked = try await database.transaction { db -> [String] in
            guard try await accountTokens.spend(token, .passwordReset, now: moment, on: db) != nil else { throw Self.badResetToken }
            try await users.setPassword(userId: user.id, hash: hash, now: moment, on: db)
            let revoked = try await sessions.revoke(userId: user.id, now: moment, on: db)
            try await accountTokens.revokeAll(userId: user.id, now: moment, on: db)
            // Whoever holds the inbox proved it: the address is verified too.
            try await users.markEmailVerified(userId: user.id, now: moment, on: db)
            try await audit.append(AuditEntry(
                tenantId: user.tenantId, actor: actor, action: "user.password_reset", targetType: "user", targetId: user.id,
                details: ["sessions_revoked": String(revoked.count)]
            ), on: db, now: moment)
            return revoked
        }
        await sessions.invalidate(revoked)
        await users.invalidate(user.id)
        deliver(.passwordChanged, to: user.email, values: ["how": "reset by email link"])
    }

    static func checkPolicy(_ password: String, email: String, field: String = "newPassword") throws {
        let context = [String(email.prefix { $0 != "@" })]
        switch PasswordPolicy.check(password, context: context) {
        case nil: return
        case .tooShort: throw Problem.validation(field: field, password.isEmpty ? "is required" : "must be at least \(PasswordPolicy.minimumLength) characters")
        case .tooLong: throw Problem.validation(field: field, "must be at most \(PasswordPolicy.maximumLength) characters")
        case .common: throw Problem.validation(field: field, "is too common or too easy to guess; choose another")
        }
    }

    // MARK: Email verification

    /// Sends (again) the link that verifies the user's address; nothing when already verified.
    public func sendVerification(userId: String, businessName: String?, actor: AuditActor) async throws {
        guard let user = try await users.find(id: userId), !user.emailVerified else { return }
        let moment = now()
        let token = try await database.transaction { db in
            let token = try await accountTokens.issue(.emailVerification, userId: user.id, tenantId: user.tenantId, now: moment, on: db)
            try await audit.append(AuditEntry(
                tenantId: user.tenantId, actor: actor, action: "user.email_verification_sent", targetType: "user", targetId: user.id
            ), on: db, now: moment)
            return token
        }
        var values = ["link": link("verify-email", token)]
        if let businessName { values["business"] = businessName }
        deliver(.emailVerification, to: user.email, values: values)
    }

    /// Spends a verification link. Mail held for the tenant's customers goes out from the
    /// sender's next sweep.
    public func verifyEmail(token: String, actor: AuditActor) async throws -> User {
        let moment = now()
        let userId = try await database.transaction { db -> String in
            guard let claim = try await accountTokens.spend(token, .emailVerification, now: moment, on: db) else { throw Self.badResetToken }
            try await users.markEmailVerified(userId: claim.userId, now: moment, on: db)
            try await audit.append(AuditEntry(
                tenantId: claim.tenantId, actor: actor, action: "user.email_verified", targetType: "user", targetId: claim.userId
            ), on: db, now: moment)
            return claim.userId
        }
        guard let user = try await users.find(id: userId) else { throw Self.badResetToken }
        return user
    }

    // MARK: Sessions

    public func sessions(userId: String) async throws -> [UserSession] {
        try await sessions.list(userId: userId, now: now())
    }

    /// Ends one session (404 when it is not the user's), or all of them when `id` is nil.
    public func revokeSessions(userId: String, tenantId: String?, id: String?, actor: AuditActor) async throws -> Int {
        let moment = now()
        let revoked = try await database.transaction { db -> [String] in
            let revoked = try await sessions.revoke(userId: userId, only: id, now: moment, on: db)
            if id != nil, revoked.isEmpty { throw Problem.notFound("No signed-in session with this id.") }
            try await audit.append(AuditEntry(
                tenantId: tenantId, actor: actor, action: id == nil ? "user.sessions_revoked" : "user.session_revoked",
                targetType: "session", targetId: id ?? userId, details: ["count": String(revoked.count)]
            ), on: db, now: moment)
            return revoked
        }
        await sessions.invalidate(revoked)
        return revoked.count
    }

    // MARK: Mail

    func link(_ page: String, _ token: String) -> String {
        "\(baseURL)/\(page)?token=\(token)"
    }

    /// Sends in the background, so a slow SMTP server never holds the request (or shows in its timing).
    func deliver(_ kind: AccountMail.Kind, to: String, values: [String: String]) {
        let service = self
        Task { await service.send(kind, to: to, values: values) }
    }

    /// Renders and sends, retrying a refused or failed hand-over after 2, 10 and 60 s.
    func send(_ kind: AccountMail.Kind, to: String, values: [String: String]) async {
        var values = values
        values["email"] = to
        let message: AccountMail
        do {
            message = try mail.render(kind, to: to, values: values)
        } catch {
            logger.error("account mail not rendered", metadata: ["kind": "\(kind.rawValue)"])
            return
        }
        for (attempt, wait) in [0, 2, 10, 60].enumerated() {
            if wait > 0 { try? await Task.sleep(for: .seconds(wait)) }
            do {
                try await mailer.send(message)
                return
            } catch {
                logger.warning("account mail not sent", metadata: [
                    "kind": "\(kind.rawValue)", "to": "\(MessageLog.mask(to))", "attempt": "\(attempt + 1)",
                    "error": "\(TransientError.kind(of: error))",
                ])
            }
        }
    }
}
