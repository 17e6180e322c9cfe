import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SQLKit
import Testing

@Suite("Voice webhooks: signatures, idempotency, outcomes, leads following calls")
struct CallWebhookTests {
    static let secret = "whsec-voice-0123456789abcdef"

    @Test func unsignedAndWronglySignedEventsAreRefusedAndAudited() async throws {
        let logs = LogCapture()
        try await withApp(logs: logs) { client, services in
            let tenant = try await services.makeTenant()
            let event = Vapi.endOfCall("call-1", reason: "customer-busy")
            // No secret configured yet: nothing can verify.
            let unconfigured = try await client.vapi(tenant.id, event, auth: .signature(Self.secret))
            #expect(unconfigured.status == .forbidden)
            try await client.setCallSettings(key: tenant.key, #"{"webhookSecret": "\#(Self.secret)"}"#)

            let unsigned = try await client.vapi(tenant.id, event, auth: .none)
            #expect(unsigned.status == .forbidden)
            #expect(try unsigned.problem()["detail"] as? String == "The request's X-Vapi-Signature (or X-Vapi-Secret) does not verify.")
            #expect(try await client.vapi(tenant.id, event, auth: .signature("wrong-secret-0123456789")).status == .forbidden)
            #expect(try await client.vapi(tenant.id, event, auth: .secret("wrong-secret-0123456789")).status == .forbidden)
            // A body changed after signing fails too.
            let body = Array(try JSONSerialization.data(withJSONObject: ["message": event]))
            var headers: HTTPFields = [.contentType: "application/json"]
            headers[HTTPField.Name("X-Vapi-Signature")!] = HMACSignature.hexSHA256(body: body, secret: Self.secret)
            let tampered = try await client.execute(uri: "/webhooks/voice/\(tenant.id)", method: .post, headers: headers,
                                                    body: ByteBuffer(bytes: body + Array(" ".utf8)))
            #expect(tampered.status == .forbidden)
            #expect(try await services.countRows("calls", tenantId: tenant.id) == 0)
            let rejected = try await services.auditActions(tenantId: tenant.id).filter { $0 == "webhook.rejected" }
            #expect(rejected.count == 5)
            // The secret itself never reaches a log line.
            try await Task.sleep(for: .milliseconds(50))
            #expect(!logs.all.contains { $0.contains(Self.secret) })

            // Both ways of proving the secret work.
            #expect(try await client.vapi(tenant.id, event, auth: .signature(Self.secret)).status == .ok)
            let second = Vapi.endOfCall("call-2", reason: "voicemail")
            #expect(try await client.vapi(tenant.id, second, auth: .secret(Self.secret)).status == .ok)
            #expect(try await services.countRows("calls", tenantId: tenant.id) == 2)
        }
    }

    @Test func unknownTenantAndMalformedBodies() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            try await client.setCallSettings(key: tenant.key, #"{"webhookSecret": "\#(Self.secret)"}"#)
            let missing = try await client.vapi("0190b5a2-0000-7000-8000-000000000000", Vapi.statusUpdate("c", status: "ringing"),
                                                auth: .signature(Self.secret))
            #expect(missing.status == .notFound)
            let notJSON = try await client.vapiRaw(tenant.id, body: Array("not json".utf8), auth: .signature(Self.secret))
            #expect(notJSON.status == .badRequest)
            #expect(try notJSON.problem()["detail"] as? String == "The body must be a JSON object with a `message` object (Vapi's server-message shape).")
            let noCall = try await client.vapi(tenant.id, ["type": "end-of-call-report"], auth: .signature(Self.secret))
            #expect(noCall.status == .unprocessableContent)
            #expect(try noCall.problem()["errors"].debugDescription.contains("message.call.id"))
            // Other message types are acknowledged without a call.
            let transcript = try await client.vapi(tenant.id, ["type": "transcript", "call": ["id": "c9"]], auth: .signature(Self.secret))
            #expect(try transcript.json()["received"] as? Bool == true)
            #expect(try await services.countRows("calls", tenantId: tenant.id) == 0)
        }
    }

