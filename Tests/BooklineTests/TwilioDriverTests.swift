@testable import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// A stand-in for api.twilio.com that checks each request as Twilio would and answers from a script.
final class FakeTwilio: Sendable {
    struct Received: Sendable {
        let path: String
        let authorization: String?
        let contentType: String?
        let form: [String: String]
    }

    let answers: Mutex<[(HTTPResponse.Status, String)]>
    let received = Mutex<[Received]>([])
    /// What the account's message list shows (GET Messages.json), newest first.
    let listed = Mutex<[[String: String]]>([])
    let lookups = Mutex<[String]>([])

    init(answers: [(HTTPResponse.Status, String)]) {
        self.answers = Mutex(answers)
    }

    var requests: [Received] { received.withLock { $0 } }

    func run<T: Sendable>(_ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("2010-04-01/Accounts/{sid}/Messages.json") { request, context -> Response in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let form = Dictionary(text.split(separator: "&").map { pair -> (String, String) in
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }, uniquingKeysWith: { first, _ in first })
            self.received.withLock {
                $0.append(Received(path: request.uri.path, authorization: request.headers[.authorization],
                                   contentType: request.headers[.contentType], form: form))
            }
            let (status, body) = self.answers.withLock { $0.isEmpty ? (.internalServerError, "{}") : $0.removeFirst() }
            return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        router.get("2010-04-01/Accounts/{sid}/Messages.json") { request, _ -> Response in
            let to = request.uri.queryParameters["To"].map(String.init) ?? ""
            self.lookups.withLock { $0.append(to) }
            let items = self.listed.withLock { $0 }.filter { $0["to"] == to }
            let body = try JSONSerialization.data(withJSONObject: ["messages": items])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: body)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            try await body("http://127.0.0.1:\(client.port!)")
        }
    }
}

@Suite("Twilio driver against a fake Twilio")
struct TwilioDriverTests {
    static let sid = "AC" + String(repeating: "a", count: 32)
    static let token = "twilio-test-token-0123456789"
    /// Tuesday 13:00 in London: outside quiet hours, so SMS go at once whatever the time of the run.
    static var daytime: TestClock { TestClock(Date(timeIntervalSince1970: 1_792_497_600)) }

