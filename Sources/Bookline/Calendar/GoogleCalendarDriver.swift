import AsyncHTTPClient
import BooklineCore
import Foundation
import JWTKit
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// A Google service account's key file fields Bookline uses.
public struct ServiceAccount: Codable, Sendable, Equatable {
    public let clientEmail: String
    public let privateKey: String
    public let tokenURI: String

    enum CodingKeys: String, CodingKey {
        case clientEmail = "client_email", privateKey = "private_key", tokenURI = "token_uri"
    }
}

/// Google Calendar through a service account: an RS256-signed JWT assertion is exchanged for
/// an access token (cached until shortly before it expires), then `freeBusy` and
/// `events.insert` / `patch` / `delete` on the tenant's calendar. The API base URL and the
/// token URI are configurable, so tests run against a local fake.
struct GoogleCalendarDriver: CalendarDriver {
    static let scope = "https://www.googleapis.com/auth/calendar"
    let account: ServiceAccount
    let calendarId: String
    let baseURL: String
    let client: HTTPClient
    let now: @Sendable () -> Date
    /// Access tokens by service account and token URI, shared by every driver in the process:
    /// a driver is made per use, a token lasts an hour.
    static let tokens = Mutex<[String: (value: String, expires: Date)]>([:])

    init(account: ServiceAccount, calendarId: String, baseURL: String, client: HTTPClient = .shared, now: @escaping @Sendable () -> Date) {
        self.account = account
        self.calendarId = calendarId
        self.baseURL = baseURL
        self.client = client
        self.now = now
    }

    struct Assertion: JWTPayload {
        let iss: IssuerClaim
        let scope: String
        let aud: AudienceClaim
        let iat: IssuedAtClaim
        let exp: ExpirationClaim
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    struct CalendarError: Error, CustomStringConvertible {
        let description: String
    }

    /// The signed assertion for the token request.
    static func assertion(_ account: ServiceAccount, at now: Date) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: account.privateKey), digestAlgorithm: .sha256)
        return try await keys.sign(Assertion(
            iss: .init(value: account.clientEmail), scope: scope, aud: .init(value: [account.tokenURI]),
            iat: .init(value: now), exp: .init(value: now.addingTimeInterval(3600))
        ))
    }

    func accessToken() async throws -> String {
        let now = now()
        let cacheKey = "\(account.clientEmail) \(account.tokenURI)"
        if let token = Self.tokens.withLock({ $0[cacheKey] }), token.expires > now.addingTimeInterval(60) { return token.value }
        let assertion = try await Self.assertion(account, at: now)
        var request = HTTPClientRequest(url: account.tokenURI)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let form = "grant_type=\("urn:ietf:params:oauth:grant-type:jwt-bearer".addingPercentEncoding(withAllowedCharacters: allowed)!)"
            + "&assertion=\(assertion.addingPercentEncoding(withAllowedCharacters: allowed)!)"
        request.body = .bytes(ByteBuffer(string: form))
        struct Token: Decodable {
            let access_token: String
            let expires_in: Double?
        }
        let token: Token = try await send(request)
        Self.tokens.withLock { $0[cacheKey] = (token.access_token, now.addingTimeInterval(token.expires_in ?? 3600)) }
        return token.access_token
    }

    func busy(from: Date, to: Date) async throws -> [DateInterval] {
        struct Body: Encodable {
            struct Item: Encodable { let id: String }
            let timeMin: String
            let timeMax: String
            let items: [Item]
        }
        struct Answer: Decodable {
            struct Calendar: Decodable {
                struct Busy: Decodable { let start: String; let end: String }
                let busy: [Busy]?
            }
            let calendars: [String: Calendar]
        }
        let answer: Answer = try await call(.POST, "/calendar/v3/freeBusy", body: Body(
            timeMin: from.formatted(.iso8601), timeMax: to.formatted(.iso8601), items: [.init(id: calendarId)]
        ))
        return (answer.calendars[calendarId]?.busy ?? []).compactMap { block in
            guard let start = ISOTime.parse(block.start), let end = ISOTime.parse(block.end), end > start else { return nil }
            return DateInterval(start: start, end: end)
        }
    }

    struct EventBody: Encodable {
        struct Time: Encodable { let dateTime: String }
        let summary: String
        let description: String
        let start: Time
        let end: Time
    }

    struct EventAnswer: Decodable { let id: String }

    func upsert(_ event: CalendarEvent, existingId: String?) async throws -> String {
        let body = EventBody(summary: event.summary, description: event.description,
                             start: .init(dateTime: event.start.formatted(.iso8601)), end: .init(dateTime: event.end.formatted(.iso8601)))
        let path = "/calendar/v3/calendars/\(Self.escape(calendarId))/events"
        if let existingId {
            let answer: EventAnswer = try await call(.PATCH, "\(path)/\(Self.escape(existingId))", body: body)
            return answer.id
        }
        let answer: EventAnswer = try await call(.POST, path, body: body)
        return answer.id
    }

    func delete(eventId: String) async throws {
        var request = HTTPClientRequest(url: baseURL + "/calendar/v3/calendars/\(Self.escape(calendarId))/events/\(Self.escape(eventId))")
        request.method = .DELETE
        request.headers.add(name: "Authorization", value: "Bearer \(try await accessToken())")
        let response = try await client.execute(request, timeout: .seconds(15))
        // Already gone is as good as deleted.
        guard response.status.code < 300 || [404, 410].contains(response.status.code) else {
            throw CalendarError(description: "Google Calendar answered \(response.status.code) to a delete")
        }
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~@"))) ?? text
    }

    func call<Answer: Decodable>(_ method: HTTPMethod, _ path: String, body: some Encodable) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(try await accessToken())")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        return try await send(request)
    }

    func send<Answer: Decodable>(_ request: HTTPClientRequest) async throws -> Answer {
        let response = try await client.execute(request, timeout: .seconds(15))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(response.status.code) else {
            // Google's error bodies can echo request details; only the status is kept.
            throw CalendarError(description: "Google answered \(response.status.code)")
        }
        return try JSONDecoder().decode(Answer.self, from: Data(buffer: bytes))
    }
}
