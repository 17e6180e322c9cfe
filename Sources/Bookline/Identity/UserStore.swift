import BooklineCore
import Foundation
import SQLKit

public struct User: Sendable, Equatable {
    public let id: String
    public let tenantId: String?
    public let email: String
    public let passwordHash: String
    public let role: Role
    public let failedLogins: Int
    public let lockedUntil: Date?
    public let createdAt: Date
    public var emailVerifiedAt: Date? = nil
    /// Set once a first code confirmed the enrolment: from then on sign-in asks for a code.
    public var totpEnabledAt: Date? = nil
    public var totpSecretSealed: String? = nil
    public var totpLastStep: Int64? = nil
    /// SHA-256 hashes of the recovery codes not yet used, space-separated.
    public var recoveryHashes: String? = nil
    public var lastLoginAt: Date? = nil

    public var mfaEnabled: Bool { totpEnabledAt != nil }
    public var emailVerified: Bool { emailVerifiedAt != nil }
}

/// SQL for `users`: tenant owners and members, and platform staff (no tenant).
public struct UserStore: Sendable {
    let database: Database
    /// Whether a signed-in user still exists with the role their token claims, for 2 seconds:
    /// a removed user's access token stops working (on another instance within 2 s).
    private let standing = TTLCache<String, String>(ttl: 2)

    public init(database: Database) {
        self.database = database
    }

    /// True when the user is a member of `tenantId` with `role` (for staff: `tenantId` nil and
    /// their staff role).
    func isCurrent(id: String, tenantId: String?, role: Role, now: Date) async throws -> Bool {
        let key = "\(id):\(tenantId ?? "-")"
        if let cached = standing.value(for: key, now: now) { return cached == role.rawValue }
        let actual = try await find(id: id, in: tenantId)?.role.rawValue ?? "gone"
        standing.insert(actual, for: key, now: now)
        return actual == role.rawValue
    }

    /// Forgets a user's cached standing here and on every other instance; removing a user
    /// calls it.
    func invalidate(_ id: String) async {
        forget(id)
        await database.broadcast(.user(id: id))
    }

    /// Forgets a user's cached standing (in every workspace) on this instance only.
    func forget(_ id: String) {
        standing.removeAll(whereKey: { $0.hasPrefix(id + ":") })
    }

    func forgetAll() {
        standing.removeAll(whereKey: { _ in true })
    }

    /// `verified`: whether the address is known to reach this person (the CLI operator, a
    /// test); sign-ups and users an owner adds start unverified and get a link.
    public func create(tenantId: String?, email: EmailAddress, passwordHash: String, role: Role, verified: Bool, now: Date,
                       on db: (any SQLDatabase)? = nil) async throws -> User {
        var user = User(id: Identifier.make(now: now), tenantId: tenantId, email: email.normalized,
                        passwordHash: passwordHash, role: role, failedLogins: 0, lockedUntil: nil, createdAt: now)
        user.emailVerifiedAt = verified ? now : nil
        let insert: @Sendable (any SQLDatabase) async throws -> Void = { [user] db in
            try await db.raw("""
                INSERT INTO users (id, tenant_id, email, email_key, password_hash, role, failed_logins, created_at, updated_at,
                                   email_verified_at, password_changed_at)
                VALUES (\(bind: user.id), \(bind: tenantId), \(bind: user.email), \(bind: email.lookupKey),
                        \(bind: passwordHash), \(bind: Self.legacyRole(role)), 0, \(bind: now), \(bind: now),
                        \(bind: user.emailVerifiedAt), \(bind: now))
                """).run()
            if let tenantId { try await Self.addMembership(tenantId: tenantId, userId: user.id, role: role, now: now, on: db) }
        }
        if let db { try await insert(db) } else { try await database.transaction { try await insert($0) } }
        return user
    }

    /// users.role only carries 'owner' / 'member' for tenant people (memberships say the rest).
    static func legacyRole(_ role: Role) -> String {
        role.isPlatform || role == .owner ? role.rawValue : Role.member.rawValue
    }