    @Test func aCallsEventsBuildOneRowAndMoveTheLead() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            try await client.setCallSettings(key: tenant.key, #"{"webhookSecret": "\#(Self.secret)"}"#)
            let lead = try await client.createLead(#"{"phone": "07400 100123", "name": "Ada"}"#, key: tenant.key)
            let leadId = lead["id"] as! String

            let started = try await client.vapi(tenant.id, Vapi.statusUpdate("vapi-call-1", status: "in-progress"), auth: .signature(Self.secret))
            #expect(started.status == .ok)
            let callId = try #require(try started.json()["callId"] as? String)
            let live = try await client.request(.get, "/api/calls/\(callId)", key: tenant.key).json()
            #expect(live["state"] as? String == "in_progress")
            #expect(live["leadId"] as? String == leadId)
            #expect(live["startedAt"] as? String == "2026-09-21T14:13:20Z")

            let report = Vapi.endOfCall("vapi-call-1", reason: "assistant-ended-call", outcome: "Appointment booked")
            let ended = try await client.vapi(tenant.id, report, auth: .signature(Self.secret))
            #expect(try ended.json()["duplicate"] as? Bool == false)
            let call = try await client.request(.get, "/api/calls/\(callId)", key: tenant.key).json()
            #expect(call["state"] as? String == "ended")
            #expect(call["outcome"] as? String == "booked")
            #expect(call["externalId"] as? String == "vapi-call-1")
            #expect(call["provider"] as? String == "vapi")
            #expect(call["direction"] as? String == "outbound")
            #expect(call["phone"] as? String == "+447400100123")
            #expect(call["durationSeconds"] as? Int == 185)
            #expect(call["startedAt"] as? String == "2026-11-20T10:00:00Z")
            #expect(call["endedAt"] as? String == "2026-11-20T10:03:05Z")
            #expect(call["cost"] as? NSDictionary == ["amount": 42, "currency": "GBP"])
            #expect(call["endedReason"] as? String == "assistant-ended-call")
            #expect(call["endedReasonKnown"] as? Bool == true)
            #expect(call["summary"] as? String == "Asked about a check-up.")
            #expect(call["recordingUrl"] as? String == "https://storage.vapi.ai/vapi-call-1.wav")
            #expect((call["structuredData"] as? [String: String]) == ["outcome": "Appointment booked"])

            let leadNow = try await client.request(.get, "/api/leads/\(leadId)", key: tenant.key).json()
            #expect(leadNow["status"] as? String == "booked")
            #expect(leadNow["lastContactedAt"] as? String == "2026-11-20T10:03:05Z")

            // Replays (same call id and event type) answer the same and count nothing twice.
            let replay = try await client.vapi(tenant.id, report, auth: .signature(Self.secret))
            #expect(try replay.json()["duplicate"] as? Bool == true)
            #expect(try replay.json()["callId"] as? String == callId)
            _ = try await client.vapi(tenant.id, Vapi.statusUpdate("vapi-call-1", status: "in-progress"), auth: .signature(Self.secret))
            #expect(try await services.countRows("calls", tenantId: tenant.id) == 1)
            #expect(try await services.eventTypes(tenantId: tenant.id) == ["lead_created", "call_started", "call_ended", "lead_status_changed"])
            #expect(try await services.auditActions(tenantId: tenant.id).filter { $0 == "call.recorded" }.count == 1)
        }
    }

    @Test func concurrentDeliveriesOfOneEventCountOnce() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            try await client.setCallSettings(key: tenant.key, #"{"webhookSecret": "\#(Self.secret)"}"#)
            let body = Array(try JSONSerialization.data(withJSONObject: ["message": Vapi.endOfCall("vapi-race", reason: "customer-busy")]))
            let answers = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 { group.addTask { Int(try await client.vapiRaw(tenant.id, body: body, auth: .signature(Self.secret)).status.code) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers == Array(repeating: 200, count: 6))
            #expect(try await services.countRows("calls", tenantId: tenant.id) == 1)
            #expect(try await services.eventTypes(tenantId: tenant.id).filter { $0 == "call_ended" }.count == 1)
        }
    }

