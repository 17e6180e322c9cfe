import Bookline
import BooklineCore
import Foundation
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Tenant deletion, grace period, purge, and retention")
struct TenantDeletionTests {
    @Test func deletionStopsCredentialsAtOnceAndRestoreUndoesIt() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let owner = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
            let admin = try await services.makePlatformUser(role: .platformAdmin)
            let adminToken = try await login(client, email: admin.email, password: admin.password)
            _ = try await client.createLead(#"{"phone": "07400100123"}"#, key: tenant.key)

            let deleted = try await client.request(.delete, "/api/admin/tenants/\(tenant.id)?reason=closed", key: adminToken)
            #expect(deleted.status == .ok)
            let body = try deleted.json()
            #expect((body["tenant"] as? [String: Any])?["status"] as? String == "deleted")
            #expect(body["purgeAfter"] as? String != nil)
            for credential in [tenant.key, owner] {
                let refused = try await client.request(.get, "/api/leads", key: credential)
                #expect(refused.status == .notFound || refused.status == .unauthorized || refused.status == .forbidden)
                #expect(!refused.text.contains("07400100123") && !refused.text.contains("+447400100123"))
            }
            let relogin = try await client.request(.post, "/api/auth/login", json: """
                {"email": "\(tenant.ownerEmail)", "password": "\(tenant.ownerPassword)"}
                """)
            #expect(relogin.status == .forbidden)
            let twice = try await client.request(.delete, "/api/admin/tenants/\(tenant.id)", key: adminToken)
            #expect(twice.status == .conflict)
            #expect(try twice.problem()["type"] as? String == "urn:bookline:problem:tenant-already-deleted")
            // The data is still there during the grace period.
            #expect(try await services.countRows("leads", tenantId: tenant.id) == 1)

            let restored = try await client.request(.post, "/api/admin/tenants/\(tenant.id)/restore", key: adminToken)
            #expect(restored.status == .ok)
            #expect(try restored.json()["status"] as? String == "active")
            #expect(try await client.request(.get, "/api/leads", key: tenant.key).status == .ok)
            let notDeleted = try await client.request(.post, "/api/admin/tenants/\(tenant.id)/restore", key: adminToken)
            #expect(notDeleted.status == .conflict)
            let byOwner = try await client.request(.delete, "/api/admin/tenants/\(tenant.id)", key: owner)
            #expect(byOwner.status == .forbidden)
            let unknown = try await client.request(.delete, "/api/admin/tenants/00000000-0000-7000-8000-000000000000", key: adminToken)
            #expect(unknown.status == .notFound)
            let actions = try await services.auditActions(tenantId: tenant.id)
            #expect(actions.last == "tenant.restored" && actions.contains("tenant.deleted"))
        }
    }

    @Test func purgeAfterTheGracePeriodLeavesNoRowWithTheTenantsId() async throws {
        let clock = TestClock(DataSubjectFixture.now)
        try await withApp(now: clock.closure) { client, services in
            let doomed = try await DataSubjectFixture.seed(client, services)
            let kept = try await DataSubjectFixture.seed(client, services, phone: "+447400100888", email: "kept@example.org")
            let admin = try await services.makePlatformUser(role: .platformAdmin)
            let firstToken = try await login(client, email: admin.email, password: admin.password)
            // Rows in tables without a foreign key to tenants, too.
            _ = try await client.request(.post, "/api/opt-outs", key: doomed.tenant.key, json: #"{"phone": "07400100999", "reason": "asked"}"#)
            await services.errors.record(ErrorReport(tenantId: doomed.tenant.id, service: "test", errorType: "x", message: "m", severity: .warning))
            let before = try await DataSubjectFixture.rowsWithTenant(doomed.tenant.id, in: services)
            #expect(before.count > 12)
            let keptBefore = try await DataSubjectFixture.rowsWithTenant(kept.tenant.id, in: services)

            #expect(try await client.request(.delete, "/api/admin/tenants/\(doomed.tenant.id)", key: firstToken).status == .ok)
            // Not due yet: nothing is purged.
            #expect(try await services.purgeDeletedTenants().isEmpty)
            await #expect(throws: AppServices.PurgeError.self) { try await services.purgeDeletedTenants(tenantId: doomed.tenant.id) }

            clock.advance(by: 31 * 86_400)
            let adminToken = try await login(client, email: admin.email, password: admin.password)
            let restoreLate = try await client.request(.post, "/api/admin/tenants/\(doomed.tenant.id)/restore", key: adminToken)
            #expect(restoreLate.status == .conflict)
            let purged = try await services.purgeDeletedTenants()
            #expect(Set(purged.keys) == [doomed.tenant.id])
            #expect(purged[doomed.tenant.id]?["leads"] == before["leads"])

            #expect(try await DataSubjectFixture.rowsWithTenant(doomed.tenant.id, in: services) == [:])
            #expect(try await DataSubjectFixture.rowsWithTenant(kept.tenant.id, in: services) == keptBefore)
            let verified = try await AuditReader(database: services.database).verify(tenantId: nil)
            #expect(verified.broken == nil)
            let platform = try await services.database.sql.raw("""
                SELECT COUNT(*) AS n FROM audit_log WHERE chain = 'platform' AND action = 'tenant.purged' AND target_id = \(bind: doomed.tenant.id)
                """).first()?.decode(column: "n", as: Int.self)
            #expect(platform == 1)
            #expect(try await client.request(.get, "/api/admin/tenants/\(doomed.tenant.id)", key: adminToken).status == .notFound)
        }
    }

    @Test func retentionRemovesOldUncontactedLeadsAndMessagesAndIsAudited() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_699_956_800)) // 10:13 UTC, outside quiet hours
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let old = try await client.createLead(#"{"phone": "07400100001"}"#, key: tenant.key)["id"] as! String
            let contacted = try await client.createLead(#"{"phone": "07400100002"}"#, key: tenant.key)["id"] as! String
            #expect(try await client.request(.post, "/api/messages", key: tenant.key,
                                             json: #"{"leadId": "\#(contacted)", "body": "Hi"}"#).status == .created)
            _ = try await services.messageSender.sweep()
            clock.advance(by: 100 * 86_400)
            let fresh = try await client.createLead(#"{"phone": "07400100003"}"#, key: tenant.key)["id"] as! String

            let shown = try await client.request(.get, "/api/settings/retention", key: tenant.key).json()
            #expect(shown["uncontactedLeadDays"] as? Int == 730 && shown["messageDays"] as? Int == 730)
            let bad = try await client.request(.put, "/api/settings/retention", key: tenant.key, json: #"{"uncontactedLeadDays": 0, "messageDays": "x"}"#)
            #expect(bad.status == .badRequest || bad.status == .unprocessableContent)
            let invalid = try await client.request(.put, "/api/settings/retention", key: tenant.key, json: #"{"uncontactedLeadDays": 0}"#)
            #expect((try invalid.problem()["errors"] as? [[String: Any]])?.first?["field"] as? String == "uncontactedLeadDays")
            let saved = try await client.request(.put, "/api/settings/retention", key: tenant.key, json: #"{"uncontactedLeadDays": 90, "messageDays": 60}"#)
            #expect(try saved.json()["uncontactedLeadDays"] as? Int == 90)

            let results = try await services.applyRetention()
            #expect(results.count == 1 && results.first?.leads == 1 && results.first?.messages == 1)
            #expect(try await client.request(.get, "/api/leads/\(old)", key: tenant.key).status == .notFound)
            #expect(try await client.request(.get, "/api/leads/\(contacted)", key: tenant.key).status == .ok)
            #expect(try await client.request(.get, "/api/leads/\(fresh)", key: tenant.key).status == .ok)
            #expect(try await services.countRows("messages", tenantId: tenant.id) == 0)
            #expect(try await services.auditActions(tenantId: tenant.id).suffix(2) == ["retention.updated", "retention.applied"])
            #expect(try await services.applyRetention().isEmpty)
        }
    }
}
