@testable import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Two-factor sign-in (TOTP)")
struct MFATests {
    struct Enrolment: Decodable { let secret: String; let otpauthUri: String }
    struct Codes: Decodable { let recoveryCodes: [String] }
    struct Status: Decodable { let enabled: Bool; let recoveryCodesLeft: Int; let required: Bool }

    /// Enrols the owner's authenticator; returns it and the recovery codes.
    static func enrol(_ client: any TestClientProtocol, token: String, at clock: TestClock) async throws -> (TOTP, [String]) {
        let started = try await client.request(.post, "/api/me/mfa/totp", key: token)
        #expect(started.status == .created)
        #expect(started.headers[.cacheControl] == "no-store")
        let enrolment = try started.decode(Enrolment.self)
        let totp = TOTP(secret: try #require(Base32.decode(enrolment.secret)))
        let confirmed = try await client.request(.post, "/api/me/mfa/totp/confirm", key: token,
                                                 json: #"{"code": "\#(totp.code(at: clock.now))"}"#)
        #expect(confirmed.status == .ok, "\(confirmed.text)")
        return (totp, try confirmed.decode(Codes.self).recoveryCodes)
    }

    static func secondStep(_ client: any TestClientProtocol, _ challenge: String, code: String? = nil, recovery: String? = nil) async throws -> TestResponse {
        var body = #"{"mfaToken": "\#(challenge)""#
        if let code { body += #", "code": "\#(code)""# }
        if let recovery { body += #", "recoveryCode": "\#(recovery)""# }
        return try await client.request(.post, "/api/auth/login/mfa", json: body + "}")
    }

    @Test func enrolmentThenEverySignInNeedsAFreshCode() async throws {
        let clock = TestClock()
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let first = try await client.tokens(tenant.ownerEmail, tenant.ownerPassword)

            let begun = try await client.request(.post, "/api/me/mfa/totp", key: first.accessToken).decode(Enrolment.self)
            #expect(begun.otpauthUri.hasPrefix("otpauth://totp/Bookline%3A"))
            #expect(begun.otpauthUri.contains("secret=\(begun.secret)") && begun.otpauthUri.contains("issuer=Bookline"))
            #expect(begun.secret.count == 32, "160 bits in base32")
            let wrong = try await client.request(.post, "/api/me/mfa/totp/confirm", key: first.accessToken, json: #"{"code": "000000"}"#)
            #expect(try wrong.decode(ProblemBody.self).fields == ["code"])
            #expect(try await client.request(.get, "/api/me/mfa", key: first.accessToken).decode(Status.self).enabled == false)

            let (totp, recovery) = try await Self.enrol(client, token: first.accessToken, at: clock)
            #expect(recovery.count == 10 && Set(recovery).count == 10)
            let stored = try await services.database.sql.raw("SELECT totp_secret_sealed, mfa_recovery_hashes FROM users").all()
            let sealedColumns = try stored.map { try $0.decode(column: "totp_secret_sealed", as: String?.self) ?? "" }.joined()
            #expect(!sealedColumns.contains(Base32.encode(totp.secret)), "the secret is sealed at rest")
            let hashes = try stored.map { try $0.decode(column: "mfa_recovery_hashes", as: String?.self) ?? "" }.joined()
            #expect(!recovery.contains { hashes.contains($0) }, "recovery codes are stored hashed")
            let again = try await client.request(.post, "/api/me/mfa/totp", key: first.accessToken)
            #expect(again.status == .conflict)

            // The password alone no longer signs in.
            let challenge = try await client.signIn(tenant.ownerEmail, tenant.ownerPassword).decode(Challenge.self)
            #expect(challenge.mfaRequired && challenge.expiresIn == 300)
            #expect(try await Self.secondStep(client, challenge.mfaToken, code: "123456").status == .unauthorized)
            // The code used to confirm the enrolment cannot be replayed.
            #expect(try await Self.secondStep(client, challenge.mfaToken, code: totp.code(at: clock.now)).status == .unauthorized)
            clock.advance(by: 30)
            let code = totp.code(at: clock.now)
            let signedIn = try await Self.secondStep(client, challenge.mfaToken, code: code)
            #expect(signedIn.status == .ok, "\(signedIn.text)")
            let tokens = try signedIn.decode(Tokens.self)
            #expect(try await client.request(.get, "/api/me", key: tokens.accessToken).decode(MeAccount.self).account?.mfaEnabled == true)
            #expect(try await Self.secondStep(client, challenge.mfaToken, code: code).status == .unauthorized, "the challenge is spent")

            let replay = try await client.signIn(tenant.ownerEmail, tenant.ownerPassword).decode(Challenge.self)
            #expect(try await Self.secondStep(client, replay.mfaToken, code: code).status == .unauthorized, "a code works once")
            let viaRecovery = try await Self.secondStep(client, replay.mfaToken, recovery: recovery[0].uppercased())
            #expect(viaRecovery.status == .ok, "recovery codes ignore case: \(viaRecovery.text)")
            let reuse = try await client.signIn(tenant.ownerEmail, tenant.ownerPassword).decode(Challenge.self)
            #expect(try await Self.secondStep(client, reuse.mfaToken, recovery: recovery[0]).status == .unauthorized, "once only")
            #expect(try await client.request(.get, "/api/me/mfa", key: tokens.accessToken).decode(Status.self).recoveryCodesLeft == 9)

            // A challenge expires after 5 minutes.
            clock.advance(by: 301)
            #expect(try await Self.secondStep(client, reuse.mfaToken, code: totp.code(at: clock.now)).status == .unauthorized)
            #expect(try await Self.secondStep(client, "bka_forged", code: "123456").status == .unauthorized)
            let missing = try await client.request(.post, "/api/auth/login/mfa", json: #"{"mfaToken": "x"}"#)
            #expect(try missing.decode(ProblemBody.self).fields == ["code"])
        }
    }

    @Test func disablingNeedsACurrentCodeOrARecoveryCode() async throws {
        let clock = TestClock()
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let session = try await client.tokens(tenant.ownerEmail, tenant.ownerPassword)
            let (totp, recovery) = try await Self.enrol(client, token: session.accessToken, at: clock)
            let none = try await client.request(.post, "/api/me/mfa/disable", key: session.accessToken, json: "{}")
            #expect(none.status == .unprocessableContent)
            let wrong = try await client.request(.post, "/api/me/mfa/disable", key: session.accessToken, json: #"{"recoveryCode": "aaaaa-bbbbb"}"#)
            #expect(try wrong.decode(ProblemBody.self).fields == ["recoveryCode"])
            clock.advance(by: 30)
            let off = try await client.request(.post, "/api/me/mfa/disable", key: session.accessToken,
                                               json: #"{"code": "\#(totp.code(at: clock.now))"}"#)
            #expect(off.status == .noContent)
            #expect(try await client.signIn(tenant.ownerEmail, tenant.ownerPassword).decode(Tokens.self).accessToken.isEmpty == false)
            #expect(!recovery.isEmpty)
            let actions = try await services.database.sql.raw("SELECT action, details FROM audit_log WHERE action LIKE 'user.mfa%' ORDER BY seq")
                .all().map { try $0.decode(column: "action", as: String.self) }
            #expect(actions == ["user.mfa_enabled", "user.mfa_disabled"])
        }
    }

    @Test func wrongCodesCountTowardsTheLock() async throws {
        let clock = TestClock()
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let session = try await client.tokens(tenant.ownerEmail, tenant.ownerPassword)
            let (totp, _) = try await Self.enrol(client, token: session.accessToken, at: clock)
            let challenge = try await client.signIn(tenant.ownerEmail, tenant.ownerPassword).decode(Challenge.self)
            for _ in 0..<4 { #expect(try await Self.secondStep(client, challenge.mfaToken, code: "000001").status == .unauthorized) }
            let fifth = try await Self.secondStep(client, challenge.mfaToken, code: "000001")
            #expect(fifth.status == .tooManyRequests)
            clock.advance(by: 30)
            let locked = try await Self.secondStep(client, challenge.mfaToken, code: totp.code(at: clock.now))
            #expect(locked.status == .tooManyRequests, "even the right code waits out the lock")
        }
    }

    @Test func anOwnerCanRequireItOfEveryoneAndTheUnenrolledCanOnlyEnrol() async throws {
        let clock = TestClock()
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let owner = try await client.tokens(tenant.ownerEmail, tenant.ownerPassword)
            _ = try await services.users.create(
                tenantId: tenant.id, email: try EmailAddress.parse("member@smile.example").get(),
                passwordHash: try await services.hasher.hash("member-password-123"), role: .member, verified: true, now: clock.now
            )
            let member = try await client.tokens("member@smile.example", "member-password-123")
            let byMember = try await client.request(.put, "/api/tenant/security", key: member.accessToken, json: #"{"mfaRequired": true}"#)
            #expect(byMember.status == .forbidden)
            let byKey = try await client.request(.put, "/api/tenant/security", key: tenant.key, json: #"{"mfaRequired": true}"#)
            #expect(byKey.status == .forbidden)
            let badType = try await client.request(.put, "/api/tenant/security", key: owner.accessToken, json: #"{"mfaRequired": "yes"}"#)
            #expect(badType.status == .badRequest)
            let required = try await client.request(.put, "/api/tenant/security", key: owner.accessToken, json: #"{"mfaRequired": true}"#)
            #expect(try required.decode([String: Bool].self) == ["mfaRequired": true])

            let pending = try await client.tokens("member@smile.example", "member-password-123")
            #expect(pending.mfaEnrolmentRequired == true)
            let leads = try await client.request(.get, "/api/leads", key: pending.accessToken)
            #expect(leads.status == .forbidden)
            #expect(try leads.decode(ProblemBody.self).type.hasSuffix("mfa-enrolment-required"))
            let me = try await client.request(.get, "/api/me", key: pending.accessToken).decode(MeAccount.self)
            #expect(me.account?.mfaEnrolmentRequired == true)
            #expect(try await client.request(.get, "/api/me/mfa", key: pending.accessToken).decode(Status.self).required)
            _ = try await Self.enrol(client, token: pending.accessToken, at: clock)
            clock.advance(by: 30)
            let challenge = try await client.signIn("member@smile.example", "member-password-123").decode(Challenge.self)
            let memberUser = try #require(try await services.users.find(email: EmailAddress.parse("member@smile.example").get()))
            let memberTOTP = TOTP(secret: Array(try services.box.open(try #require(memberUser.totpSecretSealed))))
            let full = try await Self.secondStep(client, challenge.mfaToken, code: memberTOTP.code(at: clock.now))
            let tokens = try full.decode(Tokens.self)
            #expect(tokens.mfaEnrolmentRequired == nil)
            #expect(try await client.request(.get, "/api/leads", key: tokens.accessToken).status == .ok)
        }
    }
}