    static let reasons: [(String, String?, String, Bool)] = [
        ("customer-did-not-answer", nil, "no_answer", true),
        ("customer-busy", "booked", "busy", true),
        ("voicemail", nil, "voicemail", true),
        ("twilio-failed-to-connect-call", nil, "failed", true),
        ("call-rejected", nil, "failed", true),
        ("assistant-ended-call", nil, "completed", true),
        ("silence-timed-out", "interested", "interested", true),
        ("exceeded-max-duration", "callback", "callback", true),
        ("assistant-ended-call", "not interested", "not_interested", true),
        ("brand-new-reason", nil, "completed", false),
    ]

    @Test func everyEndedReasonMapsAndUnknownOnesAreKept() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            try await client.setCallSettings(key: tenant.key, #"{"webhookSecret": "\#(Self.secret)"}"#)
            for (index, (reason, stated, outcome, known)) in Self.reasons.enumerated() {
                let answer = try await client.vapi(tenant.id, Vapi.endOfCall("map-\(index)", reason: reason, outcome: stated,
                                                                             number: "+4474001002\(10 + index)"),
                                                   auth: .signature(Self.secret))
                let call = try await client.request(.get, "/api/calls/\(try answer.json()["callId"] as! String)", key: tenant.key).json()
                #expect(call["outcome"] as? String == outcome, "\(reason) / \(stated ?? "-")")
                #expect(call["endedReason"] as? String == reason)
                #expect(call["endedReasonKnown"] as? Bool == known)
            }
        }
    }

    @Test func leadStatusFollowsOutcomesWithoutUndoingABooking() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            try await client.setCallSettings(key: tenant.key, #"{"webhookSecret": "\#(Self.secret)"}"#)
            let lead = try await client.createLead(#"{"phone": "07400 100555"}"#, key: tenant.key)
            let leadId = lead["id"] as! String
            func status() async throws -> String? {
                try await client.request(.get, "/api/leads/\(leadId)", key: tenant.key).json()["status"] as? String
            }
            let steps: [(String, String?, String)] = [
                ("customer-did-not-answer", nil, "contacted"),
                ("assistant-ended-call", "interested", "interested"),
                ("customer-ended-call", "booked", "booked"),
                ("voicemail", nil, "booked"),
            ]
            for (index, (reason, stated, expected)) in steps.enumerated() {
                // The metadata's lead id wins over the number.
                _ = try await client.vapi(tenant.id, Vapi.endOfCall("seq-\(index)", reason: reason, outcome: stated,
                                                                   number: "+15555550100", metadata: ["leadId": leadId]),
                                          auth: .signature(Self.secret))
                #expect(try await status() == expected, "after \(reason)")
            }
            let calls = try await client.request(.get, "/api/calls?leadId=\(leadId)", key: tenant.key).json()
            #expect((calls["items"] as? [[String: Any]])?.count == 4)

            // An opted-out lead stays opted out whatever a call says.
            _ = try await client.request(.post, "/api/leads/\(leadId)/status", key: tenant.key, json: #"{"status": "opted_out"}"#)
            _ = try await client.vapi(tenant.id, Vapi.endOfCall("seq-9", reason: "assistant-ended-call", outcome: "interested",
                                                               number: "+447400100555"), auth: .signature(Self.secret))
            #expect(try await status() == "opted_out")
        }
    }

    @Test func unknownToolsGetAnErrorInVapisShape() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            try await client.setCallSettings(key: tenant.key, #"{"webhookSecret": "\#(Self.secret)"}"#)
            let message: [String: Any] = ["type": "tool-calls", "call": ["id": "t1"],
                                          "toolCallList": [["id": "tc_1", "type": "function",
                                                            "function": ["name": "transfer_call", "arguments": ["to": "sales"]]]]]
            let answer = try await client.vapi(tenant.id, message, auth: .signature(Self.secret))
            let results = try #require(try answer.json()["results"] as? [[String: Any]])
            #expect(results.count == 1)
            #expect(results.first?["toolCallId"] as? String == "tc_1")
            #expect(results.first?["error"] as? String == "The tool transfer_call is not available.")
        }
    }
}
