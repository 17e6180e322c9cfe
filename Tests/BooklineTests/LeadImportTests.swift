import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Lead import: CSV and JSON, duplicates, opt-outs, limits")
struct LeadImportTests {
    @Test func csvQuirksAreTolerated() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            // BOM, CRLF, aliases, quoted fields with commas and doubled quotes, an extra column,
            // a missing optional column (no email), a short row and empty lines.
            let csv = "\u{FEFF}Full Name,Mobile,Tags,Postcode\r\n"
                + "\"Smith, Jane\",07400 100001,\"vip,new\",SW1A 1AA\r\n"
                + "\r\n"
                + "\"Bob \"\"The Builder\"\" Jones\",+44 (0)20 7946 0018,,\r\n"
                + "Short Row,07400100003\r\n"
                + ",,,\r\n"
            let response = try await client.importLeads(csv, key: tenant.key)
            #expect(response.status == .ok, "\(response.text)")
            let body = try response.json()
            #expect(body["total"] as? Int == 3)
            #expect(try response.count("imported") == 3)
            #expect(try response.count("invalid") == 0)
            let columns = try #require(body["columns"] as? [String: Any])
            #expect((columns["mapped"] as? [String: String]) == ["name": "Full Name", "phone": "Mobile", "tags": "Tags"])
            #expect(columns["custom"] as? [String] == ["Postcode"])
            #expect(try response.rows().map { $0["row"] as? Int } == [2, 4, 5], "rows count like a spreadsheet")

