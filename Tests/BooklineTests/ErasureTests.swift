import Bookline
import BooklineCore
import Foundation
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Data subjects: export (Art. 15/20) and erasure (Art. 17)")
struct ErasureTests {
    static func compliance(_ client: any TestClientProtocol, _ services: AppServices) async throws -> String {
        let user = try await services.makePlatformUser(role: .compliance)
        return try await login(client, email: user.email, password: user.password)
    }

    @Test func subjectExportFindsThePersonInEveryTable() async throws {
        let clock = TestClock(DataSubjectFixture.now)
        try await withApp(now: clock.closure) { client, services in
            let seeded = try await DataSubjectFixture.seed(client, services)
            let token = try await Self.compliance(client, services)
            let response = try await client.request(.post, "/api/compliance/subject-export", key: token, json: """
                {"tenantId": "\(seeded.tenant.id)", "phone": "07400 100777"}
                """)
            #expect(response.status == .ok)
            let document = try response.json()
            #expect(document["format"] as? String == "bookline.subject-export.v1")
            #expect((document["subject"] as? [String: Any])?["phone"] as? String == DataSubjectFixture.phone)
            let data = try #require(document["data"] as? [String: [[String: Any]]])
            for table in ["leads", "messages", "calls", "appointments", "appointment_slots", "events", "audit_log", "jobs"] {
                #expect((data[table]?.count ?? 0) > 0, "subject export has no \(table) rows")
            }
            #expect(data["leads"]?.count == 1 && data["leads"]?.first?["email"] as? String == DataSubjectFixture.email)
            // Found by phone, the lead's email and its email message come along too.
            #expect(data["messages"]?.contains { $0["to_address"] as? String == DataSubjectFixture.email } == true)
            #expect(data["leads"]?.contains { $0["id"] as? String == seeded.otherLeadId } == false)
            let manifest = try #require(document["manifest"] as? [[String: Any]])
            #expect(Set(manifest.compactMap { $0["table"] as? String }) == Set(data.keys))

            // The same export as a job: 202, then the document at the status URL.
            let queued = try await client.request(.post, "/api/compliance/subject-export", key: token, json: """
                {"tenantId": "\(seeded.tenant.id)", "email": "JANE.SUBJECT@example.org", "async": true}
                """)
            #expect(queued.status == .accepted)
            let id = try #require(try queued.json()["id"] as? String)
            #expect(queued.headers[.location] == "/api/compliance/subject-exports/\(id)")
            let pending = try await client.request(.get, "/api/compliance/subject-exports/\(id)", key: token).json()
            #expect(pending["status"] as? String == "pending" && pending["document"] == nil)
            let worker = JobWorker(services: services, concurrency: 8)
            while try await worker.runOnce() > 0 {}
            let done = try await client.request(.get, "/api/compliance/subject-exports/\(id)", key: token).json()
            #expect(done["status"] as? String == "completed")
            let jobData = (done["document"] as? [String: Any])?["data"] as? [String: [[String: Any]]]
            #expect(jobData?["leads"]?.first?["phone_e164"] as? String == DataSubjectFixture.phone)
        }
    }

