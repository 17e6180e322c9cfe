import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Passwords: change, forgot, reset")
struct PasswordTests {
    static let newPassword = "a-much-better-passphrase-77"

    @Test func changingThePasswordNeedsTheCurrentOneAndEndsEveryOtherSession() async throws {
        let mailer = RecordingAccountMailer()
        try await withApp(mailer: mailer) { client, services in
            let tenant = try await services.makeTenant()
            let laptop = try await client.tokens(tenant.ownerEmail, tenant.ownerPassword, agent: "Laptop")
            let phone = try await client.tokens(tenant.ownerEmail, tenant.ownerPassword, agent: "Phone")

            let wrong = try await client.request(.post, "/api/me/password", key: laptop.accessToken,
                                                 json: #"{"currentPassword": "not-my-password-1", "newPassword": "\#(Self.newPassword)"}"#)
            #expect(wrong.status == .forbidden)
            #expect(try wrong.decode(ProblemBody.self).type.hasSuffix("wrong-password"))
            let weak = try await client.request(.post, "/api/me/password", key: laptop.accessToken,
                                                json: #"{"currentPassword": "\#(tenant.ownerPassword)", "newPassword": "password1234"}"#)
            #expect(weak.status == .unprocessableContent)
            #expect(try weak.decode(ProblemBody.self).fields == ["newPassword"])
            let missing = try await client.request(.post, "/api/me/password", key: laptop.accessToken, json: #"{"newPassword": 5}"#)
            #expect(missing.status == .badRequest, "a number is not a password")
            let byKey = try await client.request(.post, "/api/me/password", key: tenant.key,
                                                 json: #"{"currentPassword": "\#(tenant.ownerPassword)", "newPassword": "\#(Self.newPassword)"}"#)
            #expect(byKey.status == .forbidden, "an API key has no password to change")

            let changed = try await client.request(.post, "/api/me/password", key: laptop.accessToken,
                                                   json: #"{"currentPassword": "\#(tenant.ownerPassword)", "newPassword": "\#(Self.newPassword)"}"#)
            #expect(changed.status == .noContent)

            #expect(try await client.request(.get, "/api/me", key: laptop.accessToken).status == .ok, "this session stays")
            #expect(try await client.request(.get, "/api/me", key: phone.accessToken).status == .unauthorized, "the other ends at once")
            #expect(try await client.refresh(phone.refreshToken!).status == .unauthorized)
            #expect(try await client.signIn(tenant.ownerEmail, tenant.ownerPassword).status == .unauthorized)
            #expect(try await client.signIn(tenant.ownerEmail, Self.newPassword).status == .ok)

            let notice = try #require(await mailer.next())
            #expect(notice.kind == .passwordChanged && notice.to == tenant.ownerEmail)
            let audit = try await services.database.sql.raw("""
                SELECT details FROM audit_log WHERE action = 'user.password_changed'
                """).first()?.decode(column: "details", as: String.self)
            #expect(audit?.contains(#""sessions_revoked":"1""#) == true, "\(audit ?? "no audit row")")
            #expect(audit?.contains(Self.newPassword) == false)
        }
    }

    @Test func forgotAnswersTheSameForUnknownAddressesAndMailsASingleUseLink() async throws {
        let mailer = RecordingAccountMailer()
        let clock = TestClock()
        try await withApp(now: clock.closure, mailer: mailer) { client, services in
            let tenant = try await services.makeTenant()
            let session = try await client.tokens(tenant.ownerEmail, tenant.ownerPassword)

            let unknown = try await client.request(.post, "/api/auth/password/forgot", json: #"{"email": "nobody@example.com"}"#)
            let known = try await client.request(.post, "/api/auth/password/forgot", json: #"{"email": "\#(tenant.ownerEmail.uppercased())"}"#)
            #expect(unknown.status == .accepted && known.status == .accepted)
            #expect(unknown.text == known.text, "no enumeration: the bodies are identical")
            let invalid = try await client.request(.post, "/api/auth/password/forgot", json: #"{"email": "not an address"}"#)
            #expect(try invalid.decode(ProblemBody.self).fields == ["email"])

            let mail = try #require(await mailer.next())
            #expect(mail.kind == .passwordReset && mail.to == tenant.ownerEmail)
            #expect(mailer.all.count == 1, "nothing was sent for the unknown address")
            let token = try #require(linkToken(in: mail.text))
            #expect(mail.text.contains("/reset-password?token=\(token)") && mail.html.contains(token))
            let stored = try await services.database.sql.raw("SELECT token_hash FROM account_tokens WHERE purpose = 'password_reset'")
                .first()?.decode(column: "token_hash", as: String.self)
            #expect(stored == APIKeyFormat.sha256Hex(token), "only the hash is stored")

            let weak = try await client.request(.post, "/api/auth/password/reset", json: #"{"token": "\#(token)", "newPassword": "short"}"#)
            #expect(try weak.decode(ProblemBody.self).fields == ["newPassword"])
            let reset = try await client.request(.post, "/api/auth/password/reset", json: #"{"token": "\#(token)", "newPassword": "\#(Self.newPassword)"}"#)
            #expect(reset.status == .noContent, "a refused password did not burn the link: \(reset.text)")
            let again = try await client.request(.post, "/api/auth/password/reset", json: #"{"token": "\#(token)", "newPassword": "another-fine-passphrase-9"}"#)
            #expect(again.status == .unprocessableContent)
            #expect(try again.decode(ProblemBody.self).type.hasSuffix("invalid-token"))

            #expect(try await client.request(.get, "/api/me", key: session.accessToken).status == .unauthorized, "every session ended")
            #expect(try await client.refresh(session.refreshToken!).status == .unauthorized)
            #expect(try await client.signIn(tenant.ownerEmail, Self.newPassword).status == .ok)
            #expect(try #require(await mailer.next()).kind == .passwordChanged)

            // A link older than 30 minutes is refused.
            _ = try await client.request(.post, "/api/auth/password/forgot", json: #"{"email": "\#(tenant.ownerEmail)"}"#)
            let late = try await mailer.nextToken()
            clock.advance(by: 31 * 60)
            let expired = try await client.request(.post, "/api/auth/password/reset", json: #"{"token": "\#(late)", "newPassword": "yet-another-passphrase-3"}"#)
            #expect(expired.status == .unprocessableContent)
            let forged = try await client.request(.post, "/api/auth/password/reset",
                                                  json: #"{"token": "bka_\#(String(repeating: "A", count: 43))", "newPassword": "yet-another-passphrase-3"}"#)
            #expect(forged.status == .unprocessableContent)
            let noToken = try await client.request(.post, "/api/auth/password/reset", json: #"{"newPassword": "yet-another-passphrase-3"}"#)
            #expect(try noToken.decode(ProblemBody.self).fields == ["token"])
        }
    }

    @Test func aNewerResetLinkReplacesTheOlderOne() async throws {
        let mailer = RecordingAccountMailer()
        try await withApp(mailer: mailer) { client, services in
            let tenant = try await services.makeTenant()
            _ = try await client.request(.post, "/api/auth/password/forgot", json: #"{"email": "\#(tenant.ownerEmail)"}"#)
            let first = try await mailer.nextToken()
            _ = try await client.request(.post, "/api/auth/password/forgot", json: #"{"email": "\#(tenant.ownerEmail)"}"#)
            let second = try await mailer.nextToken()
            let old = try await client.request(.post, "/api/auth/password/reset", json: #"{"token": "\#(first)", "newPassword": "\#(Self.newPassword)"}"#)
            #expect(old.status == .unprocessableContent)
            let new = try await client.request(.post, "/api/auth/password/reset", json: #"{"token": "\#(second)", "newPassword": "\#(Self.newPassword)"}"#)
            #expect(new.status == .noContent)
        }
    }

    @Test func fiveWrongPasswordsLockTheAccountWithAClearMessageAndAnAuditEntry() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            for _ in 0..<5 {
                let wrong = try await client.signIn(tenant.ownerEmail, "wrong-password-123")
                #expect(wrong.status == .unauthorized)
            }
            let right = try await client.signIn(tenant.ownerEmail, tenant.ownerPassword)
            #expect(right.status == .tooManyRequests)
            #expect(try right.decode(ProblemBody.self).type.hasSuffix("account-locked"))
            let wrongAgain = try await client.signIn(tenant.ownerEmail, "wrong-password-123")
            #expect(wrongAgain.status == .unauthorized, "a wrong password learns nothing about the lock")
            let locks = try await services.database.sql.raw("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'auth.account_locked'")
                .first()?.decode(column: "n", as: Int.self)
            #expect(locks == 1)
        }
    }
}
