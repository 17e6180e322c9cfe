import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

struct InvitationBody: Decodable {
    let id: String
    let email: String
    let role: String
    let status: String
    let expiresAt: String
}

struct InvitationItems: Decodable { let items: [InvitationBody] }

struct InvitationPreview: Decodable {
    let businessName: String
    let email: String
    let role: String
    let existingAccount: Bool
}

struct MeView: Decodable {
    struct Principal: Decodable { let id: String }
    struct Tenant: Decodable { let id: String; let businessName: String }
    let principal: Principal
    let role: String?
    let tenant: Tenant?
}

/// The token of an invitation link (`.../invite?token=bki_...`).
func inviteToken(in text: String) -> String? {
    guard let range = text.range(of: #"token=(bki_[0-9A-Za-z]{43})"#, options: .regularExpression) else { return nil }
    return String(text[range].dropFirst("token=".count))
}

extension TestClientProtocol {
    func invite(_ email: String, role: String, key: String) async throws -> TestResponse {
        try await request(.post, "/api/invitations", key: key, json: #"{"email": "\#(email)", "role": "\#(role)"}"#)
    }

    func accept(_ token: String, password: String? = nil, key: String? = nil) async throws -> TestResponse {
        let body = password.map { #"{"token": "\#(token)", "password": "\#($0)"}"# } ?? #"{"token": "\#(token)"}"#
        return try await request(.post, "/api/auth/invitations/accept", key: key, json: body)
    }

    func me(_ key: String) async throws -> MeView {
        try await request(.get, "/api/me", key: key).decode(MeView.self)
    }
}

extension RecordingAccountMailer {
    /// The invitation token in the next mail, and the mail.
    func nextInvitation() async throws -> (token: String, mail: AccountMail) {
        guard let mail = await next() else { throw JSONShapeError(text: "no invitation mail arrived") }
        guard let token = inviteToken(in: mail.text), mail.html.contains(token) else { throw JSONShapeError(text: "no link in: \(mail.text)") }
        return (token, mail)
    }
}

@Suite("Invitations: invite by email with a role, accept, expire, resend, revoke")
struct InvitationTests {
    @Test func aNewAddressAcceptsWithAPasswordAndJoinsWithTheRole() async throws {
        let mailer = RecordingAccountMailer()
        try await withApp(mailer: mailer) { client, services in
            let tenant = try await services.makeTenant("Smile Dental")
            let owner = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
            let created = try await client.invite("New.Person@Example.com", role: "admin", key: owner)
            #expect(created.status == .created, "\(created.text)")
            let invitation = try created.decode(InvitationBody.self)
            #expect(invitation.email == "New.Person@example.com" && invitation.role == "admin" && invitation.status == "pending")
            #expect(!created.text.contains("bki_"), "the link is only in the email")
            let (token, mail) = try await mailer.nextInvitation()
            #expect(mail.kind == .invitation && mail.to == "New.Person@example.com")
            #expect(mail.subject == "\(tenant.ownerEmail) invited you to Smile Dental on Bookline")
            #expect(mail.text.contains("as admin") && mail.text.contains("/invite?token=\(token)"))

            let preview = try await client.request(.post, "/api/auth/invitations/preview", json: #"{"token": "\#(token)"}"#)
                .decode(InvitationPreview.self)
            #expect(preview.businessName == "Smile Dental" && preview.role == "admin" && !preview.existingAccount)

            let noPassword = try await client.accept(token)
            #expect(try noPassword.status == .unprocessableContent && (noPassword.decode(ProblemBody.self).fields) == ["password"])
            let weak = try await client.accept(token, password: "short")
            #expect(try weak.status == .unprocessableContent && (weak.decode(ProblemBody.self).fields) == ["password"])

            let accepted = try await client.accept(token, password: "a-fine-long-password-7")
            #expect(accepted.status == .ok, "\(accepted.text)")
            let tokens = try accepted.decode(Tokens.self)
            let me = try await client.me(tokens.accessToken)
            #expect(me.role == "admin" && me.tenant?.id == tenant.id)
            // The link reached the address: it is verified, and the password signs in.
            let people = try await client.request(.get, "/api/users", key: owner).json()["items"] as? [[String: Any]] ?? []
            let joined = try #require(people.first { $0["email"] as? String == "New.Person@example.com" })
            #expect(joined["role"] as? String == "admin" && joined["emailVerified"] as? Bool == true)
            _ = try await login(client, email: "new.person@example.com", password: "a-fine-long-password-7")

            let again = try await client.accept(token, password: "a-fine-long-password-7")
            #expect(try again.status == .unprocessableContent && (again.decode(ProblemBody.self).type.hasSuffix("invalid-token")))
            let listed = try await client.request(.get, "/api/invitations", key: owner).decode(InvitationItems.self)
            #expect(listed.items.map(\.status) == ["accepted"])
            let actions = try await services.auditActions(tenantId: tenant.id)
            #expect(actions.contains("invitation.created") && actions.contains("invitation.accepted"))
        }
    }

    @Test func anExistingLoginJoinsSignedInWithItsOwnPassword() async throws {
        let mailer = RecordingAccountMailer()
        try await withApp(mailer: mailer) { client, services in
            let agency = try await services.makeTenant("Agency Home")
            let client2 = try await services.makeTenant("Bright Salon")
            let salonOwner = try await login(client, email: client2.ownerEmail, password: client2.ownerPassword)
            #expect(try await client.invite(agency.ownerEmail, role: "member", key: salonOwner).status == .created)
            let (token, _) = try await mailer.nextInvitation()
            let preview = try await client.request(.post, "/api/auth/invitations/preview", json: #"{"token": "\#(token)"}"#)
                .decode(InvitationPreview.self)
            #expect(preview.existingAccount)
            // Without signing in (or with a password for a new login) the existing login is not taken over.
            let anonymous = try await client.accept(token, password: "someone-elses-password-1")
            #expect(try anonymous.status == .conflict && (anonymous.decode(ProblemBody.self).type.hasSuffix("sign-in-to-accept")))
            let stranger = try await login(client, email: client2.ownerEmail, password: client2.ownerPassword)
            #expect(try await client.accept(token, key: stranger).status == .conflict, "another login cannot accept it")

            let home = try await login(client, email: agency.ownerEmail, password: agency.ownerPassword)
            let accepted = try await client.accept(token, key: home)
            #expect(accepted.status == .ok, "\(accepted.text)")
            let inSalon = try accepted.decode(Tokens.self).accessToken
            let me = try await client.me(inSalon)
            #expect(me.tenant?.id == client2.id && me.role == "member")
            // The password did not change, and the home workspace keeps its role.
            let signedIn = try await login(client, email: agency.ownerEmail, password: agency.ownerPassword)
            #expect(try await client.me(signedIn).tenant?.id == client2.id, "sign-in opens the workspace used last")
            let salonPeople = try await client.request(.get, "/api/users", key: salonOwner).json()["items"] as? [[String: Any]] ?? []
            #expect(Set(salonPeople.compactMap { $0["email"] as? String }) == [client2.ownerEmail, agency.ownerEmail])
        }
    }

    @Test func invitationsExpireAfterSevenDaysAndCanBeResentAndRevoked() async throws {
        let mailer = RecordingAccountMailer()
        let clock = TestClock(Date(timeIntervalSince1970: 1_790_000_000))
        try await withApp(now: clock.closure, mailer: mailer) { client, services in
            let tenant = try await services.makeTenant()
            let owner = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
            let invitation = try await client.invite("later@example.com", role: "viewer", key: owner).decode(InvitationBody.self)
            #expect(try Date(invitation.expiresAt, strategy: .iso8601) == clock.now.addingTimeInterval(7 * 86_400))
            let (first, _) = try await mailer.nextInvitation()
            clock.advance(by: 7 * 86_400 + 1)
            let preview = try await client.request(.post, "/api/auth/invitations/preview", json: #"{"token": "\#(first)"}"#)
            #expect(try preview.status == .unprocessableContent && (preview.decode(ProblemBody.self).type.hasSuffix("invalid-token")))
            let owner2 = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
            #expect(try await client.request(.get, "/api/invitations", key: owner2).decode(InvitationItems.self).items.map(\.status) == ["expired"])

            let resent = try await client.request(.post, "/api/invitations/\(invitation.id)/resend", key: owner2)
            #expect(try resent.status == .ok && (resent.decode(InvitationBody.self).status) == "pending")
            let (second, _) = try await mailer.nextInvitation()
            #expect(second != first)
            #expect(try await client.accept(first, password: "a-fine-long-password-7").status == .unprocessableContent, "the old link is dead")
            #expect(try await client.request(.post, "/api/auth/invitations/preview", json: #"{"token": "\#(second)"}"#).status == .ok)

            #expect(try await client.request(.delete, "/api/invitations/\(invitation.id)", key: owner2).status == .noContent)
            #expect(try await client.request(.delete, "/api/invitations/\(invitation.id)", key: owner2).status == .noContent, "repeating is harmless")
            #expect(try await client.accept(second, password: "a-fine-long-password-7").status == .unprocessableContent)
            let again = try await client.request(.post, "/api/invitations/\(invitation.id)/resend", key: owner2)
            #expect(try again.status == .conflict && (again.decode(ProblemBody.self).type.hasSuffix("invitation-revoked")))
            let actions = try await services.auditActions(tenantId: tenant.id)
            #expect(actions.filter { $0.hasPrefix("invitation.") } == ["invitation.created", "invitation.resent", "invitation.revoked"])
        }
    }

    @Test func whoMayInviteAndBadInput() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let other = try await services.makeTenant("Other Place")
            try await services.database.sql.raw("UPDATE tenants SET rate_limit_per_minute = 100000 WHERE id = \(bind: tenant.id)").run()
            let people = try await RoleTests.people(client, tenant)
            let owner = people[.owner]!.token, admin = people[.admin]!.token
            #expect(try await client.invite("x1@example.com", role: "owner", key: admin).status == .forbidden, "only owners invite owners")
            #expect(try await client.invite("x1@example.com", role: "member", key: people[.member]!.token).status == .forbidden)
            #expect(try await client.request(.get, "/api/invitations", key: people[.viewer]!.token).status == .forbidden)
            #expect(try await client.request(.get, "/api/invitations", key: tenant.key).status == .forbidden, "API keys do not manage people")
            #expect(try await client.request(.get, "/api/invitations").status == .unauthorized)
            #expect(try await client.invite("x1@example.com", role: "admin", key: admin).status == .created)
            let duplicate = try await client.invite("X1@example.com", role: "member", key: owner)
            #expect(try duplicate.status == .conflict && (duplicate.decode(ProblemBody.self).type.hasSuffix("invitation-pending")))
            let member = try await client.invite(tenant.ownerEmail, role: "member", key: admin)
            #expect(try member.status == .conflict && (member.decode(ProblemBody.self).type.hasSuffix("already-member")))

            let bad = try await client.request(.post, "/api/invitations", key: owner, json: #"{"email": "not-an-email", "role": "boss"}"#)
            #expect(try bad.status == .unprocessableContent && (bad.decode(ProblemBody.self).fields.sorted()) == ["email", "role"])
            let forged = try await client.request(.post, "/api/invitations", key: owner, json: #"{"email": "y@example.com", "status": "accepted"}"#)
            #expect(try forged.status == .unprocessableContent && (forged.decode(ProblemBody.self).fields) == ["status"])
            #expect(try await client.request(.post, "/api/invitations", key: owner, json: #"{"email": "#).status == .badRequest)
            #expect(try await client.request(.post, "/api/invitations", key: owner, json: #"{"email": 42}"#).status == .badRequest)

            // Another tenant's invitation is not there.
            let otherOwner = try await login(client, email: other.ownerEmail, password: other.ownerPassword)
            let theirs = try await client.invite("theirs@example.com", role: "member", key: otherOwner).decode(InvitationBody.self)
            #expect(try await client.request(.post, "/api/invitations/\(theirs.id)/resend", key: owner).status == .notFound)
            #expect(try await client.request(.delete, "/api/invitations/\(theirs.id)", key: owner).status == .notFound)
            #expect(try await client.request(.delete, "/api/invitations/not-an-id", key: owner).status == .notFound)
            let listed = try await client.request(.get, "/api/invitations", key: owner).decode(InvitationItems.self)
            #expect(listed.items.map(\.email) == ["x1@example.com"])

            for body in [#"{}"#, #"{"token": "bki_short"}"#, #"{"token": "bka_0000000000000000000000000000000000000000000"}"#] {
                let refused = try await client.request(.post, "/api/auth/invitations/preview", json: body)
                #expect(refused.status == .unprocessableContent, "\(body): \(refused.text)")
            }
        }
    }
}
