import BooklineCore
import Foundation
import SQLKit

/// An invitation of a person, by email, into a tenant with a role.
public struct Invitation: Sendable, Equatable {
    public enum Status: String, Sendable { case pending, accepted, revoked, expired }

    public let id: String
    public let tenantId: String
    public let email: String
    public let role: TenantRole
    public let invitedBy: String?
    public let createdAt: Date
    public let sentAt: Date
    public let expiresAt: Date
    public let acceptedAt: Date?
    public let acceptedBy: String?
    public let revokedAt: Date?

    public func status(at now: Date) -> Status {
        if acceptedAt != nil { return .accepted }
        if revokedAt != nil { return .revoked }
        return expiresAt > now ? .pending : .expired
    }
}

/// SQL for `invitations`. The link's token (`bki_` + 43 base62, ~256 bits) is stored only as
/// its SHA-256; a resend replaces it, so only the newest link works.
struct InvitationStore: Sendable {
    static let lifetime: TimeInterval = 7 * 24 * 3600
    static let tokenPrefix = "bki_"
    let database: Database

    /// A new pending invitation and its link's token.
    func create(tenantId: String, email: EmailAddress, role: TenantRole, invitedBy: String?, now: Date,
                on db: any SQLDatabase) async throws -> (Invitation, token: String) {
        let token = AccountTokenStore.generate(prefix: Self.tokenPrefix)
        let invitation = Invitation(id: Identifier.make(now: now), tenantId: tenantId, email: email.normalized, role: role,
                                    invitedBy: invitedBy, createdAt: now, sentAt: now, expiresAt: now.addingTimeInterval(Self.lifetime),
                                    acceptedAt: nil, acceptedBy: nil, revokedAt: nil)
        try await db.raw("""
            INSERT INTO invitations (tenant_id, id, email, email_key, role, token_hash, invited_by, created_at, sent_at, expires_at)
            VALUES (\(bind: tenantId), \(bind: invitation.id), \(bind: invitation.email), \(bind: email.lookupKey),
                    \(bind: role.rawValue), \(bind: APIKeyFormat.sha256Hex(token)), \(bind: invitedBy), \(bind: now),
                    \(bind: now), \(bind: invitation.expiresAt))
            """).run()
        return (invitation, token)
    }

    /// The tenant's invitations, newest first.
    func list(tenantId: String) async throws -> [Invitation] {
        try await database.sql.raw("""
            SELECT * FROM invitations WHERE tenant_id = \(bind: tenantId) ORDER BY created_at DESC, id DESC LIMIT 500
            """).all().map(Self.decode)
    }

    func find(tenantId: String, id: String, on db: (any SQLDatabase)? = nil) async throws -> Invitation? {
        try await (db ?? database.sql).raw("""
            SELECT * FROM invitations WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)
            """).first().map(Self.decode)
    }

    /// The live (pending, unexpired) invitation of this address into the tenant, if any.
    func pending(tenantId: String, email: EmailAddress, now: Date, on db: any SQLDatabase) async throws -> Invitation? {
        try await db.raw("""
            SELECT * FROM invitations WHERE tenant_id = \(bind: tenantId) AND email_key = \(bind: email.lookupKey)
              AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > \(bind: now)
            """).first().map(Self.decode)
    }

    /// A new token and 7 more days for an invitation not yet accepted or revoked; nil otherwise.
    func renew(tenantId: String, id: String, now: Date, on db: any SQLDatabase) async throws -> String? {
        let token = AccountTokenStore.generate(prefix: Self.tokenPrefix)
        let renewed = try await db.raw("""
            UPDATE invitations SET token_hash = \(bind: APIKeyFormat.sha256Hex(token)), sent_at = \(bind: now),
                                   expires_at = \(bind: now.addingTimeInterval(Self.lifetime))
            WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id) AND accepted_at IS NULL AND revoked_at IS NULL
            RETURNING id
            """).all()
        return renewed.isEmpty ? nil : token
    }

    /// Revokes an invitation not yet accepted; false when it was accepted or already revoked.
    func revoke(tenantId: String, id: String, now: Date, on db: any SQLDatabase) async throws -> Bool {
        try await !db.raw("""
            UPDATE invitations SET revoked_at = \(bind: now)
            WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id) AND accepted_at IS NULL AND revoked_at IS NULL
            RETURNING id
            """).all().isEmpty
    }

    /// The live invitation a link's token opens (looked up by hash), nil for anything else.
    func live(token: String, now: Date, on db: (any SQLDatabase)? = nil) async throws -> Invitation? {
        guard AccountTokenStore.hasShape(token, prefix: Self.tokenPrefix) else { return nil }
        return try await (db ?? database.sql).raw("""
            SELECT * FROM invitations WHERE token_hash = \(bind: APIKeyFormat.sha256Hex(token))
              AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > \(bind: now)
            """).first().map(Self.decode)
    }

    /// Spends the invitation for `userId`; false when someone else spent it first, or it was
    /// revoked or expired meanwhile.
    func accept(tenantId: String, id: String, userId: String, now: Date, on db: any SQLDatabase) async throws -> Bool {
        try await !db.raw("""
            UPDATE invitations SET accepted_at = \(bind: now), accepted_by = \(bind: userId)
            WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)
              AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > \(bind: now)
            RETURNING id
            """).all().isEmpty
    }

    static func decode(_ row: any SQLRow) throws -> Invitation {
        Invitation(
            id: try row.decode(column: "id", as: String.self),
            tenantId: try row.decode(column: "tenant_id", as: String.self),
            email: try row.decode(column: "email", as: String.self),
            role: TenantRole(rawValue: try row.decode(column: "role", as: String.self)) ?? .viewer,
            invitedBy: try row.decode(column: "invited_by", as: String?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            sentAt: try row.decode(column: "sent_at", as: Date.self),
            expiresAt: try row.decode(column: "expires_at", as: Date.self),
            acceptedAt: try row.decode(column: "accepted_at", as: Date?.self),
            acceptedBy: try row.decode(column: "accepted_by", as: String?.self),
            revokedAt: try row.decode(column: "revoked_at", as: Date?.self)
        )
    }
}
