import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Opt-outs: tenant and global lists, withdrawal, cache")
struct OptOutTests {
    @Test func addListWithdrawAndAudit() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let lead = try await client.createLead(#"{"phone": "07400100123"}"#, key: tenant.key)
            let leadId = try #require(lead["id"] as? String)

            let added = try await client.request(.post, "/api/opt-outs", key: tenant.key,
                                                 json: #"{"phone": "+44 7400 100123", "reason": "complaint", "note": "called twice"}"#)
            #expect(added.status == .created)
            let entry = try added.json()
            #expect(entry["phone"] as? String == "+447400100123" && entry["active"] as? Bool == true && entry["scope"] as? String == "tenant")
            #expect(entry["createdBy"] as? String == tenant.keyId)
            let again = try await client.request(.post, "/api/opt-outs", key: tenant.key, json: #"{"phone": "07400100123"}"#)
            #expect(again.status == .ok, "already opted out: nothing changes")
            #expect(try again.json()["reason"] as? String == "complaint")

            let optedLead = try await client.request(.get, "/api/leads/\(leadId)", key: tenant.key).json()
            #expect(optedLead["status"] as? String == "opted_out")
            let list = try await client.request(.get, "/api/opt-outs", key: tenant.key).json()
            #expect((list["items"] as? [[String: Any]])?.map { $0["phone"] as? String } == ["+447400100123"])

            let noReason = try await client.request(.delete, "/api/opt-outs/+447400100123", key: tenant.key)
            #expect(noReason.status == .unprocessableContent)
            #expect((try noReason.problem()["errors"] as? [[String: Any]])?.first?["field"] as? String == "reason")
            let withdrawn = try await client.request(.delete, "/api/opt-outs/07400100123?reason=asked%20to%20be%20called", key: tenant.key)
            #expect(withdrawn.status == .ok)
            #expect(try withdrawn.json()["active"] as? Bool == false)
            #expect(try withdrawn.json()["deactivationReason"] as? String == "asked to be called")
            #expect(try await client.request(.get, "/api/leads/\(leadId)", key: tenant.key).json()["status"] as? String == "new")
            let gone = try await client.request(.delete, "/api/opt-outs/07400100123", key: tenant.key, json: #"{"reason": "again"}"#)
            #expect(gone.status == .notFound)
            let inactive = try await client.request(.get, "/api/opt-outs?active=false", key: tenant.key).json()
            #expect((inactive["items"] as? [[String: Any]])?.count == 1)

            let actions = try await services.auditActions(tenantId: tenant.id)
            #expect(actions.filter { $0.hasPrefix("opt_out.") } == ["opt_out.created", "opt_out.withdrawn"])
            #expect(try await services.eventTypes(tenantId: tenant.id) == ["lead_created", "lead_opted_out", "lead_status_changed"])

            for bad in [#"{"phone": "not a number"}"#, #"{"phone": "07400100123", "reason": "bored"}"#, #"{"reason": "request"}"#] {
                let response = try await client.request(.post, "/api/opt-outs", key: tenant.key, json: bad)
                #expect([.unprocessableContent, .badRequest].contains(response.status), "\(bad)")
            }
        }
    }

    @Test func optedOutNumbersAreNeverAddedAsContactable() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            _ = try await client.request(.post, "/api/opt-outs", key: tenant.key, json: #"{"phone": "07400100123", "reason": "sms_stop"}"#)
            let create = try await client.request(.post, "/api/leads", key: tenant.key, json: #"{"phone": "07400100123"}"#)
            #expect(create.status == .conflict)
            #expect(try create.problem()["type"] as? String == "urn:bookline:problem:opted-out")
            let imported = try await client.importLeads("phone\n07400100123\n07400100124\n", key: tenant.key)
            #expect(try imported.count("opted_out") == 1 && imported.count("imported") == 1)
            let other = try await services.makeTenant("Other Ltd")
            let elsewhere = try await client.importLeads("phone\n07400100123\n", key: other.key)
            #expect(try elsewhere.count("imported") == 1, "a tenant's list binds only that tenant")
        }
    }

    @Test func optOutSurvivesARestart() async throws {
        try await TestDatabase.withFresh { config in
            let first = try await AppServices.make(config: config, logger: quietLogger)
            let tenant = try await first.makeTenant()
            _ = try await first.optOuts.add(scope: tenant.id, phone: try PhoneNumber.parse("07400100123").get(), reason: "sms_stop",
                                            source: "test", note: nil, actor: .system("test"), now: Date())
            await first.database.close()

            let second = try await AppServices.make(config: config, logger: quietLogger)
            let app = try buildApplication(second)
            try await app.test(.router) { client in
                let imported = try await client.importLeads("phone\n07400100123\n", key: tenant.key)
                #expect(try imported.count("opted_out") == 1)
            }
        }
    }

    @Test func globalListBlocksEveryTenantAndOnlyAdminsManageIt() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let admin = try await services.makePlatformUser(role: .platformAdmin)
            let token = try await login(client, email: admin.email, password: admin.password)
            #expect(try await client.request(.post, "/api/admin/opt-outs", key: tenant.key, json: #"{"phone": "07400100555"}"#).status == .forbidden)
            #expect(try await client.request(.get, "/api/admin/opt-outs").status == .unauthorized)

            // Cached "not opted out" must not survive the global write.
            #expect(try await !services.optOuts.isOptedOut(tenantId: tenant.id, phone: "+447400100555"))
            let added = try await client.request(.post, "/api/admin/opt-outs", key: token, json: #"{"phone": "07400100555", "reason": "complaint"}"#)
            #expect(added.status == .created)
            #expect(try added.json()["scope"] as? String == "global")
            #expect(try await services.optOuts.isOptedOut(tenantId: tenant.id, phone: "+447400100555"))
            let imported = try await client.importLeads("phone\n07400100555\n", key: tenant.key)
            #expect(try imported.count("opted_out") == 1)
            // A tenant cannot withdraw the platform's entry.
            #expect(try await client.request(.delete, "/api/opt-outs/07400100555?reason=x", key: tenant.key).status == .notFound)
            let list = try await client.request(.get, "/api/admin/opt-outs", key: token).json()
            #expect((list["items"] as? [[String: Any]])?.count == 1)
            let withdrawn = try await client.request(.delete, "/api/admin/opt-outs/07400100555?reason=entered%20in%20error", key: token)
            #expect(withdrawn.status == .ok)
            #expect(try await !services.optOuts.isOptedOut(tenantId: tenant.id, phone: "+447400100555"))
            #expect(try await services.auditActions(tenantId: tenant.id).contains("opt_out.created") == false, "platform actions chain separately")
        }
    }

    @Test func localWritesInvalidateTheCacheAtOnce() async throws {
        try await withApp(configure: { $0.optOutCacheSeconds = 3600 }) { client, services in
            let tenant = try await services.makeTenant()
            #expect(try await !services.optOuts.isOptedOut(tenantId: tenant.id, phone: "+447400100123"))
            _ = try await client.request(.post, "/api/opt-outs", key: tenant.key, json: #"{"phone": "07400100123"}"#)
            #expect(try await services.optOuts.isOptedOut(tenantId: tenant.id, phone: "+447400100123"))
            _ = try await client.request(.delete, "/api/opt-outs/+447400100123?reason=ok", key: tenant.key)
            #expect(try await !services.optOuts.isOptedOut(tenantId: tenant.id, phone: "+447400100123"))
        }
    }
}
