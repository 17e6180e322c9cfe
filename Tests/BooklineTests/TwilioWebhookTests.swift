import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SQLKit
import Testing

@Suite("Twilio webhooks: signatures, inbound STOP/START, status callbacks")
struct TwilioWebhookTests {
    static let platformToken = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

    static func configure(_ config: inout AppConfig) {
        config.twilio = TwilioDefaults(accountSid: "AC" + String(repeating: "1", count: 32), authToken: platformToken,
                                       fromNumber: "+447400100999")
    }

    /// Posts a form the way Twilio does, signed with `token` (nil: no signature header).
    static func post(_ client: any TestClientProtocol, _ path: String, _ form: [(String, String)], token: String?,
                     services: AppServices, tamper: Bool = false) async throws -> TestResponse {
        let body = form.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if let token {
            var signed = form
            if tamper { signed[0].1 += "x" }
            headers[HTTPField.Name("X-Twilio-Signature")!] = TwilioSignature.compute(
                url: services.config.baseURL + path, parameters: signed, authToken: token)
        }
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    static func escape(_ text: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    @Test func stopOptsOutAtOnceAndStartResubscribes() async throws {
        try await withApp(configure: Self.configure) { client, services in
            let tenant = try await services.makeTenant("Smile Dental")
            let lead = try await client.createLead(#"{"phone": "07400 100123"}"#, key: tenant.key)
            let path = "/webhooks/twilio/\(tenant.id)/sms"
            let stop: [(String, String)] = [("MessageSid", "SM0001"), ("From", "+447400100123"), ("To", "+447400100999"), ("Body", " Stop ")]
            let answer = try await Self.post(client, path, stop, token: Self.platformToken, services: services)
            #expect(answer.status == .ok)
            #expect(answer.headers[.contentType]?.hasPrefix("text/xml") == true)
            #expect(answer.text.contains("<Response><Message>You're unsubscribed from Smile Dental messages."))
            #expect(try await services.optOuts.isOptedOut(tenantId: tenant.id, phone: "+447400100123"))
            let leadNow = try await client.request(.get, "/api/leads/\(lead["id"] as! String)", key: tenant.key).json()
            #expect(leadNow["status"] as? String == "opted_out")

            // A replay of the same MessageSid answers the same and changes nothing.
            let replay = try await Self.post(client, path, stop, token: Self.platformToken, services: services)
            #expect(replay.text == answer.text)
            let inbound = try await client.request(.get, "/api/messages?direction=inbound", key: tenant.key).json()
            #expect((inbound["items"] as? [[String: Any]])?.count == 1)

            // Then a message to that person is blocked.
            let blocked = try await client.request(.post, "/api/messages", key: tenant.key, json: #"{"to": "07400100123", "body": "Hi"}"#)
            #expect(try blocked.json()["status"] as? String == "blocked")

            let start: [(String, String)] = [("MessageSid", "SM0002"), ("From", "+447400100123"), ("To", "+447400100999"), ("Body", "START")]
            let resumed = try await Self.post(client, path, start, token: Self.platformToken, services: services)
            #expect(resumed.text.contains("resubscribed"))
            #expect(try await !services.optOuts.isOptedOut(tenantId: tenant.id, phone: "+447400100123"))
            let sent = try await client.request(.post, "/api/messages", key: tenant.key, json: #"{"to": "07400100123", "body": "Hi again"}"#)
            #expect(try sent.json()["status"] as? String != "blocked")

            let help = try await Self.post(client, path, [("MessageSid", "SM0003"), ("From", "+447400100123"), ("Body", "help")],
                                           token: Self.platformToken, services: services)
            #expect(help.text.contains("reply STOP to unsubscribe"))
            let other = try await Self.post(client, path, [("MessageSid", "SM0004"), ("From", "+447400100123"), ("Body", "Thanks!")],
                                            token: Self.platformToken, services: services)
            #expect(other.text.hasSuffix("<Response></Response>"))
            #expect(try await services.eventTypes(tenantId: tenant.id).filter { $0 == "lead_replied" }.count == 4)
        }
    }

    @Test func controlCharactersInSignedFormsAreStoredNotFatal() async throws {
        try await withApp(configure: Self.configure) { client, services in
            let tenant = try await services.makeTenant()
            let path = "/webhooks/twilio/\(tenant.id)/sms"
            let form: [(String, String)] = [("MessageSid", "SM\u{0}9"), ("From", "\u{16}t\u{0}w"), ("To", "+447400100999"),
                                            ("Body", "Zo\u{eb}\u{0}Smith")]
            let answer = try await Self.post(client, path, form, token: Self.platformToken, services: services)
            #expect(answer.status == .ok, "NUL in a signed form is stored, not a database error")
            #expect(answer.text.hasSuffix("<Response></Response>"))
            let inbound = try await client.request(.get, "/api/messages?direction=inbound", key: tenant.key).json()
            let items = inbound["items"] as? [[String: Any]] ?? []
            #expect(items.count == 1)
            #expect(items.first?["body"] as? String == "Zo\u{eb}\u{FFFD}Smith")
            let status = try await Self.post(client, "/webhooks/twilio/\(tenant.id)/status",
                                             [("MessageSid", "SM\u{0}1"), ("MessageStatus", "delivered"), ("ErrorCode", "\u{0}")],
                                             token: Self.platformToken, services: services)
            #expect(status.status == .noContent, "an unknown sid with NUL is nothing to record, not a 500")
        }
    }

    @Test func badSignaturesChangeNothingAndAreAudited() async throws {
        let logs = LogCapture()
        try await withApp(configure: Self.configure, logs: logs) { client, services in
            let tenant = try await services.makeTenant()
            let path = "/webhooks/twilio/\(tenant.id)/sms"
            let form: [(String, String)] = [("MessageSid", "SM0100"), ("From", "+447400100123"), ("Body", "STOP")]
            let cases: [(String, String?, Bool)] = [("missing", nil, false), ("wrong token", "ffffffffffffffffffffffffffffffff", false),
                                                    ("tampered", Self.platformToken, true)]
            for (name, token, tamper) in cases {
                let response = try await Self.post(client, path, form, token: token, services: services, tamper: tamper)
                #expect(response.status == .forbidden, "\(name)")
                #expect(try response.problem()["type"] as? String == "urn:bookline:problem:forbidden")
            }
            #expect(try await !services.optOuts.isOptedOut(tenantId: tenant.id, phone: "+447400100123"))
            #expect(try await services.auditActions(tenantId: tenant.id).filter { $0 == "webhook.rejected" }.count == 3)
            #expect(logs.all.contains { $0.hasPrefix("warning POST /webhooks/twilio/") && $0.contains("refused: missing_signature") && $0.contains("error_type=webhook_rejected") })

            // A tenant with its own token: the platform's no longer verifies its webhooks.
            _ = try await client.request(.put, "/api/settings/messaging", key: tenant.key, json: """
                {"twilioAccountSid": "AC0123456789abcdef0123456789abcdef", "twilioAuthToken": "abcdefabcdefabcdefabcdefabcdef12", "twilioFromNumber": "+447400100998"}
                """)
            let platformSigned = try await Self.post(client, path, form, token: Self.platformToken, services: services)
            #expect(platformSigned.status == .forbidden)
            let tenantSigned = try await Self.post(client, path, form, token: "abcdefabcdefabcdefabcdefabcdef12", services: services)
            #expect(tenantSigned.status == .ok)
            #expect(try await client.request(.post, "/webhooks/twilio/\(Identifier.make())/sms").status == .notFound)
        }
    }

    @Test func forgedFloodsAreCutOffWithoutStarvingSignedCallbacks() async throws {
        try await withApp(configure: Self.configure) { client, services in
            let tenant = try await services.makeTenant()
            let path = "/webhooks/twilio/\(tenant.id)/status"
            let form: [(String, String)] = [("MessageSid", "SM0200"), ("MessageStatus", "delivered")]
            let limit = AppServices.rejectedWebhookPolicy.limit
            for _ in 0..<limit {
                #expect(try await Self.post(client, path, form, token: "ffffffffffffffffffffffffffffffff", services: services).status == .forbidden)
            }
            let cutOff = try await Self.post(client, path, form, token: "ffffffffffffffffffffffffffffffff", services: services)
            #expect(cutOff.status == .tooManyRequests)
            #expect(cutOff.headers[.retryAfter] != nil)
            #expect(try await services.auditActions(tenantId: tenant.id).filter { $0 == "webhook.rejected" }.count == limit,
                    "refusals past the budget are not audited")
            // Many more signed callbacks than the old shared budget of 600 a minute: all accepted.
            for _ in 0..<700 {
                let signed = try await Self.post(client, path, form, token: Self.platformToken, services: services)
                guard (200..<300).contains(Int(signed.status.code)) else { Issue.record("signed callback refused: \(signed.status)"); return }
            }
        }
    }

    @Test func statusCallbacksMoveMessagesForwardOnly() async throws {
        try await withApp(configure: Self.configure) { client, services in
            let tenant = try await services.makeTenant()
            let sent = try await client.request(.post, "/api/messages", key: tenant.key, json: #"{"to": "07400100123", "body": "Hi"}"#)
            let id = try #require(try sent.json()["id"] as? String)
            let path = "/webhooks/twilio/\(tenant.id)/status?message=\(id)"
            let delivered = try await Self.post(client, path, [("MessageSid", "SM0200"), ("MessageStatus", "delivered")],
                                                token: Self.platformToken, services: services)
            #expect(delivered.status == .noContent)
            let late = try await Self.post(client, path, [("MessageSid", "SM0200"), ("MessageStatus", "sent")],
                                           token: Self.platformToken, services: services)
            #expect(late.status == .noContent)
            let message = try await client.request(.get, "/api/messages/\(id)", key: tenant.key).json()
            #expect(message["status"] as? String == "delivered" && message["providerId"] as? String == "SM0200")
            #expect(message["deliveredAt"] as? String != nil)
            // Another tenant's callback cannot touch it.
            let other = try await services.makeTenant("Other Ltd")
            _ = try await Self.post(client, "/webhooks/twilio/\(other.id)/status?message=\(id)", [("MessageSid", "SM0201"), ("MessageStatus", "failed")],
                                    token: Self.platformToken, services: services)
            #expect(try await client.request(.get, "/api/messages/\(id)", key: tenant.key).json()["status"] as? String == "delivered")
        }
    }
}
