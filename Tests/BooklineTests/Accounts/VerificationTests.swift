import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Email verification")
struct VerificationTests {
    struct Signup: Decodable { let apiKey: String; let tenantId: String }
    struct MessageView: Decodable { let id: String; let status: String; let reason: String? }

    @Test func aSignUpIsMailedALinkAndItsCustomerEmailWaitsUntilTheOwnerConfirms() async throws {
        let mailer = RecordingAccountMailer()
        try await withApp(mailer: mailer) { client, services in
            let signup = try await client.request(.post, "/api/clients/onboard", json: OnboardingTests.body()).decode(Signup.self)
            let mail = try #require(await mailer.next())
            #expect(mail.kind == .emailVerification && mail.to == "owner@smile.example")
            #expect(mail.text.contains("Smile Dental"))
            let token = try #require(linkToken(in: mail.text))
            #expect(mail.text.contains("/verify-email?token="))

            let owner = try await client.tokens("owner@smile.example", "correct-horse-battery-42")
            let me = try await client.request(.get, "/api/me", key: owner.accessToken).decode(MeAccount.self)
            #expect(me.account?.emailVerified == false, "the dashboard shows its banner from this")

            let email = try await client.request(.post, "/api/messages", key: signup.apiKey,
                                                 json: #"{"channel": "email", "to": "customer@example.org", "subject": "Hi", "body": "Hello"}"#)
            let sms = try await client.request(.post, "/api/messages", key: signup.apiKey, json: #"{"to": "+447400100999", "body": "Hello"}"#)
            let queued = try email.decode(MessageView.self)
            #expect(queued.status == "queued" && queued.reason?.contains("verifies their email") == true)
            _ = try await services.messageSender.sweep()
            let held = try await client.request(.get, "/api/messages/\(queued.id)", key: signup.apiKey).decode(MessageView.self)
            #expect(held.status == "queued", "customer email is held")
            let smsAfter = try await client.request(.get, "/api/messages/\(try sms.decode(MessageView.self).id)", key: signup.apiKey)
                .decode(MessageView.self)
            #expect(smsAfter.reason?.contains("verifies") != true, "SMS is not held")

            let verified = try await client.request(.post, "/api/auth/email/verify", json: #"{"token": "\#(token)"}"#)
            #expect(verified.status == .ok)
            #expect(try verified.decode([String: JSONAny].self)["emailVerified"]?.bool == true)
            let reused = try await client.request(.post, "/api/auth/email/verify", json: #"{"token": "\#(token)"}"#)
            #expect(reused.status == .unprocessableContent)
            let meAfter = try await client.request(.get, "/api/me", key: owner.accessToken).decode(MeAccount.self)
            #expect(meAfter.account?.emailVerified == true)

            _ = try await services.messageSender.sweep()
            let released = try await client.request(.get, "/api/messages/\(queued.id)", key: signup.apiKey).decode(MessageView.self)
            #expect(released.status == "simulated" && released.reason == nil)

            let resend = try await client.request(.post, "/api/me/email/verification", key: owner.accessToken)
            #expect(resend.status == .accepted)
            #expect(await mailer.next(timeout: .milliseconds(300)) == nil, "a verified address gets no new link")
        }
    }

    @Test func theVerificationLinkCanBeSentAgainAndOnlyTheNewestWorks() async throws {
        let mailer = RecordingAccountMailer()
        try await withApp(mailer: mailer) { client, services in
            _ = try await client.request(.post, "/api/clients/onboard", json: OnboardingTests.body())
            let first = try await mailer.nextToken()
            let owner = try await client.tokens("owner@smile.example", "correct-horse-battery-42")
            #expect(try await client.request(.post, "/api/me/email/verification", key: owner.accessToken).status == .accepted)
            let second = try await mailer.nextToken()
            #expect(try await client.request(.post, "/api/auth/email/verify", json: #"{"token": "\#(first)"}"#).status == .unprocessableContent)
            #expect(try await client.request(.post, "/api/auth/email/verify", json: #"{"token": "\#(second)"}"#).status == .ok)
            let malformed = try await client.request(.post, "/api/auth/email/verify", json: #"{"token": 12}"#)
            #expect(malformed.status == .badRequest)
        }
    }
}

/// Just enough of a JSON value to read one field of an answer.
enum JSONAny: Decodable {
    case bool(Bool), string(String), number(Double), other

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else { self = .other }
    }

    var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    var string: String? { if case .string(let value) = self { value } else { nil } }
}
