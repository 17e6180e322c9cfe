import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Leads: create, read, update, delete, status")
struct LeadTests {
    @Test func createReadUpdateDeleteWritesEventsAndAudit() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let created = try await client.request(.post, "/api/leads", key: tenant.key, json: """
                {"name": " Ada Lovelace ", "phone": "07400 100123", "email": "Ada@Example.COM", "tags": ["vip", "VIP", "new"],
                 "customFields": {"postcode": "SW1A 1AA", "visits": 3, "insured": true}}
                """)
            #expect(created.status == .created)
            let lead = try created.json()
            let id = try #require(lead["id"] as? String)
            #expect(created.headers[.location] == "/api/leads/\(id)")
            #expect(lead["name"] as? String == "Ada Lovelace")
            #expect(lead["phone"] as? String == "+447400100123")
            #expect(lead["phoneType"] as? String == "mobile")
            #expect(lead["email"] as? String == "Ada@example.com")
            #expect(lead["status"] as? String == "new")
            #expect(lead["source"] as? String == "api")
            #expect(lead["tags"] as? [String] == ["vip", "new"])
            let custom = try #require(lead["customFields"] as? [String: Any])
            #expect(custom["postcode"] as? String == "SW1A 1AA" && custom["visits"] as? Int == 3 && custom["insured"] as? Bool == true)

            let read = try await client.request(.get, "/api/leads/\(id)", key: tenant.key)
            #expect(read.status == .ok)
            #expect(try read.json()["phone"] as? String == "+447400100123")

