@testable import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@Suite("API keys, scopes and the admin API")
struct APIKeyAndAdminTests {
    @Test func createListRotateWithGraceAndRevoke() async throws {
        let clock = TestClock()
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let created = try await client.request(
                .post, "/api/keys", key: tenant.key, json: #"{"name": "Reporting", "scopes": ["leads:read", "analytics:read"]}"#
            )
            #expect(created.status == .created)
            let body = try created.json()
            let newKey = try #require(body["key"] as? String)
            let newId = try #require(body["id"] as? String)
            #expect(body["scopes"] as? [String] == ["analytics:read", "leads:read"])
            #expect(body["status"] as? String == "active")

            let list = try await client.request(.get, "/api/keys", key: tenant.key)
            let items = try #require(try list.json()["items"] as? [[String: Any]])
            #expect(items.count == 2)
            #expect(!list.text.contains(newKey), "a listing never shows keys")
            #expect(items.contains { $0["prefix"] as? String == String(newKey.prefix(12)) && $0["lastFour"] as? String == String(newKey.suffix(4)) })

            // The reporting key lacks keys:manage and settings:write: 403 naming the scope.
            let denied = try await client.request(.get, "/api/keys", key: newKey)
            #expect(denied.status == .forbidden)
            #expect((try denied.problem()["detail"] as? String)?.contains("keys:manage") == true)
            let patch = try await client.request(.patch, "/api/tenant", key: newKey, json: #"{"businessName": "Nope Ltd"}"#)
            #expect(patch.status == .forbidden)

            // Rotate with a one-hour grace: both work, then only the new one.
            let rotated = try await client.request(.post, "/api/keys/\(newId)/rotate", key: tenant.key, json: #"{"gracePeriodHours": 1}"#)
            #expect(rotated.status == .created)
            let replacement = try #require(try rotated.json()["key"] as? String)
            #expect(try await client.request(.get, "/api/me", key: newKey).status == .ok)
            #expect(try await client.request(.get, "/api/me", key: replacement).status == .ok)
            clock.advance(by: 3601)
            #expect(try await client.request(.get, "/api/me", key: newKey).status == .unauthorized)
            #expect(try await client.request(.get, "/api/me", key: replacement).status == .ok)

            // Revoke is immediate.
            let replacementId = try #require(try rotated.json()["id"] as? String)
            #expect(try await client.request(.delete, "/api/keys/\(replacementId)", key: tenant.key).status == .noContent)
            #expect(try await client.request(.get, "/api/me", key: replacement).status == .unauthorized)
            #expect(try await client.request(.delete, "/api/keys/\(replacementId)", key: tenant.key).status == .notFound)

            let actions = try await services.database.sql.raw("SELECT action FROM audit_log WHERE tenant_id = \(bind: tenant.id)").all()
                .map { try $0.decode(column: "action", as: String.self) }
            #expect(actions.contains("api_key.created") && actions.contains("api_key.rotated") && actions.contains("api_key.revoked"))
        }
    }

    @Test func scopesCannotEscalateAndBadInputIsNamed() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant(scopes: ["keys:manage", "leads:read"])
            let escalate = try await client.request(.post, "/api/keys", key: tenant.key, json: #"{"scopes": ["settings:write"]}"#)
            #expect(escalate.status == .unprocessableContent)
            #expect((try escalate.problem()["errors"] as? [[String: String]])?.first?["field"] == "scopes")
            let unknown = try await client.request(.post, "/api/keys", key: tenant.key, json: #"{"scopes": ["root"]}"#)
            #expect(unknown.status == .unprocessableContent)
            let never = try await client.request(.post, "/api/keys", key: tenant.key, json: #"{"expiresInDays": 0}"#)
            #expect((try never.problem()["errors"] as? [[String: String]])?.first?["field"] == "expiresInDays")
            let null = try await client.request(.post, "/api/keys", key: tenant.key, json: #"{"name": null}"#)
            #expect(null.status == .unprocessableContent)
            #expect((try null.problem()["errors"] as? [[String: String]])?.first?["field"] == "name")
            let expiring = try await client.request(.post, "/api/keys", key: tenant.key, json: #"{"expiresInDays": 30, "scopes": ["leads:read"]}"#)
            #expect(expiring.status == .created)
            #expect(try expiring.json()["expiresAt"] is String)
            let wrongType = try await client.request(.post, "/api/keys", key: tenant.key, json: #"{"scopes": "leads:read"}"#)
            #expect(wrongType.status == .badRequest)
            let grace = try await client.request(.post, "/api/keys/\(tenant.keyId)/rotate", key: tenant.key, json: #"{"gracePeriodHours": 1000}"#)
            #expect(grace.status == .unprocessableContent)
        }
    }

    @Test func anotherTenantsKeyIdsAre404() async throws {
        try await withApp { client, services in
            let mine = try await services.makeTenant()
            let theirs = try await services.makeTenant("Other Salon")
            #expect(try await client.request(.delete, "/api/keys/\(theirs.keyId)", key: mine.key).status == .notFound)
            #expect(try await client.request(.post, "/api/keys/\(theirs.keyId)/rotate", key: mine.key).status == .notFound)
            #expect(try await client.request(.get, "/api/me", key: theirs.key).status == .ok, "their key still works")
        }
    }

    @Test func membersCannotChangeTheProfile() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            _ = try await services.users.create(
                tenantId: tenant.id, email: try EmailAddress.parse("member@smile.example").get(),
                passwordHash: try await services.hasher.hash("member-password-123"), role: .member, verified: true, now: services.now()
            )
            let token = try await login(client, email: "member@smile.example", password: "member-password-123")
            let response = try await client.request(.patch, "/api/tenant", key: token, json: #"{"businessName": "Taken Over"}"#)
            #expect(response.status == .forbidden)
            #expect(try await client.request(.get, "/api/tenant", key: token).status == .ok)
        }
    }

    @Test func adminListsSuspendsAndReactivatesTenants() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            _ = try await services.makeTenant("Other Salon")
            let admin = try await services.makePlatformUser(role: .platformAdmin)
            let token = try await login(client, email: admin.email, password: admin.password)

            let me = try await client.request(.get, "/api/me", key: token).json()
            #expect(me["role"] as? String == "admin")
            #expect(me["tenant"] == nil || me["tenant"] is NSNull)

            let page = try await client.request(.get, "/api/admin/tenants?limit=1", key: token)
            #expect(page.status == .ok)
            let first = try page.json()
            #expect((first["items"] as? [[String: Any]])?.count == 1)
            let cursor = try #require(first["nextCursor"] as? String)
            let second = try await client.request(.get, "/api/admin/tenants?limit=1&cursor=\(cursor)", key: token).json()
            #expect((second["items"] as? [[String: Any]])?.count == 1)
            #expect(second["nextCursor"] == nil || second["nextCursor"] is NSNull)
            #expect(try await client.request(.get, "/api/admin/tenants?limit=0", key: token).status == .unprocessableContent)
            #expect(try await client.request(.get, "/api/admin/tenants?status=gone", key: token).status == .unprocessableContent)

            _ = try await client.createLead(#"{"phone": "07400100001"}"#, key: tenant.key)
            let detail = try await client.request(.get, "/api/admin/tenants/\(tenant.id)", key: token).json()
            #expect(detail["users"] as? Int == 1 && detail["activeApiKeys"] as? Int == 1)
            #expect(detail["usage"] as? NSDictionary == ["leads": 1, "callsLast30Days": 0, "messagesLast30Days": 0, "appointmentsUpcoming": 0])
            #expect((detail["lastActivityAt"] as? String).flatMap(ISOTime.parse) != nil)
            let listed = try await client.request(.get, "/api/admin/tenants?limit=50", key: token).json()["items"] as? [[String: Any]] ?? []
            let mine = try #require(listed.first { $0["id"] as? String == tenant.id })
            #expect(mine["slug"] as? String == tenant.slug && mine["lastActivityAt"] is String)
            #expect(mine["usage"] as? NSDictionary == ["leads": 1, "callsLast30Days": 0, "messagesLast30Days": 0, "appointmentsUpcoming": 0])
            let other = try #require(listed.first { $0["id"] as? String != tenant.id })
            #expect(other["lastActivityAt"] is NSNull, "no events yet: null")
            #expect((other["usage"] as? [String: Int])?["leads"] == 0, "a tenant with no rows counts zero, not missing")
            #expect(try await client.request(.get, "/api/admin/tenants/01937f4e-0000-7000-8000-000000000000", key: token).status == .notFound)

            let suspend = try await client.request(.patch, "/api/admin/tenants/\(tenant.id)", key: token, json: #"{"status": "suspended", "tier": "pro"}"#)
            #expect(suspend.status == .ok)
            #expect(try suspend.json()["status"] as? String == "suspended")
            #expect(try suspend.json()["tier"] as? String == "pro")
            #expect(try await client.request(.get, "/api/tenant", key: tenant.key).status == .forbidden)

            #expect(try await client.request(.patch, "/api/admin/tenants/\(tenant.id)", key: token, json: #"{"status": "active"}"#).status == .ok)
            #expect(try await client.request(.get, "/api/tenant", key: tenant.key).status == .ok)
            #expect(try await client.request(.patch, "/api/admin/tenants/\(tenant.id)", key: token, json: #"{"status": "deleted"}"#).status == .unprocessableContent)

            let actions = try await services.database.sql.raw("SELECT action FROM audit_log WHERE tenant_id = \(bind: tenant.id) ORDER BY seq").all()
                .map { try $0.decode(column: "action", as: String.self) }
            #expect(actions.suffix(2) == ["tenant.suspended", "tenant.reactivated"])
        }
    }

    @Test func adminRoutesRefuseTenantAndComplianceCredentials() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let ownerToken = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
            let compliance = try await services.makePlatformUser(role: .compliance)
            let complianceToken = try await login(client, email: compliance.email, password: compliance.password)
            for credential in [tenant.key, ownerToken, complianceToken] {
                #expect(try await client.request(.get, "/api/admin/tenants", key: credential).status == .forbidden)
                #expect(try await client.request(.patch, "/api/admin/tenants/\(tenant.id)", key: credential, json: #"{"tier": "pro"}"#).status == .forbidden)
            }
            #expect(try await client.request(.get, "/api/admin/tenants").status == .unauthorized)
            // Platform accounts have no tenant, so tenant routes refuse them.
            #expect(try await client.request(.get, "/api/tenant", key: complianceToken).status == .forbidden)
        }
    }
}
