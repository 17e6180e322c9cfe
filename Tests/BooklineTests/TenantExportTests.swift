@testable import Bookline
import BooklineCore
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing
import ZIPFoundation

@Suite("Tenant export: everything the tenant owns, nothing of another tenant's, no secrets")
struct TenantExportTests {
    @Test func jsonExportHasEveryRowOfTheTenantAndNoSecrets() async throws {
        let clock = TestClock(DataSubjectFixture.now)
        try await withApp(now: clock.closure) { client, services in
            let a = try await DataSubjectFixture.seed(client, services)
            let b = try await DataSubjectFixture.seed(client, services, phone: "+447400100888", email: "other@example.org")
            let saved = try await client.request(.put, "/api/settings/calls", key: a.tenant.key,
                                                 json: #"{"webhookSecret": "whsec-super-secret-value-123"}"#)
            #expect(saved.status == .ok)
            let owner = try await login(client, email: a.tenant.ownerEmail, password: a.tenant.ownerPassword)

            let response = try await client.request(.get, "/api/clients/\(a.tenant.id)/export", key: owner)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.headers[.contentDisposition]?.contains("attachment") == true)
            let body = try response.json()
            #expect(body["format"] as? String == "bookline.tenant-export.v1")
            let tables = try #require(body["tables"] as? [String: [[String: Any]]])
            let counts = try #require(body["counts"] as? [String: Int])

            // Every exported table matches a direct count of the tenant's rows.
            for table in DataRegistry.exportedTables {
                let direct = try await services.database.sql.raw("""
                    SELECT COUNT(*) AS n FROM \(ident: table.name) WHERE \(ident: table.tenantColumn!) = \(bind: a.tenant.id)
                    """).first()?.decode(column: "n", as: Int.self) ?? -1
                #expect(tables[table.name]?.count == direct, "\(table.name): export \(tables[table.name]?.count ?? -1), database \(direct)")
                #expect(counts[table.name] == direct)
            }
            #expect((tables["leads"]?.count ?? 0) >= 2 && (tables["messages"]?.count ?? 0) >= 2 && tables["calls"]?.count == 1)
            #expect((tables["leads"]?.first?["created_at"] as? String).flatMap(ISOTime.parse) != nil, "times are RFC 3339 with Z")
            #expect(tables["appointments"]?.count == 1 && (tables["audit_log"]?.count ?? 0) > 3 && tables["users"]?.count == 1)

            // No row of the other tenant, and no secret.
            let text = response.text
            #expect(!text.contains(b.tenant.id) && !text.contains(b.leadId) && !text.contains("+447400100888"))
            #expect(!text.contains(a.tenant.key) && !text.contains("whsec-super-secret-value-123"))
            for column in ["password_hash", "key_hash", "token_hash", "webhook_secret_sealed", "search_text", "email_key"] {
                #expect(!text.contains("\"\(column)\""), "\(column) must not be exported")
            }
            let hashes = try await services.database.sql.raw("SELECT password_hash FROM users WHERE tenant_id = \(bind: a.tenant.id)").all()
                .map { try $0.decode(column: "password_hash", as: String.self) }
            for hash in hashes { #expect(!text.contains(hash)) }
            let audit = try await services.database.sql.raw("""
                SELECT COUNT(*) AS n FROM audit_log WHERE tenant_id = \(bind: a.tenant.id) AND action = 'tenant.exported'
                """).first()?.decode(column: "n", as: Int.self)
            #expect(audit == 1)
        }
    }

    @Test func zipExportHasAManifestWhoseChecksumsVerify() async throws {
        let clock = TestClock(DataSubjectFixture.now)
        try await withApp(now: clock.closure) { client, services in
            let a = try await DataSubjectFixture.seed(client, services)
            let compliance = try await services.makePlatformUser(role: .compliance)
            let token = try await login(client, email: compliance.email, password: compliance.password)
            let response = try await client.request(.get, "/api/clients/\(a.tenant.id)/export?format=zip", key: token)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/zip")
            let archive = try Archive(data: Data(buffer: response.body), accessMode: .read)
            func read(_ name: String) throws -> Data {
                let entry = try #require(archive[name], "\(name) missing from the zip")
                var data = Data()
                _ = try archive.extract(entry) { data.append($0) }
                return data
            }
            let manifest = try #require(try JSONSerialization.jsonObject(with: read("manifest.json")) as? [String: Any])
            let files = try #require(manifest["files"] as? [[String: Any]])
            #expect(files.count == DataRegistry.exportedTables.count)
            for file in files {
                let name = try #require(file["name"] as? String)
                let data = try read(name)
                #expect(Hex.encode(SHA256.hash(data: data)) == file["sha256"] as? String, "\(name) checksum")
                let lines = data.split(separator: 0x0A)
                #expect(lines.count == file["rows"] as? Int, "\(name) rows")
                for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line))) is [String: Any]) }
            }
            let leads = try #require(files.first { $0["table"] as? String == "leads" })
            #expect(leads["rows"] as? Int == 2)
        }
    }

    /// Tables longer than one page of the row reader (`RowReader.pageSize`) are read page by
    /// page along their key: leads (text ids, a short last page) and events (integer seq, an exact
    /// multiple of the page) come back complete and each row once, matching the database.
    @Test func largeTablesArePagedWithoutLosingOrRepeatingRows() async throws {
        let clock = TestClock(DataSubjectFixture.now)
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant("Big Dental")
            let other = try await services.makeTenant("Other Dental")
            let leadCount = RowReader.pageSize * 2 + 137, eventCount = RowReader.pageSize * 2
            let now = clock.now
            func leads(_ tenantId: String, _ count: Int, prefix: String) -> [Lead] {
                (0..<count).map { index in
                    Lead(tenantId: tenantId, id: Identifier.make(now: now), name: "Lead \(index)", phone: prefix + String(format: "%05d", index),
                         phoneType: "mobile", email: nil, source: "test", status: .new, tags: [], notes: nil, customFields: [:],
                         lastContactedAt: nil, createdAt: now, updatedAt: now)
                }
            }
            let mine = leads(tenant.id, leadCount, prefix: "+4474002"), theirs = leads(other.id, 50, prefix: "+4474003")
            let events = (0..<eventCount).map { NewEvent(type: "test_event", payload: ["n": String($0)]) }
            try await services.database.transaction { db in
                try await LeadStore().insert(mine + theirs, on: db)
                try await EventLog(engine: services.database.engine).append(events, tenantId: tenant.id, on: db, now: now)
            }
            let owner = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
            let response = try await client.request(.get, "/api/clients/\(tenant.id)/export", key: owner)
            #expect(response.status == .ok)
            let body = try response.json()
            let tables = try #require(body["tables"] as? [String: [[String: Any]]])
            let counts = try #require(body["counts"] as? [String: Int])
            for table in DataRegistry.exportedTables {
                let direct = try await services.database.sql.raw("""
                    SELECT COUNT(*) AS n FROM \(ident: table.name) WHERE \(ident: table.tenantColumn!) = \(bind: tenant.id)
                    """).first()?.decode(column: "n", as: Int.self) ?? -1
                #expect(tables[table.name]?.count == direct && counts[table.name] == direct,
                        "\(table.name): export \(tables[table.name]?.count ?? -1), database \(direct)")
            }
            let leadIds = tables["leads"]?.compactMap { $0["id"] as? String } ?? []
            let storedIds = try await services.database.sql.raw("SELECT id FROM leads WHERE tenant_id = \(bind: tenant.id)").all()
                .map { try $0.decode(column: "id", as: String.self) }
            #expect(leadIds.count == leadCount && Set(leadIds).count == leadCount, "no lead twice")
            #expect(Set(leadIds) == Set(storedIds))
            let seqs = tables["events"]?.compactMap { $0["seq"] as? Int } ?? []
            #expect(seqs == Array(1...eventCount), "every event once, in order")
        }
    }

    @Test func onlyTheOwnerAdminsAndComplianceMayExport() async throws {
        try await withApp { client, services in
            let a = try await services.makeTenant("A Dental")
            let b = try await services.makeTenant("B Dental")
            let ownerB = try await login(client, email: b.ownerEmail, password: b.ownerPassword)
            let admin = try await services.makePlatformUser(role: .platformAdmin)
            let adminToken = try await login(client, email: admin.email, password: admin.password)

            let cross = try await client.request(.get, "/api/clients/\(a.id)/export", key: ownerB)
            #expect(cross.status == .notFound)
            #expect(!cross.text.contains("A Dental"))
            let apiKey = try await client.request(.get, "/api/clients/\(a.id)/export", key: a.key)
            #expect(apiKey.status == .forbidden)
            #expect(try apiKey.problem()["detail"] as? String != nil)
            let none = try await client.request(.get, "/api/clients/\(a.id)/export")
            #expect(none.status == .unauthorized)
            let forged = try await client.request(.get, "/api/clients/\(a.id)/export", key: "bk_live_forgedforgedforgedforgedforged00AAAAAA")
            #expect(forged.status == .unauthorized)
            let unknown = try await client.request(.get, "/api/clients/00000000-0000-7000-8000-000000000000/export", key: adminToken)
            #expect(unknown.status == .notFound)
            let badFormat = try await client.request(.get, "/api/clients/\(a.id)/export?format=xml", key: adminToken)
            #expect(badFormat.status == .badRequest || badFormat.status == .unprocessableContent)
            #expect((try badFormat.problem()["errors"] as? [[String: Any]])?.first?["field"] as? String == "format")
            let byAdmin = try await client.request(.get, "/api/clients/\(a.id)/export", key: adminToken)
            #expect(byAdmin.status == .ok)
            #expect((try byAdmin.json()["tables"] as? [String: Any])?["tenants"] as? [[String: Any]] != nil)
        }
    }
}
