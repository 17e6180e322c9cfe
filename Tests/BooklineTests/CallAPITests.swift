import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Calls API and call settings")
struct CallAPITests {
    static let call = #"""
    {"phone": "07400 100123", "startedAt": "2026-11-20T09:00:00.5Z", "endedAt": "2026-11-20T09:02:00Z",
     "cost": {"amount": 35, "currency": "GBP"}, "outcome": "interested", "externalId": "crm-77", "direction": "inbound"}
    """#

    @Test func recordsACallFromAnotherSourceOnce() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let lead = try await client.createLead(#"{"phone": "07400 100123"}"#, key: tenant.key)
            let created = try await client.request(.post, "/api/calls", key: tenant.key, json: Self.call)
            #expect(created.status == .created)
            let body = try created.json()
            let id = try #require(body["id"] as? String)
            #expect(created.headers[.location] == "/api/calls/\(id)")
            #expect(body["provider"] as? String == "api")
            #expect(body["externalId"] as? String == "crm-77")
            #expect(body["leadId"] as? String == lead["id"] as? String)
            #expect(body["direction"] as? String == "inbound")
            #expect(body["durationSeconds"] as? Int == 120)
            #expect(body["outcome"] as? String == "interested")
            #expect(body["endedReasonKnown"] as? Bool == true)
            #expect(body["startedAt"] as? String == "2026-11-20T09:00:00Z")

            // The same external id again is the same call, not a second one.
            let again = try await client.request(.post, "/api/calls", key: tenant.key, json: Self.call)
            #expect(again.status == .ok)
            #expect(try again.json()["id"] as? String == id)
            #expect(try await services.countRows("calls", tenantId: tenant.id) == 1)
            let leadNow = try await client.request(.get, "/api/leads/\(lead["id"] as! String)", key: tenant.key).json()
            #expect(leadNow["status"] as? String == "interested")
            #expect(try await services.auditActions(tenantId: tenant.id).contains("call.recorded"))

            let page = try await client.request(.get, "/api/calls?outcome=interested&from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z",
                                                key: tenant.key).json()
            #expect((page["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            let metrics = try await client.request(.get, "/metrics").text
            #expect(metrics.contains(#"bookline_calls_total{outcome="interested"}"#))
            let none = try await client.request(.get, "/api/calls?outcome=booked", key: tenant.key).json()
            #expect((none["items"] as? [[String: Any]])?.isEmpty == true)
        }
    }

    @Test func badInputIsNamedFieldByField() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let malformed = try await client.request(.post, "/api/calls", key: tenant.key, json: #"{"phone": "07400 100123""#)
            #expect(malformed.status == .badRequest)
            let wrongType = try await client.request(.post, "/api/calls", key: tenant.key, json: #"{"phone": 7400100123}"#)
            #expect(wrongType.status == .badRequest)
            #expect(try wrongType.problem()["detail"].debugDescription.contains("phone"))
            let badDate = try await client.request(.post, "/api/calls", key: tenant.key, json: #"{"phone": "07400100123", "startedAt": "yesterday"}"#)
            #expect(badDate.status == .badRequest)

            let invalid = try await client.request(.post, "/api/calls", key: tenant.key, json: #"""
                {"phone": "12", "startedAt": "2026-11-20T09:00:00Z", "endedAt": "2026-11-20T08:00:00Z", "direction": "sideways",
                 "cost": {"amount": 10, "currency": "USD"}, "outcome": "maybe", "durationSeconds": -1, "recordingUrl": "ftp://x"}
                """#)
            #expect(invalid.status == .unprocessableContent)
            let fields = Set((try invalid.problem()["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
            #expect(fields == ["phone", "endedAt", "direction", "cost.currency", "outcome", "durationSeconds", "recordingUrl"])
            let empty = try await client.request(.post, "/api/calls", key: tenant.key, json: "{}")
            let missing = Set((try empty.problem()["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
            #expect(missing == ["phone", "startedAt", "outcome"])
        }
    }

    @Test func anotherTenantsCallsAndLeadsAreNotFound() async throws {
        try await withApp { client, services in
            let a = try await services.makeTenant("A Dental")
            let b = try await services.makeTenant("B Salon")
            let leadA = try await client.createLead(#"{"phone": "07400 100123"}"#, key: a.key)
            let callA = try await client.request(.post, "/api/calls", key: a.key, json: Self.call).json()
            let idA = callA["id"] as! String
            let probe = try await client.request(.get, "/api/calls/\(idA)", key: b.key)
            #expect(probe.status == .notFound)
            #expect(try probe.problem()["detail"] as? String == "No call with this id.")
            let listB = try await client.request(.get, "/api/calls", key: b.key).json()
            #expect((listB["items"] as? [[String: Any]])?.isEmpty == true)
            // B cannot attach a call to A's lead.
            let attach = try await client.request(.post, "/api/calls", key: b.key, json: """
                {"leadId": "\(leadA["id"] as! String)", "startedAt": "2026-11-20T09:00:00Z", "outcome": "booked"}
                """)
            #expect(attach.status == .unprocessableContent)
            #expect(try attach.problem()["errors"].debugDescription.contains("no lead with this id"))
            #expect(try await client.request(.get, "/api/calls/not-an-id", key: a.key).status == .notFound)
            #expect(try await client.request(.get, "/api/calls", key: nil).status == .unauthorized)
        }
    }

    @Test func scopesGuardCalls() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant(scopes: ["leads:read"])
            let read = try await client.request(.get, "/api/calls", key: tenant.key)
            #expect(read.status == .forbidden)
            #expect(try read.problem()["detail"] as? String == "This credential lacks the calls:read scope.")
            let write = try await client.request(.post, "/api/calls", key: tenant.key, json: Self.call)
            #expect(try write.problem()["detail"] as? String == "This credential lacks the calls:write scope.")
        }
    }

    @Test func callSettingsKeepTheSecretWriteOnly() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let initial = try await client.request(.get, "/api/settings/calls", key: tenant.key).json()
            #expect(initial["currency"] as? String == "GBP")
            #expect(initial["averageDealValue"] as? Int == 0)
            #expect(initial["webhookUrl"] as? String == "\(services.config.baseURL)/webhooks/voice/\(tenant.id)")
            #expect(initial["webhookSecret"] as? [String: Bool] == ["configured": false])

            let saved = try await client.request(.put, "/api/settings/calls", key: tenant.key,
                                                 json: #"{"webhookSecret": "s3cret-voice-hook-9876", "currency": "EUR", "averageDealValue": 12000}"#)
            #expect(saved.status == .ok)
            #expect(!saved.text.contains("s3cret-voice-hook"))
            let body = try saved.json()
            #expect(body["webhookSecret"] as? NSDictionary == ["configured": true, "last4": "9876"])
            #expect(body["currency"] as? String == "EUR")
            #expect(body["averageDealValue"] as? Int == 12000)

            let bad = try await client.request(.put, "/api/settings/calls", key: tenant.key,
                                               json: #"{"webhookSecret": "short", "currency": "euro", "averageDealValue": -5}"#)
            let fields = Set((try bad.problem()["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
            #expect(fields == ["webhookSecret", "currency", "averageDealValue"])
            let cleared = try await client.request(.put, "/api/settings/calls", key: tenant.key, json: #"{"webhookSecret": ""}"#).json()
            #expect(cleared["webhookSecret"] as? [String: Bool] == ["configured": false])
            #expect(cleared["currency"] as? String == "EUR")
            #expect(try await services.auditActions(tenantId: tenant.id).filter { $0 == "call_settings.updated" }.count == 2)
        }
    }
}
