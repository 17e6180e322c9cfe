import BooklineCore
import Foundation
import SQLKit

/// Inviting people into a tenant. Owners and admins invite by email with a role (only owners
/// invite owners); the invitee accepts through the emailed link within 7 days, choosing a
/// password, or, when the address already signs in to Bookline, joining with that login
/// (signed in). Invitations can be resent (a new link, 7 more days) and revoked. Every step is
/// audited in its transaction; mail goes after the commit.
public struct InvitationService: Sendable {
    let database: Database
    let users: UserStore
    let invitations: InvitationStore
    let tenants: TenantStore
    let hasher: PasswordHasher
    let audit: AuditLog
    let accounts: AccountService
    let now: @Sendable () -> Date

    static let notFound = Problem.notFound("No invitation with this id in this account.")
    static let badToken = Problem(
        status: .unprocessableContent, slug: "invalid-token", title: "Invitation not valid",
        detail: "This invitation link is not valid: it has expired, was revoked or already accepted, or a newer one was sent. Ask for a new one."
    )
    static let alreadyMember = Problem(status: .conflict, slug: "already-member", title: "Already a member",
                                       detail: "This person is already a member of this account; change their role instead.")
    static let pendingExists = Problem(status: .conflict, slug: "invitation-pending", title: "Already invited",
                                       detail: "This address has a pending invitation; resend or revoke it instead.")
    static let signInToAccept = Problem(
        status: .conflict, slug: "sign-in-to-accept", title: "Sign in to accept",
        detail: "This address already signs in to Bookline: sign in with it, then accept the invitation with that access token."
    )

    /// What the invitation page shows before the invitee acts.
    public struct Preview: Sendable {
        public let invitation: Invitation
        public let businessName: String
        /// The address already signs in to Bookline: the invitee signs in to join.
        public let existingAccount: Bool
    }

    public func invite(email: EmailAddress, role: TenantRole, by manager: PeopleService.Manager) async throws -> Invitation {
        if role == .owner, manager.role != .owner { throw PeopleService.ownersOnly }
        let moment = now()
        let (invitation, token) = try await database.transaction { db in
            if let userId = try await users.userId(email: email, on: db),
               try await users.find(id: userId, in: manager.tenantId) != nil {
                throw Self.alreadyMember
            }
            if try await invitations.pending(tenantId: manager.tenantId, email: email, now: moment, on: db) != nil {
                throw Self.pendingExists
            }
            let made = try await invitations.create(tenantId: manager.tenantId, email: email, role: role,
                                                    invitedBy: manager.userId, now: moment, on: db)
            try await audit.append(AuditEntry(
                tenantId: manager.tenantId, actor: manager.actor, action: "invitation.created", targetType: "invitation",
                targetId: made.0.id, details: ["role": role.rawValue]
            ), on: db, now: moment)
            return made
        }
        try await mail(invitation, token: token, inviterId: manager.userId)
        return invitation
    }

    public func list(tenantId: String) async throws -> [Invitation] {
        try await invitations.list(tenantId: tenantId)
    }

    /// A new link (the old one stops working) and 7 more days.
    public func resend(id: String, by manager: PeopleService.Manager) async throws -> Invitation {
        let moment = now()
        let token = try await database.transaction { db -> String in
            let invitation = try await owned(id, by: manager, on: db)
            guard let token = try await invitations.renew(tenantId: manager.tenantId, id: id, now: moment, on: db) else {
                throw Self.closed(invitation.status(at: moment))
            }
            try await audit.append(AuditEntry(
                tenantId: manager.tenantId, actor: manager.actor, action: "invitation.resent", targetType: "invitation",
                targetId: id, details: ["role": invitation.role.rawValue]
            ), on: db, now: moment)
            return token
        }
        guard let invitation = try await invitations.find(tenantId: manager.tenantId, id: id) else { throw Self.notFound }
        try await mail(invitation, token: token, inviterId: manager.userId)
        return invitation
    }

    /// Revokes a pending (or expired) invitation: its link stops working at once.
    public func revoke(id: String, by manager: PeopleService.Manager) async throws {
        let moment = now()
        try await database.transaction { db in
            let invitation = try await owned(id, by: manager, on: db)
            if invitation.status(at: moment) == .revoked { return }
            guard try await invitations.revoke(tenantId: manager.tenantId, id: id, now: moment, on: db) else {
                throw Self.closed(invitation.status(at: moment))
            }
            try await audit.append(AuditEntry(
                tenantId: manager.tenantId, actor: manager.actor, action: "invitation.revoked", targetType: "invitation",
                targetId: id, details: ["role": invitation.role.rawValue]
            ), on: db, now: moment)
        }
    }

