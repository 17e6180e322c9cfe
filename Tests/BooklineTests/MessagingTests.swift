import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SQLKit
import Testing

@Suite("Messaging: settings, templates, outbox")
struct MessagingTests {
    static let token = "f3a9c1d2e4b5a6978899aabbccddeeff"

    @Test func providerSecretsGoInAndNeverComeOut() async throws {
        let logs = LogCapture()
        try await withApp(logs: logs) { client, services in
            let tenant = try await services.makeTenant()
            let smtp = "smtps://mailer:sup3r-s3cret-pw@smtp.example.com:465"
            let put = try await client.request(.put, "/api/settings/messaging", key: tenant.key, json: """
                {"twilioAccountSid": "AC0123456789abcdef0123456789abcdef", "twilioAuthToken": "\(Self.token)",
                 "twilioFromNumber": "07400 100999", "smtpUrl": "\(smtp)", "emailFrom": "bookings@smile.example"}
                """)
            #expect(put.status == .ok, "\(put.text)")
            let body = try put.json()
            #expect((body["twilioAuthToken"] as? [String: Any])?["configured"] as? Bool == true)
            #expect((body["twilioAuthToken"] as? [String: Any])?["last4"] as? String == "eeff")
            #expect((body["smtpUrl"] as? [String: Any])?["last4"] as? String == "t-pw")
            #expect(body["twilioFromNumber"] as? String == "+447400100999")
            #expect(body["smsMode"] as? String == "tenant" && body["emailMode"] as? String == "tenant")
            let read = try await client.request(.get, "/api/settings/messaging", key: tenant.key)
            for response in [put, read] {
                #expect(!response.text.contains(Self.token) && !response.text.contains("sup3r-s3cret-pw"))
            }
            let stored = try await services.database.sql.raw("SELECT * FROM messaging_settings").first()
            #expect(try stored?.decode(column: "twilio_auth_token_sealed", as: String.self).contains(Self.token) == false)
            let audit = try await services.database.sql.raw("SELECT details FROM audit_log WHERE action = 'messaging_settings.updated'")
                .first()?.decode(column: "details", as: String.self)
            #expect(audit?.contains("twilioAuthToken") == true && audit?.contains(Self.token) == false)
            #expect(!logs.all.joined().contains(Self.token) && !logs.all.joined().contains("sup3r-s3cret-pw"))

            let bad = try await client.request(.put, "/api/settings/messaging", key: tenant.key,
                                               json: #"{"twilioAccountSid": "XX123", "smtpUrl": "http://mail"}"#)
            #expect(bad.status == .unprocessableContent)
            #expect(Set((try bad.problem()["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String }) == ["twilioAccountSid", "smtpUrl"])
            let reader = try await services.makeTenant("Reader Ltd", scopes: ["leads:read"])
            #expect(try await client.request(.get, "/api/settings/messaging", key: reader.key).status == .forbidden)
        }
    }

    @Test func templatesAreOverriddenValidatedAndReset() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let list = try await client.request(.get, "/api/templates", key: tenant.key).json()
            let names = (list["items"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(names.contains("booking_confirmation") && names.contains("opt_out_confirmation") && names.count == 9)

            let unknown = try await client.request(.put, "/api/templates/booking_confirmation", key: tenant.key,
                                                   json: #"{"sms": "Hi {{name}}, that's {{price}} please"}"#)
            #expect(unknown.status == .unprocessableContent)
            let detail = try unknown.problem()["detail"] as? String ?? ""
            #expect(detail.contains("sms") && detail.contains("price"))
            let broken = try await client.request(.put, "/api/templates/booking_confirmation", key: tenant.key,
                                                  json: #"{"emailHtml": "<p>{{#name}}unclosed</p>"}"#)
            #expect(broken.status == .unprocessableContent)
            #expect((try broken.problem()["errors"] as? [[String: Any]])?.first?["field"] as? String == "emailHtml")

            let saved = try await client.request(.put, "/api/templates/booking_confirmation", key: tenant.key,
                                                 json: #"{"sms": "{{business}}: see you {{date}} at {{time}}, {{name}}!"}"#)
            #expect(saved.status == .ok)
            let shown = try await client.request(.get, "/api/templates/booking_confirmation", key: tenant.key).json()
            #expect(shown["overridden"] as? Bool == true)
            #expect(shown["sms"] as? String == "{{business}}: see you {{date}} at {{time}}, {{name}}!")
            #expect((shown["emailSubject"] as? String)?.contains("{{service}}") == true, "parts not sent keep the default")

            #expect(try await client.request(.delete, "/api/templates/booking_confirmation", key: tenant.key).status == .noContent)
            let reset = try await client.request(.get, "/api/templates/booking_confirmation", key: tenant.key).json()
            #expect(reset["overridden"] as? Bool == false)
            #expect(try await client.request(.get, "/api/templates/nope", key: tenant.key).status == .notFound)
            #expect(try await services.auditActions(tenantId: tenant.id).suffix(2) == ["template.updated", "template.reset"])
        }
    }

    @Test func templatePreviewRendersUnsavedPartsWithTheSameChecks() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let preview = try await client.request(.post, "/api/templates/booking_confirmation/preview", key: tenant.key, json: #"""
                {"sms": "{{business}}: {{name}}, see you at {{time}}", "variables": {"name": "Ada", "time": "10:30", "unknown": "x"}}
                """#).json()
            #expect(preview["sms"] as? String == "[business]: Ada, see you at 10:30")
            #expect(preview["smsSegments"] as? Int == 1)
            #expect((preview["emailSubject"] as? String)?.contains("[service]") == true, "unsent parts preview the default")
            // Nothing was saved.
            #expect(try await client.request(.get, "/api/templates/booking_confirmation", key: tenant.key).json()["overridden"] as? Bool == false)
            let bad = try await client.request(.post, "/api/templates/booking_confirmation/preview", key: tenant.key,
                                               json: #"{"emailHtml": "<p>{{#name}}unclosed</p>", "sms": "{{price}}"}"#)
            #expect(bad.status == .unprocessableContent)
            let fields = (try bad.problem()["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String }
            #expect(Set(fields ?? []) == ["sms", "emailHtml"])
            #expect(try await client.request(.post, "/api/templates/nope/preview", key: tenant.key, json: "{}").status == .notFound)
            #expect(try await client.request(.post, "/api/templates/booking_confirmation/preview", json: "{}").status == .unauthorized)
        }
    }

    @Test func templatedSMSIsQueuedRenderedAndSentBySimulation() async throws {
        let clock = TestClock(Self.londonNoon)
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant("Smile Dental")
            let lead = try await client.createLead(#"{"name": "Jane", "phone": "07400 100123"}"#, key: tenant.key)
            let leadId = try #require(lead["id"] as? String)
            let sent = try await client.request(.post, "/api/messages", key: tenant.key, json: """
                {"leadId": "\(leadId)", "template": "booking_confirmation",
                 "variables": {"service": "Check-up", "date": "2 Dec", "time": "10:30", "business_phone": "020 7946 0018"}}
                """)
            #expect(sent.status == .created, "\(sent.text)")
            let message = try sent.json()
            let id = try #require(message["id"] as? String)
            #expect(message["status"] as? String == "queued")
            #expect(message["to"] as? String == "+447400100123")
            #expect(message["body"] as? String == "Hi Jane, you're booked with Smile Dental for Check-up on 2 Dec at 10:30. Reply CONFIRM to confirm or CANCEL to cancel.")
            #expect(message["segments"] as? Int == 1 && message["encoding"] as? String == "GSM-7")

            #expect(try await services.messageSender.sweep() == 1)
            let after = try await client.request(.get, "/api/messages/\(id)", key: tenant.key).json()
            #expect(after["status"] as? String == "simulated")
            #expect(try await services.eventTypes(tenantId: tenant.id).last == "message_status_changed")
            #expect(try await services.messageSender.sweep() == 0, "nothing is sent twice")

            let missing = try await client.request(.post, "/api/messages", key: tenant.key,
                                                   json: #"{"leadId": "\#(leadId)", "template": "booking_confirmation"}"#)
            #expect(missing.status == .unprocessableContent)
            #expect((try missing.problem()["detail"] as? String)?.contains("service") == true)
            let long = String(repeating: "Long message. ", count: 120)
            let tooLong = try await client.request(.post, "/api/messages", key: tenant.key, json: #"{"leadId": "\#(leadId)", "body": "\#(long)"}"#)
            #expect(tooLong.status == .unprocessableContent)
            #expect((try tooLong.problem()["detail"] as? String)?.contains("segments") == true)
            let other = try await services.makeTenant("Other Ltd")
            #expect(try await client.request(.get, "/api/messages/\(id)", key: other.key).status == .notFound)
            #expect(try await client.request(.post, "/api/messages", key: other.key, json: #"{"leadId": "\#(leadId)", "body": "hi"}"#).status == .notFound)
        }
    }

    @Test func optedOutLeadsAreBlockedWithTheReason() async throws {
        let clock = TestClock(Self.londonNoon)
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let lead = try await client.createLead(#"{"phone": "07400 100123"}"#, key: tenant.key)
            let leadId = try #require(lead["id"] as? String)
            // Queued first, then the person opts out before the sender runs: still never sent.
            let queued = try await client.request(.post, "/api/messages", key: tenant.key, json: #"{"leadId": "\#(leadId)", "body": "Hello"}"#)
            let queuedId = try #require(try queued.json()["id"] as? String)
            _ = try await client.request(.post, "/api/opt-outs", key: tenant.key, json: #"{"phone": "07400100123", "reason": "sms_stop"}"#)
            try await services.messageSender.sweep()
            let afterSweep = try await client.request(.get, "/api/messages/\(queuedId)", key: tenant.key).json()
            #expect(afterSweep["status"] as? String == "blocked" && afterSweep["reason"] as? String == "opted_out")

            let blocked = try await client.request(.post, "/api/messages", key: tenant.key, json: #"{"to": "+44 7400 100123", "body": "Hello"}"#)
            #expect(blocked.status == .created)
            #expect(try blocked.json()["status"] as? String == "blocked" && blocked.json()["reason"] as? String == "opted_out")
            #expect(try await services.messageSender.sweep() == 0)
        }
    }

    @Test func quietHoursDeferToTheMorningInTheTenantsZone() async throws {
        // 22:30 in London (GMT in December).
        let clock = TestClock(Date(timeIntervalSince1970: 1_796_682_600))
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let sent = try await client.request(.post, "/api/messages", key: tenant.key, json: #"{"to": "07400100123", "body": "Late hello"}"#)
            let sendAt = try #require(try sent.json()["sendAt"] as? String)
            #expect(sendAt == "2026-12-08T08:00:00Z")
            #expect(try await services.messageSender.sweep() == 0, "not due until the morning")
            clock.advance(by: 10 * 3600)
            #expect(try await services.messageSender.sweep() == 1)
        }
    }

    @Test func theDailySMSQuotaRefusesWith429() async throws {
        let clock = TestClock(Self.londonNoon)
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let limit = services.tiers.tier("free").smsPerDay
            for index in 0..<limit {
                try await services.database.sql.raw("""
                    INSERT INTO messages (tenant_id, id, channel, direction, to_address, body, status, send_at, created_at, updated_at)
                    VALUES (\(bind: tenant.id), \(bind: Identifier.make(now: clock.now)), 'sms', 'outbound', '+447400100123',
                            \(bind: "m\(index)"), 'sent', \(bind: clock.now), \(bind: clock.now), \(bind: clock.now))
                    """).run()
            }
            let refused = try await client.request(.post, "/api/messages", key: tenant.key, json: #"{"to": "07400100123", "body": "One more"}"#)
            #expect(refused.status == .tooManyRequests)
            #expect(try refused.problem()["type"] as? String == "urn:bookline:problem:sms-quota")
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 > 0)
            let email = try await client.request(.post, "/api/messages", key: tenant.key,
                                                 json: #"{"channel": "email", "to": "jane@example.com", "subject": "Hi", "body": "Email is not counted"}"#)
            #expect(email.status == .created)
        }
    }

    /// 2026-12-07 12:00 in London.
    static let londonNoon = Date(timeIntervalSince1970: 1_796_644_800)
}