            let list = try await client.request(.get, "/api/leads", key: tenant.key)
            let leads = try #require(try list.json()["items"] as? [[String: Any]])
            let jane = try #require(leads.first { $0["phone"] as? String == "+447400100001" })
            #expect(jane["name"] as? String == "Smith, Jane")
            #expect(jane["tags"] as? [String] == ["vip", "new"])
            #expect((jane["customFields"] as? [String: Any])?["Postcode"] as? String == "SW1A 1AA")
            #expect(jane["source"] as? String == "import")
            #expect(leads.contains { $0["name"] as? String == "Bob \"The Builder\" Jones" && $0["phone"] as? String == "+442079460018" })
            #expect(try await services.eventTypes(tenantId: tenant.id) == ["leads_imported"], "one event per committed batch")
            let payload = try #require(try await services.database.sql.raw("SELECT payload FROM events WHERE tenant_id = \(bind: tenant.id)")
                .first()?.decode(column: "payload", as: String.self))
            let importId = try #require(body["id"] as? String)
            #expect(payload.contains(#""imported":"3""#) && payload.contains(importId))
            #expect(try await services.auditActions(tenantId: tenant.id).last == "leads.imported")
        }
    }

    @Test func invalidRowsAreReportedWithRowNumberAndReason() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let csv = """
                name,phone,email
                Good,07400100001,good@example.com
                No Phone,,x@example.com
                Premium,09065 123456,
                Short,0740010,
                Bad Email,07400100002,not-an-email
                Letters,call me,
                """
            let response = try await client.importLeads(csv, key: tenant.key)
            #expect(response.status == .ok)
            #expect(try response.count("imported") == 1)
            #expect(try response.count("invalid") == 5)
            let reasons = try response.rows().filter { $0["outcome"] as? String == "invalid" }.map { "\($0["row"]!):\($0["reason"]!)" }
            #expect(reasons == ["3:phone_missing", "4:phone_premium", "5:phone_invalid_length", "6:email_missing_at",
                                "7:phone_invalid_characters"])
            #expect(try await services.countRows("leads", tenantId: tenant.id) == 1)
        }
    }

    @Test func fileLevelProblemsAreRefusedBeforeAnyWrite() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let noPhone = try await client.importLeads("name,email\nJane,jane@example.com\n", key: tenant.key)
            #expect(noPhone.status == .unprocessableContent)
            #expect((try noPhone.problem()["detail"] as? String)?.contains("phone column") == true)

            let semicolons = "name;phone\nJane;07400100001\n"
            let wrongDelimiter = try await client.importLeads(semicolons, key: tenant.key)
            #expect(wrongDelimiter.status == .unprocessableContent)
            #expect((try wrongDelimiter.problem()["detail"] as? String)?.contains("semicolon") == true)
            let explicit = try await client.importLeads(semicolons, key: tenant.key, query: "?delimiter=semicolon&dry_run=true")
            #expect(try explicit.count("imported") == 1)

            let badQuote = try await client.importLeads("name,phone\nJa\"ne,07400100001\n", key: tenant.key)
            #expect(badQuote.status == .badRequest)
            #expect(try await client.importLeads("", key: tenant.key).status == .badRequest)
            #expect(try await client.importLeads("name,phone\n", key: tenant.key, contentType: "application/xml").status == .unsupportedMediaType)
            #expect(try await client.importLeads("[1, 2", key: tenant.key, contentType: "application/json").status == .badRequest)
            #expect(try await client.importLeads(#"{"rows": []}"#, key: tenant.key, contentType: "application/json").status == .badRequest)
            #expect(try await client.importLeads("x", key: tenant.key, query: "?dry_run=maybe").status == .unprocessableContent)

            #expect(try await services.countRows("leads", tenantId: tenant.id) == 0)
            #expect(try await services.countRows("lead_imports", tenantId: tenant.id) == 0)
        }
    }

    @Test func oversizedImportsAreRefusedWithoutWrites() async throws {
        try await withApp(configure: { $0.maxImportBytes = 64 * 1024 }) { client, services in
            let tenant = try await services.makeTenant()
            // Free tier: 500 rows per file.
            let rows = (1...501).map { "Lead \($0),074001\(String(format: "%05d", $0))" }.joined(separator: "\n")
            let tooMany = try await client.importLeads("name,phone\n" + rows, key: tenant.key)
            #expect(tooMany.status == .unprocessableContent)
            let problem = try tooMany.problem()
            #expect(problem["type"] as? String == "urn:bookline:problem:import-too-large")
            #expect((problem["detail"] as? String)?.contains("500") == true)
            let json = "[" + (1...501).map { #"{"phone": "074001\#(String(format: "%05d", $0))"}"# }.joined(separator: ",") + "]"
            #expect(try await client.importLeads(json, key: tenant.key, contentType: "application/json").status == .unprocessableContent)

            let huge = "name,phone\n" + String(repeating: "x", count: 70 * 1024)
            let tooBig = try await client.importLeads(huge, key: tenant.key)
            #expect(tooBig.status == .contentTooLarge)
            #expect(try await services.countRows("leads", tenantId: tenant.id) == 0)
            #expect(try await services.countRows("events", tenantId: tenant.id) == 0)

            // The import limit is separate from (and larger than) the JSON body limit.
            let ok = try await client.importLeads("name,phone\n" + rows.split(separator: "\n").prefix(500).joined(separator: "\n"), key: tenant.key)
            #expect(try ok.count("imported") == 500)
        }
    }

    @Test func sameNumberTwiceInOneFileKeepsTheFirst() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let csv = "name,phone\nFirst,07400100001\nSecond,+44 7400 100001\nThird,07400100002\n"
            let response = try await client.importLeads(csv, key: tenant.key)
            #expect(try response.count("imported") == 2)
            #expect(try response.count("skipped_duplicate") == 1)
            let second = try #require(try response.rows().first { $0["row"] as? Int == 3 })
            #expect(second["reason"] as? String == "duplicate_in_file" && second["phone"] as? String == "+447400100001")
            let lead = try #require(try await services.leads.list(tenantId: tenant.id, filter: LeadFilter(), limit: 10, cursor: nil)
                .first { $0.phone == "+447400100001" })
            #expect(lead.name == "First")
        }
    }

    /// The duplicate window's edges: < 7 days skip, 7 to < 30 days warn (and merge), ≥ 30 days update.
    static let windowEdges: [(Int, String)] = [
        (6 * 86400 + 23 * 3600, "skipped_duplicate"), (7 * 86400, "warned_duplicate"),
        (29 * 86400 + 23 * 3600, "warned_duplicate"), (30 * 86400, "updated"), (31 * 86400, "updated"),
    ]

    @Test(arguments: windowEdges)
    func duplicateWindowEdges(age: Int, expected: String) async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_790_000_000))
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let id = try #require(try await client.createLead(#"{"name": "Old", "phone": "07400100001"}"#, key: tenant.key)["id"] as? String)
            // Last contact is what counts, not creation.
            clock.advance(by: 90 * 86400)
            _ = try await client.request(.post, "/api/leads/\(id)/status", key: tenant.key, json: #"{"status": "contacted"}"#)
            clock.advance(by: TimeInterval(age))
            let response = try await client.importLeads("name,phone,tags\nNew Name,07400100001,returning\n", key: tenant.key)
            #expect(try response.count(expected) == 1, "\(response.text)")
            let row = try #require(try response.rows().first)
            #expect(row["leadId"] as? String == id)
            let lead = try #require(try await services.leads.find(tenantId: tenant.id, id: id))
            #expect(lead.name == (expected == "skipped_duplicate" ? "Old" : "New Name"))
            #expect(lead.tags == (expected == "skipped_duplicate" ? [] : ["returning"]))
            #expect(try await services.countRows("leads", tenantId: tenant.id) == 1)
        }
    }

    @Test func tenantDuplicateSettingsChangeTheWindow() async throws {
        let clock = TestClock()
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            _ = try await client.createLead(#"{"phone": "07400100001"}"#, key: tenant.key)
            clock.advance(by: 10 * 86400)
            #expect(try await client.importLeads("phone\n07400100001\n", key: tenant.key, query: "?dry_run=true").count("warned_duplicate") == 1)
            _ = try await client.request(.put, "/api/settings/leads", key: tenant.key, json: #"{"duplicateLookbackDays": 60, "duplicateSkipDays": 14}"#)
            #expect(try await client.importLeads("phone\n07400100001\n", key: tenant.key, query: "?dry_run=true").count("skipped_duplicate") == 1)
        }
    }

    @Test func dryRunReportsTheSameAndWritesNothing() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            _ = try await client.createLead(#"{"phone": "07400100001"}"#, key: tenant.key)
            _ = try await client.request(.post, "/api/opt-outs", key: tenant.key, json: #"{"phone": "07400100009", "reason": "complaint"}"#)
            let before = (try await services.countRows("events", tenantId: tenant.id), try await services.auditActions(tenantId: tenant.id).count)
            let csv = "phone\n07400100001\n07400100002\n07400100009\nnope\n07400100002\n"
            let dry = try await client.importLeads(csv, key: tenant.key, query: "?dry_run=true")
            #expect(dry.status == .ok)
            let body = try dry.json()
            #expect(body["dryRun"] as? Bool == true && body["id"] == nil)
            let counts = try #require(body["counts"] as? [String: Int])
            #expect(counts == ["imported": 1, "updated": 0, "skipped_duplicate": 2, "warned_duplicate": 0, "opted_out": 1, "invalid": 1])
            #expect(try await services.countRows("leads", tenantId: tenant.id) == 1)
            #expect(try await services.countRows("lead_imports", tenantId: tenant.id) == 0)
            #expect(try await services.countRows("events", tenantId: tenant.id) == before.0)
            #expect(try await services.auditActions(tenantId: tenant.id).count == before.1)

            let real = try await client.importLeads(csv, key: tenant.key)
            #expect(try real.json()["counts"] as? [String: Int] == counts, "the dry run predicts the real import")
        }
    }

    @Test func jsonImportAcceptsArraysAndObjects() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let json = """
                {"leads": [
                  {"first_name": "Ada", "last_name": "Lovelace", "mobile": "07400100001", "tags": ["vip"], "customFields": {"visits": 2}},
                  {"name": "Numbers", "phone": 442079460018, "e-mail": "n@example.com", "tags": "a, b", "plan": "gold"},
                  "not an object",
                  {"name": "Invalid", "phone": "123"}
                ]}
                """
            let response = try await client.importLeads(json, key: tenant.key, contentType: "application/json")
            #expect(response.status == .ok, "\(response.text)")
            #expect(try response.count("imported") == 2)
            #expect(try response.count("invalid") == 2)
            #expect(try response.rows().map { $0["reason"] as? String } == [nil, nil, "not_an_object", "phone_missing_country_code"])
            let leads = try await services.leads.list(tenantId: tenant.id, filter: LeadFilter(), limit: 10, cursor: nil)
            let ada = try #require(leads.first { $0.phone == "+447400100001" })
            #expect(ada.name == "Ada Lovelace" && ada.tags == ["vip"] && ada.customFields == ["visits": .integer(2)])
            let numbers = try #require(leads.first { $0.phone == "+442079460018" })
            #expect(numbers.email == "n@example.com" && numbers.tags == ["a", "b"] && numbers.customFields == ["plan": .string("gold")])
        }
    }

    @Test func largeImportsRunInTheBackgroundWithProgress() async throws {
        try await withApp(configure: { $0.backgroundImportRows = 10 }) { client, services in
            let tenant = try await services.makeTenant()
            let csv = "name,phone\n" + (1...40).map { "Lead \($0),074001\(String(format: "%05d", $0))" }.joined(separator: "\n")
            let response = try await client.importLeads(csv, key: tenant.key)
            #expect(response.status == .accepted)
            let id = try #require(try response.json()["id"] as? String)
            #expect(response.headers[.location] == "/api/leads/imports/\(id)")
            #expect(try response.json()["background"] as? Bool == true)
            await services.importRunner.wait(for: id)
            let status = try await client.request(.get, "/api/leads/imports/\(id)", key: tenant.key)
            let body = try status.json()
            #expect(body["status"] as? String == "completed")
            #expect(body["processed"] as? Int == 40 && body["total"] as? Int == 40)
            #expect((body["counts"] as? [String: Int])?["imported"] == 40)
            #expect(try await services.countRows("leads", tenantId: tenant.id) == 40)
            let list = try await client.request(.get, "/api/leads/imports", key: tenant.key)
            #expect((try list.json()["items"] as? [[String: Any]])?.first?["id"] as? String == id)

            let other = try await services.makeTenant("Other Ltd")
            #expect(try await client.request(.get, "/api/leads/imports/\(id)", key: other.key).status == .notFound)
            #expect(try await client.request(.get, "/api/leads/imports/nope", key: tenant.key).status == .notFound)
        }
    }

    @Test func aStoppedImportRecordsWhereItStopped() async throws {
        try await withApp(configure: { $0.backgroundImportRows = 10 }) { client, services in
            let tenant = try await services.makeTenant()
            try await services.setTier("enterprise", tenantId: tenant.id)
            let rows = LeadImporter.batchSize + 1000
            let csv = "phone\n" + (1...rows).map { "074001\(String(format: "%05d", $0))" }.joined(separator: "\n")
            let response = try await client.importLeads(csv, key: tenant.key)
            let id = try #require(try response.json()["id"] as? String)
            // What a shutdown does: cancel; the import stops after a whole batch.
            await services.importRunner.cancelAll()
            let record = try await client.request(.get, "/api/leads/imports/\(id)", key: tenant.key).json()
            let processed = try #require(record["processed"] as? Int)
            let status = try #require(record["status"] as? String)
            #expect(status == "interrupted" || (status == "completed" && processed == rows))
            #expect(processed == rows || processed % LeadImporter.batchSize == 0)
            #expect(try await services.countRows("leads", tenantId: tenant.id) == processed, "no half-written batch")
            if status == "interrupted" { #expect((record["error"] as? String)?.contains("\(processed) of \(rows)") == true) }
        }
    }

    @Test func stalledRunningImportsReadAsInterrupted() async throws {
        let clock = TestClock()
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let now = clock.now
            try await services.database.sql.raw("""
                INSERT INTO lead_imports (tenant_id, id, status, format, total_rows, processed_rows, created_at, updated_at)
                VALUES (\(bind: tenant.id), \(bind: Identifier.make(now: now)), 'running', 'csv', 9000, 3000, \(bind: now), \(bind: now))
                """).run()
            clock.advance(by: 600)
            let list = try await client.request(.get, "/api/leads/imports", key: tenant.key)
            let item = try #require((try list.json()["items"] as? [[String: Any]])?.first)
            #expect(item["status"] as? String == "interrupted")
            #expect(item["processed"] as? Int == 3000 && item["total"] as? Int == 9000)
        }
    }
}