            let patched = try await client.request(.patch, "/api/leads/\(id)", key: tenant.key,
                                                   json: #"{"name": "Ada King", "email": "", "phone": "+44 20 7946 0018"}"#)
            #expect(patched.status == .ok)
            let after = try patched.json()
            #expect(after["name"] as? String == "Ada King")
            #expect(after["email"] == nil, "an empty string clears the field")
            #expect(after["phone"] as? String == "+442079460018" && after["phoneType"] as? String == "landline")
            #expect(after["tags"] as? [String] == ["vip", "new"], "fields not sent stay as they were")

            let deleted = try await client.request(.delete, "/api/leads/\(id)", key: tenant.key)
            #expect(deleted.status == .noContent)
            #expect(try await client.request(.get, "/api/leads/\(id)", key: tenant.key).status == .notFound)

            #expect(try await services.eventTypes(tenantId: tenant.id) == ["lead_created", "lead_deleted"])
            let seqs = try await services.database.sql.raw("SELECT seq FROM events WHERE tenant_id = \(bind: tenant.id) ORDER BY seq")
                .all().map { try $0.decode(column: "seq", as: Int.self) }
            #expect(seqs == [1, 2])
            let actions = try await services.auditActions(tenantId: tenant.id)
            #expect(actions.suffix(3) == ["lead.created", "lead.updated", "lead.deleted"])
        }
    }

    @Test func badInputIsRefusedNamingTheField() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            func problem(_ json: String) async throws -> (HTTPResponse.Status, [String: Any]) {
                let response = try await client.request(.post, "/api/leads", key: tenant.key, json: json)
                return (response.status, try response.problem())
            }
            var (status, body) = try await problem(#"{"name": "No Phone"}"#)
            #expect(status == .unprocessableContent && body["detail"] as? String == "phone: is required")
            (status, body) = try await problem(#"{"phone": "09065 123456"}"#)
            #expect(status == .unprocessableContent && (body["detail"] as? String)?.contains("premium") == true)
            (status, body) = try await problem(#"{"phone": "07400 1001"}"#)
            #expect(status == .unprocessableContent && (body["detail"] as? String)?.contains("number of digits") == true)
            (status, body) = try await problem(#"{"phone": "07400100123", "email": "not-an-email"}"#)
            #expect(status == .unprocessableContent && (body["errors"] as? [[String: Any]])?.first?["field"] as? String == "email")
            (status, body) = try await problem(#"{"phone": 7400100123}"#)
            #expect(status == .badRequest && (body["detail"] as? String)?.contains("phone") == true)
            (status, body) = try await problem(#"{"phone": "07400100123", "customFields": {"nested": {"a": 1}}}"#)
            #expect(status == .badRequest && (body["detail"] as? String)?.contains("customFields") == true)
            (status, body) = try await problem(#"{"phone": "07400100123", "tags": [\#((1...21).map { "\"t\($0)\"" }.joined(separator: ","))]}"#)
            #expect(status == .unprocessableContent && (body["detail"] as? String)?.contains("tags") == true)
            (status, body) = try await problem(#"{"phone": "07400100123", "status": "booked"}"#)
            #expect(status == .unprocessableContent && (body["detail"] as? String)?.contains("/status") == true)
            (status, body) = try await problem(#"{"phone": "07400100123", "name": "\#(String(repeating: "x", count: 201))"}"#)
            #expect(status == .unprocessableContent && (body["errors"] as? [[String: Any]])?.first?["field"] as? String == "name")
            (status, _) = try await problem(#"{"phone": "07400100123""#)
            #expect(status == .badRequest)
            #expect(try await services.countRows("leads", tenantId: tenant.id) == 0)
        }
    }

    @Test func samePhoneInAnotherFormatIsADuplicate() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let first = try await client.createLead(#"{"phone": "+44 7400 100123"}"#, key: tenant.key)
            let again = try await client.request(.post, "/api/leads", key: tenant.key, json: #"{"phone": "0044 7400-100-123"}"#)
            #expect(again.status == .conflict)
            #expect((try again.problem()["detail"] as? String)?.contains(first["id"] as! String) == true)
            // Another tenant may hold the same number.
            let other = try await services.makeTenant("Other Ltd")
            #expect(try await client.request(.post, "/api/leads", key: other.key, json: #"{"phone": "07400100123"}"#).status == .created)
        }
    }

    @Test func anotherTenantsLeadIsNotFound() async throws {
        try await withApp { client, services in
            let owner = try await services.makeTenant("Owner Ltd")
            let intruder = try await services.makeTenant("Intruder Ltd")
            let lead = try await client.createLead(#"{"name": "Private Person", "phone": "07400100123"}"#, key: owner.key)
            let id = try #require(lead["id"] as? String)
            for (method, path, json) in [(HTTPRequest.Method.get, "/api/leads/\(id)", nil as String?),
                                         (.patch, "/api/leads/\(id)", #"{"name": "Hijack"}"#),
                                         (.delete, "/api/leads/\(id)", nil),
                                         (.post, "/api/leads/\(id)/status", #"{"status": "contacted"}"#)] {
                let response = try await client.request(method, path, key: intruder.key, json: json)
                #expect(response.status == .notFound, "\(method) \(path)")
                #expect(!response.text.contains("Private Person"))
            }
            let list = try await client.request(.get, "/api/leads", key: intruder.key)
            #expect(!list.text.contains(id))
            #expect(try await client.request(.get, "/api/leads/not-an-id", key: owner.key).status == .notFound)
            let still = try await client.request(.get, "/api/leads/\(id)", key: owner.key)
            #expect(try still.json()["name"] as? String == "Private Person")
            #expect(try await client.request(.get, "/api/leads/\(id)").status == .unauthorized)
            #expect(try await client.request(.get, "/api/leads/\(id)", key: "bk_live_forged").status == .unauthorized)
        }
    }

    @Test func readOnlyKeyCannotWrite() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant(scopes: ["leads:read"])
            let response = try await client.request(.post, "/api/leads", key: tenant.key, json: #"{"phone": "07400100123"}"#)
            #expect(response.status == .forbidden)
            #expect((try response.problem()["detail"] as? String)?.contains("leads:write") == true)
            #expect(try await client.request(.get, "/api/leads", key: tenant.key).status == .ok)
        }
    }

    @Test func listFiltersSearchesAndPagesInAStableOrder() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_790_000_000))
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let specs = [
                #"{"name": "Alice Smith", "phone": "07400100001", "email": "alice@example.com", "tags": ["vip"], "source": "web"}"#,
                #"{"name": "Bob Jones", "phone": "07400100002", "tags": ["cold"], "source": "referral"}"#,
                #"{"name": "Carol Smith", "phone": "07400100003", "tags": ["vip", "cold"], "source": "web"}"#,
                #"{"name": "Dan 100% Brown", "phone": "07400100004", "source": "web"}"#,
                #"{"name": "Eve_Adams", "phone": "+33612345678", "source": "referral"}"#,
            ]
            var ids: [String] = []
            for spec in specs {
                ids.append(try #require(try await client.createLead(spec, key: tenant.key)["id"] as? String))
                clock.advance(by: 3600)
            }
            _ = try await client.request(.post, "/api/leads/\(ids[1])/status", key: tenant.key, json: #"{"status": "contacted"}"#)
            func names(_ query: String) async throws -> [String] {
                let response = try await client.request(.get, "/api/leads\(query)", key: tenant.key)
                #expect(response.status == .ok, "\(query): \(response.text)")
                return (try response.json()["items"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            }
            #expect(try await names("") == ["Eve_Adams", "Dan 100% Brown", "Carol Smith", "Bob Jones", "Alice Smith"])
            #expect(try await names("?status=contacted") == ["Bob Jones"])
            #expect(try await names("?status=new,contacted").count == 5)
            #expect(try await names("?tag=vip") == ["Carol Smith", "Alice Smith"])
            #expect(try await names("?tag=vi") == [], "tags match whole")
            #expect(try await names("?source=referral") == ["Eve_Adams", "Bob Jones"])
            #expect(try await names("?q=smith") == ["Carol Smith", "Alice Smith"])
            #expect(try await names("?q=ALICE%40EXAMPLE") == ["Alice Smith"])
            #expect(try await names("?q=100002") == ["Bob Jones"])
            #expect(try await names("?q=100%25") == ["Dan 100% Brown"], "% is literal")
            #expect(try await names("?q=e_a") == ["Eve_Adams"], "_ is literal")
            let from = Date(timeIntervalSince1970: 1_790_000_000 + 3600).formatted(.iso8601)
            let to = Date(timeIntervalSince1970: 1_790_000_000 + 3 * 3600).formatted(.iso8601)
            #expect(try await names("?createdFrom=\(from)&createdTo=\(to)") == ["Carol Smith", "Bob Jones"])

            var seen: [String] = []
            var cursor: String?
            repeat {
                let response = try await client.request(.get, "/api/leads?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), key: tenant.key)
                let body = try response.json()
                seen += (body["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = body["nextCursor"] as? String
            } while cursor != nil
            #expect(seen == ids.reversed())

            for bad in ["?status=sleeping", "?limit=0", "?limit=201", "?cursor=zzz", "?createdFrom=yesterday", "?q="] {
                let response = try await client.request(.get, "/api/leads\(bad)", key: tenant.key)
                #expect(response.status == .unprocessableContent, "\(bad)")
                #expect(try response.problem()["errors"] != nil)
            }
        }
    }

    @Test func statusMovesOnlyAlongAllowedTransitions() async throws {
        let clock = TestClock()
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let id = try #require(try await client.createLead(#"{"phone": "07400100123"}"#, key: tenant.key)["id"] as? String)
            let contacted = try await client.request(.post, "/api/leads/\(id)/status", key: tenant.key,
                                                     json: #"{"status": "contacted", "reason": "first call"}"#)
            #expect(contacted.status == .ok)
            #expect(try contacted.json()["status"] as? String == "contacted")
            #expect(try contacted.json()["lastContactedAt"] as? String != nil)

            let booked = try await client.request(.post, "/api/leads/\(id)/status", key: tenant.key, json: #"{"status": "booked"}"#)
            #expect(try booked.json()["status"] as? String == "booked")
            let back = try await client.request(.post, "/api/leads/\(id)/status", key: tenant.key, json: #"{"status": "new"}"#)
            #expect(back.status == .conflict)
            #expect((try back.problem()["detail"] as? String)?.contains("booked to new") == true)
            let unknown = try await client.request(.post, "/api/leads/\(id)/status", key: tenant.key, json: #"{"status": "asleep"}"#)
            #expect(unknown.status == .unprocessableContent)

            let optedOut = try await client.request(.post, "/api/leads/\(id)/status", key: tenant.key,
                                                    json: #"{"status": "opted_out", "reason": "asked on the phone"}"#)
            #expect(try optedOut.json()["status"] as? String == "opted_out")
            #expect(try await services.optOuts.isOptedOut(tenantId: tenant.id, phone: "+447400100123"))
            let stuck = try await client.request(.post, "/api/leads/\(id)/status", key: tenant.key, json: #"{"status": "contacted"}"#)
            #expect(stuck.status == .conflict)
            #expect((try stuck.problem()["detail"] as? String)?.contains("/api/opt-outs") == true)

            let events = try await services.database.sql.raw("""
                SELECT type, payload FROM events WHERE tenant_id = \(bind: tenant.id) ORDER BY seq
                """).all().map { (try $0.decode(column: "type", as: String.self), try $0.decode(column: "payload", as: String.self)) }
            #expect(events.map(\.0) == ["lead_created", "lead_status_changed", "lead_status_changed", "lead_opted_out"])
            #expect(events[1].1.contains(#""from":"new""#) && events[1].1.contains(#""reason":"first call""#))
            let actions = try await services.auditActions(tenantId: tenant.id)
            #expect(actions.filter { $0 == "lead.status_changed" }.count == 2)
            #expect(actions.last == "opt_out.created")
        }
    }

    @Test func duplicateSettingsAreValidatedAndAudited() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let defaults = try await client.request(.get, "/api/settings/leads", key: tenant.key)
            #expect(try defaults.json()["duplicateLookbackDays"] as? Int == 30)
            #expect(try defaults.json()["duplicateSkipDays"] as? Int == 7)
            let bad = try await client.request(.put, "/api/settings/leads", key: tenant.key,
                                               json: #"{"duplicateLookbackDays": 5, "duplicateSkipDays": 7}"#)
            #expect(bad.status == .unprocessableContent)
            #expect((try bad.problem()["errors"] as? [[String: Any]])?.first?["field"] as? String == "duplicateSkipDays")
            let good = try await client.request(.put, "/api/settings/leads", key: tenant.key,
                                                json: #"{"duplicateLookbackDays": 60, "duplicateSkipDays": 14}"#)
            #expect(good.status == .ok)
            let read = try await client.request(.get, "/api/settings/leads", key: tenant.key)
            #expect(try read.json()["duplicateLookbackDays"] as? Int == 60)
            #expect(try await services.auditActions(tenantId: tenant.id).last == "lead_settings.updated")
        }
    }
}