    @Test func sendsTheExactFormRequestAndRetries500WithoutDuplicates() async throws {
        let fake = FakeTwilio(answers: [
            (.internalServerError, #"{"code": 20500, "message": "Internal error"}"#),
            (.created, #"{"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "from": "+447400100999"}"#),
        ])
        try await fake.run { base in
            try await withApp(configure: {
                $0.twilio = TwilioDefaults(accountSid: Self.sid, authToken: Self.token, fromNumber: "+447400100999", apiBaseURL: base)
            }, now: Self.daytime.closure) { client, services in
                let tenant = try await services.makeTenant()
                let sent = try await client.request(.post, "/api/messages", key: tenant.key,
                                                    json: #"{"to": "07400 100123", "body": "Café at 10:30 & bring ID"}"#)
                let id = try #require(try sent.json()["id"] as? String)
                #expect(try await services.messageSender.sweep() == 1)
                let message = try await client.request(.get, "/api/messages/\(id)", key: tenant.key).json()
                #expect(message["status"] as? String == "sent")
                #expect(message["providerId"] as? String == "SM0123456789abcdef0123456789abcdef")
                #expect(try await services.messageSender.sweep() == 0)
                let metrics = try await client.request(.get, "/metrics").text
                #expect(metrics.contains(#"bookline_messages_total{channel="sms",status="sent"}"#))

                let requests = fake.requests
                #expect(requests.count == 2, "one failure, one success, nothing more")
                let last = try #require(requests.last)
                #expect(last.path == "/2010-04-01/Accounts/\(Self.sid)/Messages.json")
                #expect(last.authorization == "Basic " + Data("\(Self.sid):\(Self.token)".utf8).base64EncodedString())
                #expect(last.contentType == "application/x-www-form-urlencoded")
                #expect(last.form["To"] == "+447400100123")
                #expect(last.form["From"] == "+447400100999")
                #expect(last.form["Body"] == "Café at 10:30 & bring ID")
                #expect(last.form["StatusCallback"] == "\(services.config.baseURL)/webhooks/twilio/\(tenant.id)/status?message=\(id)")
            }
        }
    }

    @Test func aMessageWaitingToRetrySaysWhyAndWhen() async throws {
        let fake = FakeTwilio(answers: Array(repeating: (HTTPResponse.Status.serviceUnavailable, "{}"), count: TwilioDriver.attempts) + [
            (.created, #"{"sid": "SM0123456789abcdef0123456789abcdee", "status": "queued"}"#),
        ])
        let clock = Self.daytime
        try await fake.run { base in
            try await withApp(configure: {
                $0.twilio = TwilioDefaults(accountSid: Self.sid, authToken: Self.token, fromNumber: "+447400100999", apiBaseURL: base)
            }, now: clock.closure) { client, services in
                let tenant = try await services.makeTenant()
                let sent = try await client.request(.post, "/api/messages", key: tenant.key, json: #"{"to": "07400 100123", "body": "Hello"}"#)
                let id = try #require(try sent.json()["id"] as? String)
                try await services.messageSender.sweep()
                let waiting = try await client.request(.get, "/api/messages/\(id)", key: tenant.key).json()
                #expect(waiting["status"] as? String == "queued")
                let retryAt = ISOTime.string(clock.now.addingTimeInterval(3600))
                #expect(waiting["reason"] as? String == "attempt 1 failed: Twilio answered 503; retrying at \(retryAt)")
                clock.advance(by: 3601)
                try await services.messageSender.sweep()
                let done = try await client.request(.get, "/api/messages/\(id)", key: tenant.key).json()
                #expect(done["status"] as? String == "sent")
                #expect(done["reason"] == nil || done["reason"] is NSNull, "the old failure is not kept on a sent message")
                #expect(fake.requests.count == TwilioDriver.attempts + 1)
            }
        }
    }

    @Test func aSendInterruptedMidHandOverAsksTwilioBeforeSendingAgain() async throws {
        let fake = FakeTwilio(answers: [(.created, #"{"sid": "SM00000000000000000000000000000002", "status": "queued"}"#)])
        let clock = Self.daytime
        try await fake.run { base in
            try await withApp(configure: {
                $0.twilio = TwilioDefaults(accountSid: Self.sid, authToken: Self.token, fromNumber: "+447400100999", apiBaseURL: base)
            }, now: clock.closure) { client, services in
                let tenant = try await services.makeTenant()
                func crashedMidHandOver(_ body: String, to phone: String) async throws -> String {
                    let sent = try await client.request(.post, "/api/messages", key: tenant.key, json: #"{"to": "\#(phone)", "body": "\#(body)"}"#)
                    let id = try #require(try sent.json()["id"] as? String)
                    // What a process killed inside driver.send leaves: sending, handed over, no sid, lease over.
                    try await services.database.sql.raw("""
                        UPDATE messages SET status = 'sending', attempts = 1, handed_at = \(bind: clock.now),
                               locked_until = \(bind: clock.now.addingTimeInterval(-1)) WHERE id = \(bind: id)
                        """).run()
                    return id
                }
                // Twilio has it: recorded with Twilio's sid, nothing sent again.
                let went = try await crashedMidHandOver("Your visit is at 10:00", to: "07400 100201")
                fake.listed.withLock { $0 = [["sid": "SM00000000000000000000000000000001", "to": "+447400100201",
                                              "body": "Your visit is at 10:00", "date_created": "Tue, 20 Oct 2026 12:00:00 +0000"]] }
                #expect(try await services.messageSender.sweep() == 1)
                let recorded = try await client.request(.get, "/api/messages/\(went)", key: tenant.key).json()
                #expect(recorded["status"] as? String == "sent")
                #expect(recorded["providerId"] as? String == "SM00000000000000000000000000000001")
                #expect(fake.requests.isEmpty, "not sent a second time")

                // Twilio never got it: sent once now.
                let lost = try await crashedMidHandOver("Your visit is at 11:00", to: "07400 100202")
                #expect(try await services.messageSender.sweep() == 1)
                let resent = try await client.request(.get, "/api/messages/\(lost)", key: tenant.key).json()
                #expect(resent["providerId"] as? String == "SM00000000000000000000000000000002")
                #expect(fake.requests.count == 1)
                #expect(fake.lookups.withLock { $0 } == ["+447400100201", "+447400100202"])
                let handed = try await services.database.sql.raw("SELECT COUNT(*) AS n FROM messages WHERE handed_at IS NOT NULL")
                    .first()?.decode(column: "n", as: Int.self)
                #expect(handed == 0, "a settled hand-over is cleared")
            }
        }
    }

    @Test func unsubscribedRecipientFailsWithAReasonAndOptsOut() async throws {
        let fake = FakeTwilio(answers: [
            (.badRequest, #"{"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}"#),
        ])
        try await fake.run { base in
            try await withApp(configure: {
                $0.twilio = TwilioDefaults(accountSid: Self.sid, authToken: Self.token, fromNumber: "+447400100999", apiBaseURL: base)
            }, now: Self.daytime.closure) { client, services in
                let tenant = try await services.makeTenant()
                let sent = try await client.request(.post, "/api/messages", key: tenant.key, json: #"{"to": "07400 100123", "body": "Hello"}"#)
                let id = try #require(try sent.json()["id"] as? String)
                try await services.messageSender.sweep()
                let message = try await client.request(.get, "/api/messages/\(id)", key: tenant.key).json()
                #expect(message["status"] as? String == "failed" && message["errorCode"] as? String == "21610")
                #expect((message["reason"] as? String)?.hasPrefix("recipient_unsubscribed") == true)
                #expect(try await services.optOuts.isOptedOut(tenantId: tenant.id, phone: "+447400100123"))
                #expect(fake.requests.count == 1, "a refusal is not retried")
            }
        }
    }

    @Test func aCrashedSendIsTakenAgainOnlyAfterItsLease() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_796_644_800))
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let sent = try await client.request(.post, "/api/messages", key: tenant.key, json: #"{"to": "07400 100123", "body": "Hello"}"#)
            let id = try #require(try sent.json()["id"] as? String)
            // A sender claims it and dies before the provider answers.
            try await services.database.sql.raw("""
                UPDATE messages SET status = 'sending', attempts = 1, locked_until = \(bind: clock.now.addingTimeInterval(300))
                WHERE id = \(bind: id)
                """).run()
            #expect(try await services.messageSender.sweep() == 0, "leased: another sender must not take it")
            clock.advance(by: 301)
            #expect(try await services.messageSender.sweep() == 1)
            let message = try await client.request(.get, "/api/messages/\(id)", key: tenant.key).json()
            #expect(message["status"] as? String == "simulated" && message["attempts"] as? Int == 2)
        }
    }
}
