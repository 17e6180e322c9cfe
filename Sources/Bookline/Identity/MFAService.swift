import BooklineCore
import Foundation

/// The second factor: TOTP enrolment (secret sealed at rest, confirmed by a first code), ten
/// single-use recovery codes (shown once, stored as SHA-256), the code check at sign-in (a
/// code is accepted once: its step is recorded), and disabling with a current or recovery code.
public struct MFAService: Sendable {
    static let issuer = "Bookline"
    static let recoveryCodeCount = 10

    let database: Database
    let users: UserStore
    let box: SecretBox
    let audit: AuditLog
    let now: @Sendable () -> Date

    public struct Enrolment: Sendable, Codable, Equatable {
        /// Base32, for typing into an app that cannot scan.
        public let secret: String
        public let otpauthUri: String
    }

    static let alreadyEnabled = Problem(
        status: .conflict, slug: "mfa-enabled", title: "Two-factor sign-in is already on",
        detail: "Turn it off first (with a current code) to enrol another authenticator."
    )
    static let notEnrolling = Problem(
        status: .conflict, slug: "mfa-not-enrolling", title: "No enrolment in progress",
        detail: "Start the enrolment first (POST /api/me/mfa/totp)."
    )
    static let wrongCode = Problem.validation(field: "code", "is not the current code of your authenticator, or was already used")

    /// Starts (or restarts) an enrolment: a new secret, not in force until `confirm`.
    public func begin(userId: String) async throws -> Enrolment {
        guard let user = try await users.find(id: userId) else { throw Problem.unauthorized("The access token is not valid or has expired.") }
        guard !user.mfaEnabled else { throw Self.alreadyEnabled }
        let totp = TOTP.generate()
        try await users.setPendingTOTP(userId: userId, sealedSecret: try box.seal(Data(totp.secret)), now: now())
        return Enrolment(secret: totp.base32Secret, otpauthUri: totp.provisioningURI(account: user.email, issuer: Self.issuer))
    }

    /// A first code from the authenticator puts it in force; returns the recovery codes (shown once).
    public func confirm(userId: String, code: String, actor: AuditActor) async throws -> [String] {
        guard let user = try await users.find(id: userId) else { throw Problem.unauthorized("The access token is not valid or has expired.") }
        guard !user.mfaEnabled else { throw Self.alreadyEnabled }
        guard let sealed = user.totpSecretSealed else { throw Self.notEnrolling }
        let moment = now()
        guard let step = try totp(sealed).matchingStep(code, at: moment) else { throw Self.wrongCode }
        let codes = (0..<Self.recoveryCodeCount).map { _ in Self.recoveryCode() }
        let hashes = codes.map { APIKeyFormat.sha256Hex(Self.normalise($0)) }.joined(separator: " ")
        try await database.transaction { db in
            guard try await users.enableTOTP(userId: userId, step: step, recoveryHashes: hashes, now: moment, on: db) else {
                throw Self.alreadyEnabled
            }
            try await audit.append(AuditEntry(
                tenantId: user.tenantId, actor: actor, action: "user.mfa_enabled", targetType: "user", targetId: userId
            ), on: db, now: moment)
        }
        await users.invalidate(userId)
        return codes
    }

    /// How a sign-in's second step was passed.
    public enum Proof: String, Sendable { case totp, recoveryCode = "recovery_code" }

    /// Checks a TOTP code or a recovery code and spends it; nil when neither matches (or the
    /// code was already used).
    public func verify(user: User, code: String?, recoveryCode: String?) async throws -> Proof? {
        let moment = now()
        if let code, let sealed = user.totpSecretSealed, user.mfaEnabled {
            guard let step = try totp(sealed).matchingStep(code, at: moment) else { return nil }
            return try await users.claimTOTPStep(userId: user.id, step: step, now: moment) ? .totp : nil
        }
        if let recoveryCode, let stored = user.recoveryHashes, user.mfaEnabled {
            let presented = APIKeyFormat.sha256Hex(Self.normalise(recoveryCode))
            let hashes = stored.split(separator: " ").map(String.init)
            // Every stored hash is compared, in constant time, whichever matches.
            let matches = hashes.map { constantTimeEquals($0, presented) }
            guard let index = matches.firstIndex(of: true) else { return nil }
            var remaining = hashes
            remaining.remove(at: index)
            return try await users.swapRecoveryHashes(userId: user.id, from: stored, to: remaining.joined(separator: " "), now: moment)
                ? .recoveryCode : nil
        }
        return nil
    }

    /// Turns the second factor off; needs a current code or a recovery code.
    public func disable(userId: String, code: String?, recoveryCode: String?, actor: AuditActor) async throws {
        guard let user = try await users.find(id: userId) else { throw Problem.unauthorized("The access token is not valid or has expired.") }
        guard user.mfaEnabled else { throw Problem(status: .conflict, slug: "mfa-not-enabled", title: "Two-factor sign-in is off") }
        guard code != nil || recoveryCode != nil else {
            throw Problem.validation(field: "code", "is required (or send recoveryCode)")
        }
        guard let proof = try await verify(user: user, code: code, recoveryCode: recoveryCode) else {
            throw recoveryCode != nil && code == nil
                ? Problem.validation(field: "recoveryCode", "is not one of your unused recovery codes") : Self.wrongCode
        }
        let moment = now()
        try await database.transaction { db in
            try await users.disableTOTP(userId: userId, now: moment, on: db)
            try await audit.append(AuditEntry(
                tenantId: user.tenantId, actor: actor, action: "user.mfa_disabled", targetType: "user", targetId: userId,
                details: ["proof": proof.rawValue]
            ), on: db, now: moment)
        }
        await users.invalidate(userId)
    }

    /// An owner's policy: everyone who signs in to the tenant needs a second factor. Those
    /// without one get tokens that reach only their account routes until they enrol.
    public func setTenantRequirement(tenants: TenantStore, tenantId: String, required: Bool, actor: AuditActor) async throws {
        let moment = now()
        try await database.transaction { db in
            try await tenants.setMFARequired(tenantId, required, now: moment, on: db)
            try await audit.append(AuditEntry(
                tenantId: tenantId, actor: actor, action: required ? "tenant.mfa_required" : "tenant.mfa_optional",
                targetType: "tenant", targetId: tenantId
            ), on: db, now: moment)
        }
    }

    private func totp(_ sealed: String) throws -> TOTP {
        TOTP(secret: Array(try box.open(sealed)))
    }

    /// `xxxxx-xxxxx` from 30 unambiguous lower-case letters and digits (49 bits).
    static func recoveryCode() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        let chars = (0..<10).map { _ in alphabet.randomElement(using: &generator)! }
        return String(chars[0..<5]) + "-" + String(chars[5...])
    }

    /// Case, spaces and dashes do not matter when a person types a recovery code.
    static func normalise(_ code: String) -> String {
        String(code.lowercased().filter { $0 != "-" && $0 != " " })
    }
}
