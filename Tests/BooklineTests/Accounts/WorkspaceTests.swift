@testable import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

struct WorkspaceItems: Decodable {
    struct Item: Decodable { let tenantId: String; let businessName: String; let role: String; let current: Bool }
    let items: [Item]
}

/// One login in several tenants (an agency's): sign-in opens the last one used, a token carries
/// one tenant, switching issues a new one and ends the old session, and leaving one tenant
/// leaves the login working in the others.
@Suite("Workspaces: one login, several tenants")
struct WorkspaceTests {
    /// The agency's owner joins `salon` as `role` through an invitation; returns their token there.
    static func join(_ client: any TestClientProtocol, _ mailer: RecordingAccountMailer, person: TestTenant, into salon: TestTenant,
                     role: String) async throws -> String {
        let salonOwner = try await login(client, email: salon.ownerEmail, password: salon.ownerPassword)
        _ = try await client.invite(person.ownerEmail, role: role, key: salonOwner)
        let (token, _) = try await mailer.nextInvitation()
        let home = try await login(client, email: person.ownerEmail, password: person.ownerPassword)
        return try await client.accept(token, key: home).decode(Tokens.self).accessToken
    }

    @Test func switchingIssuesATokenForTheOtherTenantAndEndsTheOldSession() async throws {
        let mailer = RecordingAccountMailer()
        try await withApp(mailer: mailer) { client, services in
            let agency = try await services.makeTenant("Agency Home")
            let salon = try await services.makeTenant("Bright Salon")
            let stranger = try await services.makeTenant("Not Mine")
            let inSalon = try await Self.join(client, mailer, person: agency, into: salon, role: "viewer")
            let listed = try await client.request(.get, "/api/me/workspaces", key: inSalon).decode(WorkspaceItems.self)
            #expect(listed.items.map(\.tenantId) == [agency.id, salon.id])
            #expect(listed.items.map(\.role) == ["owner", "viewer"])
            #expect(listed.items.map(\.current) == [false, true])
            // A viewer in the salon cannot change it; the same login owns the agency.
            #expect(try await client.request(.patch, "/api/tenant", key: inSalon, json: #"{"businessName": "Mine now"}"#).status == .forbidden)

            let switched = try await client.request(.post, "/api/auth/switch", key: inSalon, json: #"{"tenantId": "\#(agency.id)"}"#)
            #expect(switched.status == .ok, "\(switched.text)")
            let tokens = try switched.decode(Tokens.self)
            let me = try await client.me(tokens.accessToken)
            #expect(me.tenant?.id == agency.id && me.role == "owner")
            #expect(try await client.request(.get, "/api/me", key: inSalon).status == .unauthorized, "the old session ended")
            #expect(try await client.request(.get, "/api/leads", key: tokens.accessToken).status == .ok)
            let refreshed = try await client.refresh(try #require(tokens.refreshToken)).decode(Tokens.self)
            #expect(try await client.me(refreshed.accessToken).tenant?.id == agency.id, "refresh stays in the workspace")

            for body in [#"{"tenantId": "\#(stranger.id)"}"#, #"{"tenantId": "nope"}"#] {
                let refused = try await client.request(.post, "/api/auth/switch", key: refreshed.accessToken, json: body)
                #expect(refused.status == .notFound, "\(body): \(refused.text)")
            }
            let missing = try await client.request(.post, "/api/auth/switch", key: refreshed.accessToken, json: #"{}"#)
            #expect(try missing.status == .unprocessableContent && (missing.decode(ProblemBody.self).fields) == ["tenantId"])
            let forged = try await client.request(.post, "/api/auth/switch", key: refreshed.accessToken,
                                                  json: #"{"tenantId": "\#(salon.id)", "role": "owner"}"#)
            #expect(try forged.status == .unprocessableContent && (forged.decode(ProblemBody.self).fields) == ["role"])
            #expect(try await client.request(.post, "/api/auth/switch", key: agency.key, json: #"{"tenantId": "\#(salon.id)"}"#).status == .forbidden,
                    "an API key belongs to one tenant")
            #expect(try await client.request(.post, "/api/auth/switch", json: #"{"tenantId": "\#(salon.id)"}"#).status == .unauthorized)
            // Sign-in opens the workspace switched to last.
            let again = try await login(client, email: agency.ownerEmail, password: agency.ownerPassword)
            #expect(try await client.me(again).tenant?.id == agency.id)
            #expect(try await services.auditActions(tenantId: agency.id).contains("auth.workspace_switched"))
        }
    }

    @Test func removedFromOneTenantTheLoginKeepsTheOthers() async throws {
        let mailer = RecordingAccountMailer()
        try await withApp(mailer: mailer) { client, services in
            let agency = try await services.makeTenant("Agency Home")
            let salon = try await services.makeTenant("Bright Salon")
            let inSalon = try await Self.join(client, mailer, person: agency, into: salon, role: "admin")
            let personId = try await client.me(inSalon).principal.id
            let salonOwner = try await login(client, email: salon.ownerEmail, password: salon.ownerPassword)
            // The salon sees its admin but nothing of the agency; the agency's people are its own.
            let agencyOwner = try await login(client, email: agency.ownerEmail, password: agency.ownerPassword)
            #expect(try await client.me(agencyOwner).tenant?.id == salon.id, "last used")

            #expect(try await client.request(.delete, "/api/users/\(personId)", key: salonOwner).status == .noContent)
            #expect(try await client.request(.get, "/api/me", key: inSalon).status == .unauthorized, "their salon session ended at once")
            let signedIn = try await login(client, email: agency.ownerEmail, password: agency.ownerPassword)
            #expect(try await client.me(signedIn).tenant?.id == agency.id, "the login still opens its own tenant")
            let left = try await client.request(.get, "/api/me/workspaces", key: signedIn).decode(WorkspaceItems.self)
            #expect(left.items.map(\.tenantId) == [agency.id])
            #expect(try await client.request(.post, "/api/auth/switch", key: signedIn, json: #"{"tenantId": "\#(salon.id)"}"#).status == .notFound)
            let actions = try await services.auditActions(tenantId: salon.id)
            #expect(actions.contains("user.removed"))
        }
    }

    @Test func purgingATenantKeepsTheLoginsOfPeopleWhoBelongElsewhere() async throws {
        let mailer = RecordingAccountMailer()
        try await withApp(mailer: mailer) { client, services in
            let agency = try await services.makeTenant("Agency Home")
            let salon = try await services.makeTenant("Bright Salon")
            _ = try await Self.join(client, mailer, person: salon, into: agency, role: "member")
            // The salon's owner (home: the salon) is also the agency's member; the salon goes.
            let lifecycle = TenantLifecycle(services: services)
            _ = try await lifecycle.delete(tenantId: salon.id, reason: nil, actor: .system("test"))
            let signedIn = try await login(client, email: salon.ownerEmail, password: salon.ownerPassword)
            #expect(try await client.me(signedIn).tenant?.id == agency.id, "a deleted workspace is skipped at sign-in")
            _ = try await lifecycle.purge(tenantId: salon.id, actor: .system("test"))
            let after = try await login(client, email: salon.ownerEmail, password: salon.ownerPassword)
            let me = try await client.me(after)
            #expect(me.tenant?.id == agency.id && me.role == "member")
            let home = try await services.database.sql.raw("SELECT tenant_id FROM users WHERE id = \(bind: me.principal.id)").first()?
                .decode(column: "tenant_id", as: String.self)
            #expect(home == agency.id, "re-homed to the tenant it still belongs to")
            #expect(try await DataSubjectFixture.rowsWithTenant(salon.id, in: services) == [:])
        }
    }
}
