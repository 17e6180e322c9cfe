@testable import Bookline
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

    /// Exported tables in which `SubjectScope` can find a person's rows (subject_exports, sealed
    /// and never exported, has no filter): probed with a scope naming one of everything.
    static var tablesWithSubjectFilter: [String] {
        let probe = SubjectScope(engine: .sqlite, tenantId: "t", phones: ["+447400100000"], emails: ["x@example.org"],
                                 leadIds: ["l"], appointmentIds: ["a"], callIds: ["c"], messageIds: ["m"], phoneHashes: ["h"])
        return DataRegistry.exportedTables.map(\.name).filter { $0 != "subject_exports" && probe.filter(for: $0) != nil }
    }

    /// Found by phone, the person's rows come back from every table that can hold them: the
    /// fixture's lead, messages, call, appointment, import report and opt-out, plus an error log.
    @Test func subjectExportFindsThePersonInEveryTable() async throws {
        let clock = TestClock(DataSubjectFixture.now)
        try await withApp(now: clock.closure) { client, services in
            let seeded = try await DataSubjectFixture.seed(client, services)
            // No code path writes an address into error_logs (they are kept free of them), so
            // this one is recorded directly, as a provider's message quoting the number might be.
            await services.errors.record(ErrorReport(tenantId: seeded.tenant.id, service: "sms", errorType: "provider_error",
                                                     message: "Twilio refused \(DataSubjectFixture.phone)", severity: .warning))
            let token = try await Self.compliance(client, services)
            let response = try await client.request(.post, "/api/compliance/subject-export", key: token, json: """
                {"tenantId": "\(seeded.tenant.id)", "phone": "07400 100777"}
                """)
            #expect(response.status == .ok)
            let document = try response.json()
            #expect(document["format"] as? String == "bookline.subject-export.v1")
            #expect((document["subject"] as? [String: Any])?["phone"] as? String == DataSubjectFixture.phone)
            let data = try #require(document["data"] as? [String: [[String: Any]]])
            let tables = Self.tablesWithSubjectFilter
            // Every table an erasure touches is one the scope can search (so none drops out of this check).
            #expect(Set(tables) == Set(DataRegistry.exportedTables.filter { $0.erasure != .none }.map(\.name)), "\(tables)")
            for table in tables {
                #expect((data[table]?.count ?? 0) > 0, "subject export has no \(table) rows")
            }
            #expect(data["opt_outs"]?.first?["phone_e164"] as? String == DataSubjectFixture.phone)
            #expect(data["opt_outs"]?.first?["note"] as? String == "Asked at reception")
            let importRows = (data["lead_imports"]?.first?["summary"] as? [String: Any])?["rows"] as? [[String: Any]]
            #expect(importRows?.first?["phone"] as? String == DataSubjectFixture.phone, "\(data["lead_imports"] ?? [])")
            #expect((data["error_logs"]?.first?["message"] as? String)?.contains(DataSubjectFixture.phone) == true)
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

    /// Past the inline threshold (BOOKLINE_SUBJECT_EXPORT_INLINE_ROWS) an export asked for
    /// without `async` still runs as a job: 202 and a Location to poll. A smaller one stays inline.
    @Test func aSubjectExportOverTheInlineThresholdRunsAsAJob() async throws {
        let clock = TestClock(DataSubjectFixture.now)
        try await withApp(configure: { $0.subjectExportInlineRows = 5 }, now: clock.closure) { client, services in
            let seeded = try await DataSubjectFixture.seed(client, services)
            let token = try await Self.compliance(client, services)
            let response = try await client.request(.post, "/api/compliance/subject-export", key: token, json: """
                {"tenantId": "\(seeded.tenant.id)", "phone": "07400100777"}
                """)
            #expect(response.status == .accepted)
            let queued = try response.json()
            let id = try #require(queued["id"] as? String)
            #expect(response.headers[.location] == "/api/compliance/subject-exports/\(id)")
            #expect(queued["status"] as? String == "pending" && queued["document"] == nil)
            let mode = try await services.database.sql.raw("""
                SELECT details FROM audit_log WHERE tenant_id = \(bind: seeded.tenant.id) AND action = 'subject.exported'
                """).first()?.decode(column: "details", as: String.self)
            #expect(mode?.contains(#""mode":"job""#) == true, "\(mode ?? "no audit row")")

            // Someone with no rows yet is under the threshold: answered at once. Their document
            // holds just the audit entry of this very export (it names them).
            let small = try await client.request(.post, "/api/compliance/subject-export", key: token, json: """
                {"tenantId": "\(seeded.tenant.id)", "phone": "07400100999"}
                """)
            #expect(small.status == .ok && small.headers[.location] == nil)
            let smallData = try #require(try small.json()["data"] as? [String: [[String: Any]]], "\(small.text)")
            #expect(Array(smallData.keys) == ["audit_log"] && smallData["audit_log"]?.count == 1)
            #expect((smallData["audit_log"]?.first?["details"] as? [String: Any])?["mode"] as? String == "inline")

            let worker = JobWorker(services: services, concurrency: 8)
            while try await worker.runOnce() > 0 {}
            let done = try await client.request(.get, "/api/compliance/subject-exports/\(id)", key: token).json()
            #expect(done["status"] as? String == "completed")
            let manifest = (done["document"] as? [String: Any])?["manifest"] as? [[String: Any]] ?? []
            #expect(manifest.compactMap { $0["rows"] as? Int }.reduce(0, +) > 5)
        }
    }

    /// An erasure also removes the person's subject exports, finished (the sealed document holds
    /// their data) or still queued: the receipt counts them, their status URLs answer 404, and the
    /// queued job finds nothing to write. Another person's export in the tenant stays.
    @Test func erasureRemovesThePersonsSubjectExports() async throws {
        let clock = TestClock(DataSubjectFixture.now)
        try await withApp(now: clock.closure) { client, services in
            let seeded = try await DataSubjectFixture.seed(client, services)
            let tenant = seeded.tenant
            let token = try await Self.compliance(client, services)
            func queue(_ who: String) async throws -> String {
                let response = try await client.request(.post, "/api/compliance/subject-export", key: token, json: """
                    {"tenantId": "\(tenant.id)", \(who), "async": true}
                    """)
                #expect(response.status == .accepted)
                return try #require(try response.json()["id"] as? String)
            }
            func status(_ id: String) async throws -> TestResponse {
                try await client.request(.get, "/api/compliance/subject-exports/\(id)", key: token)
            }
            let worker = JobWorker(services: services, concurrency: 8)
            let finished = try await queue(#""phone": "07400100777""#)
            let other = try await queue(#""phone": "07400101000""#)
            while try await worker.runOnce() > 0 {}
            #expect(try await status(finished).json()["status"] as? String == "completed")
            // Asked by email, still pending when the erasure (by phone) comes.
            let pending = try await queue(#""email": "\#(DataSubjectFixture.email)""#)
            #expect(try await status(pending).json()["status"] as? String == "pending")

            let erased = try await client.request(.post, "/api/compliance/erasure", key: token, json: """
                {"tenantId": "\(tenant.id)", "phone": "07400100777", "reason": "Art. 17 request #43"}
                """)
            #expect(erased.status == .created)
            let counts = try #require(try erased.json()["counts"] as? [String: Int])
            #expect(counts["subject_exports"] == 2, "\(counts)")
            #expect(try await status(finished).status == .notFound)
            #expect(try await status(pending).status == .notFound)
            #expect(try await status(other).json()["status"] as? String == "completed")

            // The queued job runs after all and brings nothing back.
            while try await worker.runOnce() > 0 {}
            #expect(try await status(pending).status == .notFound)
            let left = try await services.database.sql.raw("SELECT id FROM subject_exports WHERE tenant_id = \(bind: tenant.id)").all()
                .map { try $0.decode(column: "id", as: String.self) }
            #expect(left == [other])
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
            // The fixture's opt-out stays (by hash) without its number or note.
            let optOut = try await services.database.sql.raw("""
                SELECT phone_e164, note FROM opt_outs WHERE tenant_id = \(bind: tenant.id)
                """).all().map { [try $0.decode(column: "phone_e164", as: String?.self), try $0.decode(column: "note", as: String?.self)] }
            #expect(optOut == [[nil, nil]])
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