    public func preview(token: String) async throws -> Preview {
        guard let invitation = try await invitations.live(token: token, now: now()),
              let tenant = try await tenants.find(id: invitation.tenantId), tenant.status == .active
        else { throw Self.badToken }
        let email = try EmailAddress.parse(invitation.email).get()
        return Preview(invitation: invitation, businessName: tenant.businessName,
                       existingAccount: try await users.userId(email: email, on: database.sql) != nil)
    }

    /// Spends the link: a new login with `password`, or the signed-in login of the invited
    /// address joins. Returns the person as a member of the tenant, ready to be signed in.
    public func accept(token: String, password: String?, signedIn: Authentication?, actor: AuditActor) async throws -> User {
        let moment = now()
        let preview = try await preview(token: token)
        let invitation = preview.invitation
        let email = try EmailAddress.parse(invitation.email).get()
        let existing = try await users.userId(email: email, on: database.sql)
        let hash: String?
        if existing == nil {
            guard let password, !password.isEmpty else { throw Problem.validation(field: "password", "is required to create your login") }
            try AccountService.checkPolicy(password, email: invitation.email, field: "password")
            hash = try await hasher.hash(password)
        } else {
            guard let signedIn, signedIn.principal.kind == .user, signedIn.principal.id == existing else { throw Self.signInToAccept }
            guard signedIn.tenantId != nil else {
                throw Problem(status: .conflict, slug: "staff-account", title: "Staff login",
                              detail: "A platform staff login cannot join a business's account; invite another address.")
            }
            hash = nil
        }
        let userId: String
        do {
            userId = try await database.transaction { db -> String in
                let userId: String
                if let existing {
                    userId = existing
                    _ = try await users.join(tenantId: invitation.tenantId, userId: existing, role: invitation.role, now: moment, on: db)
                } else {
                    // The link reached the address, so the address is verified.
                    userId = try await users.create(tenantId: invitation.tenantId, email: email, passwordHash: hash!,
                                                    role: .tenant(invitation.role), verified: true, now: moment, on: db).id
                }
                guard try await invitations.accept(tenantId: invitation.tenantId, id: invitation.id, userId: userId, now: moment, on: db) else {
                    throw Self.badToken
                }
                var actor = actor
                actor.type = "user"
                actor.id = userId
                try await audit.append(AuditEntry(
                    tenantId: invitation.tenantId, actor: actor, action: "invitation.accepted", targetType: "invitation",
                    targetId: invitation.id, details: ["role": invitation.role.rawValue, "new_login": String(existing == nil)]
                ), on: db, now: moment)
                return userId
            }
        } catch where ConstraintViolation.isUnique(error) {
            throw Self.signInToAccept  // the address got a login meanwhile
        }
        await users.invalidate(userId)
        guard let user = try await users.find(id: userId, in: invitation.tenantId) else { throw Self.badToken }
        return user
    }

    // MARK: Helpers

    private func owned(_ id: String, by manager: PeopleService.Manager, on db: any SQLDatabase) async throws -> Invitation {
        guard Identifier.isValid(id), let invitation = try await invitations.find(tenantId: manager.tenantId, id: id, on: db) else {
            throw Self.notFound
        }
        if invitation.role == .owner, manager.role != .owner { throw PeopleService.ownersOnly }
        return invitation
    }

    static func closed(_ status: Invitation.Status) -> Problem {
        Problem(status: .conflict, slug: "invitation-\(status.rawValue)", title: "Invitation \(status.rawValue)",
                detail: "This invitation was already \(status.rawValue); invite the person again if needed.")
    }

    private func mail(_ invitation: Invitation, token: String, inviterId: String) async throws {
        let business = try await tenants.find(id: invitation.tenantId)?.businessName ?? "a business"
        let inviter = try await users.find(id: inviterId)?.email ?? "Someone"
        accounts.deliver(.invitation, to: invitation.email, values: [
            "link": accounts.link("invite", token), "business": business, "inviter": inviter, "role": invitation.role.rawValue,
        ])
    }
}