    @Test func subjectExportIsForComplianceOnlyAndValidatesInput() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let owner = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
            let token = try await Self.compliance(client, services)
            let byOwner = try await client.request(.post, "/api/compliance/subject-export", key: owner,
                                                   json: #"{"tenantId": "\#(tenant.id)", "phone": "07400100777"}"#)
            #expect(byOwner.status == .forbidden)
            let bad = try await client.request(.post, "/api/compliance/subject-export", key: token,
                                               json: #"{"tenantId": "\#(tenant.id)", "phone": "12", "email": "nope"}"#)
            #expect(bad.status == .unprocessableContent)
            let fields = (try bad.problem()["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String }
            #expect(fields == ["phone", "email"])
            let neither = try await client.request(.post, "/api/compliance/subject-export", key: token, json: #"{"tenantId": "\#(tenant.id)"}"#)
            #expect(neither.status == .unprocessableContent)
            let noTenant = try await client.request(.post, "/api/compliance/subject-export", key: token, json: #"{"phone": "07400100777"}"#)
            #expect((try noTenant.problem()["errors"] as? [[String: Any]])?.first?["field"] as? String == "tenantId")
            let malformed = try await client.request(.post, "/api/compliance/subject-export", key: token, json: #"{"tenantId": 5"#)
            #expect(malformed.status == .badRequest)
            let wrongType = try await client.request(.post, "/api/compliance/subject-export", key: token, json: #"{"tenantId": 5, "phone": "07400100777"}"#)
            #expect(wrongType.status == .badRequest || wrongType.status == .unprocessableContent)
            let unknownTenant = try await client.request(.post, "/api/compliance/subject-export", key: token,
                                                         json: #"{"tenantId": "00000000-0000-7000-8000-000000000000", "phone": "07400100777"}"#)
            #expect(unknownTenant.status == .notFound)
            let missing = try await client.request(.get, "/api/compliance/subject-exports/00000000-0000-7000-8000-000000000000", key: token)
            #expect(missing.status == .notFound)
        }
    }

    @Test func erasureLeavesNoTraceKeepsTheNumberSuppressedAndTheChainVerifies() async throws {
        let clock = TestClock(DataSubjectFixture.now)
        try await withApp(now: clock.closure) { client, services in
            let seeded = try await DataSubjectFixture.seed(client, services)
            let tenant = seeded.tenant
            // An error message and an import summary that mention the person.
            await services.errors.record(ErrorReport(tenantId: tenant.id, service: "sms", errorType: "provider_error",
                                                     message: "Twilio refused \(DataSubjectFixture.phone)", severity: .warning))
            let imported = try await client.importLeads("phone,name\n\(DataSubjectFixture.phone),Jane\n07400100555,Other\n", key: tenant.key)
            #expect(imported.status == .ok || imported.status == .created)
            let token = try await Self.compliance(client, services)
            #expect(!(try await DataSubjectFixture.traces(of: DataSubjectFixture.phone, in: services)).isEmpty)

            let response = try await client.request(.post, "/api/compliance/erasure", key: token, json: """
                {"tenantId": "\(tenant.id)", "phone": "+44 7400 100777", "reason": "Art. 17 request #42"}
                """)
            #expect(response.status == .created)
            let receipt = try response.json()
            let counts = try #require(receipt["counts"] as? [String: Int])
            #expect(counts["leads"] == 1 && counts["appointments"] == 1 && counts["calls"] == 1 && (counts["messages"] ?? 0) >= 2)
            #expect(counts["opt_outs"] == 1 && (counts["audit_log"] ?? 0) >= 1 && (counts["events"] ?? 0) >= 1)
            #expect((receipt["requestHash"] as? String)?.count == 64 && receipt["repeated"] as? Bool == false)
            #expect(!response.text.contains("7400100777") && !response.text.contains("jane.subject"))

            // No trace of the phone or the email in any text column of any table.
            let traces = try await DataSubjectFixture.traces(of: "7400100777", in: services)
            #expect(traces == [], "\(traces)")
            #expect(try await DataSubjectFixture.traces(of: DataSubjectFixture.email, in: services) == [])
            #expect(try await DataSubjectFixture.traces(of: "Jane Subject", in: services) == [])
            // Anonymised, not deleted: the call still counts in analytics.
            #expect(try await services.database.sql.raw("SELECT COUNT(*) AS n FROM calls WHERE tenant_id = \(bind: tenant.id)").first()?
                .decode(column: "n", as: Int.self) == 1)
            // The other lead is untouched.
            #expect(try await client.request(.get, "/api/leads/\(seeded.otherLeadId)", key: tenant.key).status == .ok)

            // The number stays suppressed: creating or importing it again is refused.
            let again = try await client.request(.post, "/api/leads", key: tenant.key, json: #"{"phone": "07400100777"}"#)
            #expect(again.status == .conflict || again.status == .unprocessableContent)
            #expect(try again.problem()["type"] as? String != nil)
            let reimport = try await client.importLeads("phone\n07400100777\n", key: tenant.key)
            #expect(try reimport.count("opted_out") == 1)
            #expect(try await DataSubjectFixture.traces(of: DataSubjectFixture.phone, in: services) == [])

            // The audit chains still verify; the erasure itself is recorded without personal data.
            let verified = try await AuditReader(database: services.database).verify(tenantId: nil)
            #expect(verified.broken == nil)
            #expect(try await services.auditActions(tenantId: tenant.id).contains("subject.erased"))

            // Idempotent: the same request returns the first receipt.
            let repeated = try await client.request(.post, "/api/compliance/erasure", key: token, json: """
                {"tenantId": "\(tenant.id)", "phone": "07400100777", "reason": "again"}
                """)
            #expect(repeated.status == .ok)
            let second = try repeated.json()
            #expect(second["id"] as? String == receipt["id"] as? String && second["repeated"] as? Bool == true)
        }
    }

    @Test func ownersEraseInTheirOwnTenantOnly() async throws {
        try await withApp { client, services in
            let a = try await services.makeTenant("A Dental")
            let b = try await services.makeTenant("B Dental")
            _ = try await client.createLead(#"{"phone": "07400100321", "email": "sam@example.org"}"#, key: a.key)
            let ownerA = try await login(client, email: a.ownerEmail, password: a.ownerPassword)
            let ownerB = try await login(client, email: b.ownerEmail, password: b.ownerPassword)

            let cross = try await client.request(.post, "/api/compliance/erasure", key: ownerB,
                                                 json: #"{"tenantId": "\#(a.id)", "email": "sam@example.org", "reason": "x"}"#)
            #expect(cross.status == .notFound)
            let byKey = try await client.request(.post, "/api/compliance/erasure", key: a.key,
                                                 json: #"{"email": "sam@example.org", "reason": "x"}"#)
            #expect(byKey.status == .forbidden)
            let noReason = try await client.request(.post, "/api/compliance/erasure", key: ownerA, json: #"{"email": "sam@example.org"}"#)
            #expect((try noReason.problem()["errors"] as? [[String: Any]])?.first?["field"] as? String == "reason")
            #expect(try await client.request(.get, "/api/leads?limit=10", key: a.key).json()["items"] as? [Any] != nil)

            let own = try await client.request(.post, "/api/compliance/erasure", key: ownerA,
                                               json: #"{"email": "SAM@example.org", "reason": "Customer asked by phone"}"#)
            #expect(own.status == .created)
            #expect((try own.json()["counts"] as? [String: Int])?["leads"] == 1)
            #expect(try await DataSubjectFixture.traces(of: "sam@example.org", in: services) == [])
            #expect(try await DataSubjectFixture.traces(of: "7400100321", in: services) == [])
        }
    }
}
