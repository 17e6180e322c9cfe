import AsyncHTTPClient
import BooklineCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Credentials for one Twilio account: a tenant's own, or the platform's.
public struct TwilioAccount: Sendable {
    public let accountSid: String
    public let authToken: String
    public let fromNumber: String?
    public let messagingServiceSid: String?
}

/// Sends SMS through Twilio's Messages REST API: a form POST with Basic auth and a
/// StatusCallback back to Bookline. Timeouts, 429 and 5xx are retried a few times with
/// backoff; Twilio's error codes become clear reasons (21610, unsubscribed, opts the number out).
public struct TwilioDriver: MessageDriver {
    static let attempts = 3
    static let timeout: TimeAmount = .seconds(10)

    let account: TwilioAccount
    let baseURL: String
    let client: HTTPClient
    let logger: Logger
    /// Pause before retry `n` (tests make it zero).
    let pause: @Sendable (Int) async -> Void

    public init(account: TwilioAccount, baseURL: String, client: HTTPClient = .shared, logger: Logger,
                pause: @escaping @Sendable (Int) async -> Void = { attempt in
                    try? await Task.sleep(for: .milliseconds(250 << min(attempt, 4)))
                }) {
        self.account = account
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.client = client
        self.logger = logger
        self.pause = pause
    }

    struct Created: Decodable {
        let sid: String
        let status: String?
        let from: String?
    }

    struct Failure: Decodable {
        let code: Int?
        let message: String?
    }

    public func send(_ message: OutgoingMessage) async throws -> DriverReceipt {
        var form: [(String, String)] = [("To", message.to), ("Body", message.text), ("StatusCallback", message.statusCallback)]
        if let service = account.messagingServiceSid {
            form.append(("MessagingServiceSid", service))
        } else if let from = account.fromNumber {
            form.append(("From", from))
        } else {
            throw DriverError.rejected(code: "config", reason: "no Twilio sender: set a from number or a messaging service", optedOut: false)
        }
        var request = HTTPClientRequest(url: "\(baseURL)/2010-04-01/Accounts/\(account.accountSid)/Messages.json")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(account.accountSid):\(account.authToken)".utf8).base64EncodedString())
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: Self.formEncode(form)))

        var lastProblem = "no attempt made"
        for attempt in 1...Self.attempts {
            if attempt > 1 { await pause(attempt - 1) }
            let response: HTTPClientResponse
            let body: ByteBuffer
            do {
                response = try await client.execute(request, timeout: Self.timeout)
                body = try await response.body.collect(upTo: 1 << 20)
            } catch {
                lastProblem = "network: \(type(of: error))"
                continue
            }
            switch response.status.code {
            case 200..<300:
                guard let created = try? JSONDecoder().decode(Created.self, from: Data(buffer: body)) else {
                    throw DriverError.transient("Twilio answered \(response.status.code) without a message sid")
                }
                return DriverReceipt(provider: "twilio", providerId: created.sid, from: created.from ?? account.fromNumber, status: .sent)
            case 429, 500..<600:
                lastProblem = "Twilio answered \(response.status.code)"
                continue
            default:
                let failure = try? JSONDecoder().decode(Failure.self, from: Data(buffer: body))
                let code = failure?.code.map(String.init) ?? String(response.status.code)
                throw DriverError.rejected(code: code, reason: Self.reason(code: failure?.code, status: Int(response.status.code)),
                                           optedOut: failure?.code == 21610)
            }
        }
        throw DriverError.transient(lastProblem)
    }

    struct Listed: Decodable {
        struct Item: Decodable {
            let sid: String
            let body: String?
            let from: String?
            let date_created: String?
        }
        let messages: [Item]
    }

    /// Looks for the message among the recipient's newest messages on the account: same body,
    /// created no earlier than a minute before it was handed over (clocks differ).
    public func check(_ message: OutgoingMessage, handedAt: Date) async throws -> HandoffCheck {
        // Form-encoded, so the number's "+" arrives as "+" (a bare "+" in a query means a space).
        let query = Self.formEncode([("To", message.to), ("PageSize", "50")])
        var request = HTTPClientRequest(url: "\(baseURL)/2010-04-01/Accounts/\(account.accountSid)/Messages.json?\(query)")
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(account.accountSid):\(account.authToken)".utf8).base64EncodedString())
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await client.execute(request, timeout: Self.timeout)
        let body = try await response.body.collect(upTo: 4 << 20)
        guard response.status.code == 200 else { throw DriverError.transient("Twilio answered \(response.status.code) to a message look-up") }
        guard let listed = try? JSONDecoder().decode(Listed.self, from: Data(buffer: body)) else {
            throw DriverError.transient("Twilio's message list could not be read")
        }
        let earliest = handedAt.addingTimeInterval(-60)
        let match = listed.messages.first { item in
            guard item.body == message.text else { return false }
            guard let created = item.date_created.flatMap(Self.rfc2822.date(from:)) else { return true }
            return created >= earliest
        }
        guard let match else { return .notSent }
        return .sent(DriverReceipt(provider: "twilio", providerId: match.sid, from: match.from ?? account.fromNumber, status: .sent))
    }

    /// Twilio's `date_created`, e.g. "Wed, 26 Nov 2026 01:00:00 +0000".
    static let rfc2822: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter
    }()

    /// Twilio's commonest refusals in words a business owner understands.
    static func reason(code: Int?, status: Int) -> String {
        switch code {
        case 21211: "invalid_number: Twilio says the 'To' number is not valid"
        case 21408: "region_not_enabled: the account may not send to this country"
        case 21610: "recipient_unsubscribed: the person replied STOP to this sender"
        case 21612, 21614: "not_reachable: the number cannot receive SMS"
        case 20003: "authentication_failed: check the Twilio account SID and auth token"
        case 21606, 21659: "invalid_sender: the from number cannot send SMS"
        case 30007: "carrier_filtered: the carrier blocked the message"
        default: "provider_refused: Twilio answered \(status)\(code.map { " with error \($0)" } ?? "")"
        }
    }

    /// `application/x-www-form-urlencoded`, as Twilio expects (spaces as %20 are accepted too).
    static func formEncode(_ pairs: [(String, String)]) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        func escape(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "" }
        return pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }
}