    static func addMembership(tenantId: String, userId: String, role: Role, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO memberships (tenant_id, user_id, role, created_at, updated_at)
            VALUES (\(bind: tenantId), \(bind: userId), \(bind: role.rawValue), \(bind: now), \(bind: now))
            """).run()
    }

    /// A tenant person's new role; false when they are not in the tenant.
    func setRole(tenantId: String, userId: String, role: TenantRole, now: Date, on db: any SQLDatabase) async throws -> Bool {
        let changed = try await db.raw("""
            UPDATE memberships SET role = \(bind: role.rawValue), updated_at = \(bind: now)
            WHERE tenant_id = \(bind: tenantId) AND user_id = \(bind: userId) RETURNING user_id
            """).all()
        return !changed.isEmpty
    }

    /// How many owners the tenant has (it must always keep one).
    func ownerCount(tenantId: String, on db: any SQLDatabase) async throws -> Int {
        try await db.raw("""
            SELECT COUNT(*) AS n FROM memberships WHERE tenant_id = \(bind: tenantId) AND role = 'owner'
            """).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// The tenant's people (whatever their home workspace), oldest first.
    func members(tenantId: String) async throws -> [User] {
        try await database.sql.raw("""
            SELECT users.*, memberships.role AS member_role, memberships.tenant_id AS member_tenant
            FROM users JOIN memberships ON memberships.user_id = users.id
            WHERE memberships.tenant_id = \(bind: tenantId)
            ORDER BY memberships.created_at, users.id
            """).all().compactMap(Self.decode)
    }

    /// A person as seen from their default workspace: the last one they worked in, else their
    /// home, else the oldest membership, live tenants before suspended or deleted ones. Staff
    /// have no membership and read as themselves.
    static let defaultWorkspace = """
        SELECT users.*, memberships.role AS member_role, memberships.tenant_id AS member_tenant
        FROM users
        LEFT JOIN memberships ON memberships.user_id = users.id
        LEFT JOIN tenants ON tenants.id = memberships.tenant_id
        """
    static let defaultWorkspaceOrder = """
        ORDER BY CASE WHEN tenants.status = 'active' THEN 0 ELSE 1 END,
                 CASE WHEN memberships.tenant_id = users.last_tenant_id THEN 0 WHEN memberships.tenant_id = users.tenant_id THEN 1 ELSE 2 END,
                 memberships.created_at
        LIMIT 1
        """

    /// A new password (change or reset): clears any lockout.
    func setPassword(userId: String, hash: String, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE users SET password_hash = \(bind: hash), password_changed_at = \(bind: now), failed_logins = 0,
                             locked_until = NULL, updated_at = \(bind: now)
            WHERE id = \(bind: userId)
            """).run()
    }

    func markEmailVerified(userId: String, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE users SET email_verified_at = \(bind: now), updated_at = \(bind: now)
            WHERE id = \(bind: userId) AND email_verified_at IS NULL
            """).run()
    }

    /// Whether some owner of the tenant has a verified address (customer mail waits until one does).
    func tenantHasVerifiedOwner(_ tenantId: String, on db: (any SQLDatabase)? = nil) async throws -> Bool {
        try await (db ?? database.sql).raw("""
            SELECT users.id FROM users JOIN memberships ON memberships.user_id = users.id
            WHERE memberships.tenant_id = \(bind: tenantId) AND memberships.role = 'owner' AND users.email_verified_at IS NOT NULL LIMIT 1
            """).first() != nil
    }

    // MARK: Second factor

    /// Starts (or restarts) an enrolment: the secret is stored, not yet in force.
    func setPendingTOTP(userId: String, sealedSecret: String, now: Date) async throws {
        try await database.sql.raw("""
            UPDATE users SET totp_secret_sealed = \(bind: sealedSecret), updated_at = \(bind: now)
            WHERE id = \(bind: userId) AND totp_enabled_at IS NULL
            """).run()
    }

    /// Puts the pending secret in force with its recovery codes, and records the confirming step.
    func enableTOTP(userId: String, step: Int64, recoveryHashes: String, now: Date, on db: any SQLDatabase) async throws -> Bool {
        try await !db.raw("""
            UPDATE users SET totp_enabled_at = \(bind: now), totp_last_step = \(bind: step),
                             mfa_recovery_hashes = \(bind: recoveryHashes), updated_at = \(bind: now)
            WHERE id = \(bind: userId) AND totp_enabled_at IS NULL AND totp_secret_sealed IS NOT NULL RETURNING id
            """).all().isEmpty
    }

    /// Spends a TOTP step: false when this or a later step was already used (a replay).
    func claimTOTPStep(userId: String, step: Int64, now: Date, on db: (any SQLDatabase)? = nil) async throws -> Bool {
        try await !(db ?? database.sql).raw("""
            UPDATE users SET totp_last_step = \(bind: step), updated_at = \(bind: now)
            WHERE id = \(bind: userId) AND (totp_last_step IS NULL OR totp_last_step < \(bind: step)) RETURNING id
            """).all().isEmpty
    }

    /// Replaces the recovery-code hashes only if nobody changed them meanwhile (a code is spent once).
    func swapRecoveryHashes(userId: String, from old: String, to new: String, now: Date, on db: (any SQLDatabase)? = nil) async throws -> Bool {
        try await !(db ?? database.sql).raw("""
            UPDATE users SET mfa_recovery_hashes = \(bind: new), updated_at = \(bind: now)
            WHERE id = \(bind: userId) AND mfa_recovery_hashes = \(bind: old) RETURNING id
            """).all().isEmpty
    }

    func disableTOTP(userId: String, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE users SET totp_secret_sealed = NULL, totp_enabled_at = NULL, totp_last_step = NULL,
                             mfa_recovery_hashes = NULL, updated_at = \(bind: now)
            WHERE id = \(bind: userId)
            """).run()
    }

    /// The person in their default workspace (see `defaultWorkspace`); nil when there is no
    /// such login, or a tenant person no longer belongs to any tenant.
    public func find(email: EmailAddress) async throws -> User? {
        try await database.sql.raw("""
            \(unsafeRaw: Self.defaultWorkspace) WHERE users.email_key = \(bind: email.lookupKey) \(unsafeRaw: Self.defaultWorkspaceOrder)
            """).first().flatMap(Self.decode)
    }

    public func find(id: String) async throws -> User? {
        guard Identifier.isValid(id) else { return nil }
        return try await database.sql.raw("""
            \(unsafeRaw: Self.defaultWorkspace) WHERE users.id = \(bind: id) \(unsafeRaw: Self.defaultWorkspaceOrder)
            """).first().flatMap(Self.decode)
    }

    /// The person as a member of `tenantId` (their role there), or staff when `tenantId` is nil;
    /// nil when they are not.
    public func find(id: String, in tenantId: String?) async throws -> User? {
        guard Identifier.isValid(id) else { return nil }
        guard let tenantId else {
            return try await database.sql.raw("""
                SELECT users.*, NULL AS member_role, NULL AS member_tenant FROM users WHERE users.id = \(bind: id) AND users.tenant_id IS NULL
                """).first().flatMap(Self.decode)
        }
        return try await database.sql.raw("""
            SELECT users.*, memberships.role AS member_role, memberships.tenant_id AS member_tenant
            FROM users JOIN memberships ON memberships.user_id = users.id AND memberships.tenant_id = \(bind: tenantId)
            WHERE users.id = \(bind: id)
            """).first().flatMap(Self.decode)
    }

    public func emailExists(_ email: EmailAddress, on db: (any SQLDatabase)? = nil) async throws -> Bool {
        try await (db ?? database.sql).raw("SELECT id FROM users WHERE email_key = \(bind: email.lookupKey)").first() != nil
    }

    public func recordFailure(userId: String, lockedUntil: Date?, now: Date) async throws {
        try await database.sql.raw("""
            UPDATE users SET failed_logins = failed_logins + 1, locked_until = \(bind: lockedUntil), updated_at = \(bind: now)
            WHERE id = \(bind: userId)
            """).run()
    }

    public func recordSuccess(userId: String, newHash: String?, now: Date) async throws {
        if let newHash {
            try await database.sql.raw("UPDATE users SET password_hash = \(bind: newHash) WHERE id = \(bind: userId)").run()
        }
        try await database.sql.raw("""
            UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = \(bind: now), updated_at = \(bind: now)
            WHERE id = \(bind: userId)
            """).run()
    }

    /// A row of users joined with one membership (`member_role`, `member_tenant`): the user as
    /// a member of that tenant. A tenant person with no membership decodes to nil: their login
    /// opens nothing (and must never read as staff).
    static func decode(_ row: any SQLRow) throws -> User? {
        let home = try row.decode(column: "tenant_id", as: String?.self)
        let tenantId = try row.decode(column: "member_tenant", as: String?.self)
        guard home == nil || tenantId != nil else { return nil }
        let roleName = try row.decode(column: "member_role", as: String?.self) ?? row.decode(column: "role", as: String.self)
        return User(
            id: try row.decode(column: "id", as: String.self),
            tenantId: tenantId,
            email: try row.decode(column: "email", as: String.self),
            passwordHash: try row.decode(column: "password_hash", as: String.self),
            // An unknown word reads as the least a person of that kind may do.
            role: Role(rawValue: roleName, platform: tenantId == nil) ?? (tenantId == nil ? .compliance : .viewer),
            failedLogins: try row.decode(column: "failed_logins", as: Int.self),
            lockedUntil: try row.decode(column: "locked_until", as: Date?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            emailVerifiedAt: try row.decode(column: "email_verified_at", as: Date?.self),
            totpEnabledAt: try row.decode(column: "totp_enabled_at", as: Date?.self),
            totpSecretSealed: try row.decode(column: "totp_secret_sealed", as: String?.self),
            totpLastStep: try row.decode(column: "totp_last_step", as: Int64?.self),
            recoveryHashes: try row.decode(column: "mfa_recovery_hashes", as: String?.self),
            lastLoginAt: try row.decode(column: "last_login_at", as: Date?.self)
        )
    }
}
