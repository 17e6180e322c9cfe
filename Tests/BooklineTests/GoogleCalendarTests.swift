@testable import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import NIOCore
import Synchronization
import Testing

/// The claims Google checks in a service account's assertion.
struct GoogleAssertionClaims: JWTPayload {
    let iss: String
    let scope: String
    let aud: AudienceClaim
    let iat: Double
    let exp: Double
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// A local stand-in for Google's token endpoint and Calendar API: checks the signed assertion
/// with the service account's public key and records every call.
final class FakeGoogle: Sendable {
    struct Call: Sendable {
        let method: String
        let path: String
        let body: String
        let authorization: String?
    }

    static let privateKey = """
-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCnBaA44VmnETKk
dmpvZpuUeh9ZQ8CtpW24i8CPZD3Pv6zo8zTy83SVa7rMHqetmP3aQ1kVGu29bVlm
oVVBcXAk8Asfjspu/tjVwD31Z4vMvRBLIndyMFpQOx/8zbgW/OzVdyP9tjW8uJcO
YVkA8FbN7vVmNCIZJBjNvgOMTH52ch3Iri5FVaXTMZL/3o4gTi+JMu5kFhvUVg6Z
rz+UgUoiT6mVU/sB5uiomnA/0k6r1iF3PZNrtHtvYsznxz8FH0LcF1rYg9ResRZU
IWYxUiQHhDwY5VBmk72Oth6VrkwNn5govgxdDg6t3I0uSkRWTVayZGM5BuPPnygw
g5WKCLTrAgMBAAECggEAGqatqdXfoeZ/H7obgrorQjZ4cRx8DtlSWDvIlrjmmhNa
SnOgc9IAPOWLUY3ksLE0dJMBkHoTDIJ53QQKYB5zSBmblMYKrEpzHCyIVnPW3W0f
v/V4fNqVVq8QjBzhbp2eRvOzZQUhrwL/a5aCBsHTABpMwym3dS6K3K2g0E7WcRzD
Vjrad9dWlw7GjfqQV20T+uzu4bviQs/eBJ6sMQM7G/nom5hmn8ceQWTTiFJeuBUl
B7EDuVZtl/q13Ax+LME8EbCByeUVwL39i5eqw1kHhiHM7GctBJmtNE/NUpbTH6wx
52cG/Krp4u2XjOcGbA43kwFyAgO+3PpOGLnDjcO8rQKBgQDeECOIkRvyioFDF8Jn
lx0PPaurJ+6jpRF3iqhi0iHj6g+Mi2GQkZp9Ff6qzGdxSMa2+UtraoiO0+OMk6AT
uZPfgbRCbw9k4+t5GuAPe3VJEk6u9crdaecS8UaDVy0W6fOnYuC3B2qPclvW++yO
JwiIl8HXpVXk8w4f0eAaOXYi9wKBgQDAjBfqrxoAF7Ubg18oI7yBa2QpuQITitta
w8IdYc0BdG8mV1ciLnQZ/h9wYQwszSXWQdJlPrkQyopO1stZ7GrSXBMIr5fd4GUV
E22p0dxYKDSVP01IrcIgxKcftVPEdTHR6db1gK1P6pjGrya1lTmHY1PzpH2gjxuJ
91xZHYyMrQKBgDbJUor6CiQfyd5suTjnjnLZK0Zx9q2HJzUQD5U59MSPVcC+Dpcl
ZTEhQRCQl6DabLRt8w6QXRqn6kcfkOns6i/Fh1ywm+KvXMQnPkpzki8yBhmiaKeR
3kHNJzF2S5iQpd2RRpHBkafMdh4nT2iO9ssEbf2vO+7djImLNTgjHyNnAoGAI0DD
FD3Q9dlhWFM6NeAtIEjoQtdTsP5IYRrcTILehPirbQqqsmBs82Faojmyf/VjixHs
EotkWNWscvjSrHkjqbYf6gQ0OvRdrXksJ957iEx8LCM15CukElnO+3g4iQyn/XXh
3HsdwDcEl8Pzw2U57jbaZQ5lzeLFuQHoD4zgcdUCgYEArjBXndoFAXtQHd8s8ZoR
ByLoQzG24b3lI+27180rLeGITfAkT5gUwIhY7OsBctawQV5sckW+iB8KSkR44fyW
OUTAPgu/VNIQAmU/BlpAJS11owqSmzow9icLdOL93C92pAIXM1x7ruYf8l15aBVE
mnQImvuHN1nGu390yenl1Xs=
-----END PRIVATE KEY-----
"""
    static let publicKey = """
-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApwWgOOFZpxEypHZqb2ab
lHofWUPAraVtuIvAj2Q9z7+s6PM08vN0lWu6zB6nrZj92kNZFRrtvW1ZZqFVQXFw
JPALH47Kbv7Y1cA99WeLzL0QSyJ3cjBaUDsf/M24Fvzs1Xcj/bY1vLiXDmFZAPBW
ze71ZjQiGSQYzb4DjEx+dnIdyK4uRVWl0zGS/96OIE4viTLuZBYb1FYOma8/lIFK
Ik+plVP7AeboqJpwP9JOq9Yhdz2Ta7R7b2LM58c/BR9C3Bda2IPUXrEWVCFmMVIk
B4Q8GOVQZpO9jrYela5MDZ+YKL4MXQ4OrdyNLkpEVk1WsmRjOQbjz58oMIOVigi0
6wIDAQAB
-----END PUBLIC KEY-----
"""

    let calls = Mutex<[Call]>([])
    let assertions = Mutex<[[String: String]]>([])
    let busy: [(String, String)]

    init(busy: [(String, String)] = []) {
        self.busy = busy
    }

    var all: [Call] { calls.withLock { $0 } }

    func run<T: Sendable>(_ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("token") { request, _ -> Response in
            let form = String(buffer: try await request.body.collect(upTo: 1 << 16))
            let fields = Dictionary(form.split(separator: "&").map { pair -> (String, String) in
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }, uniquingKeysWith: { first, _ in first })
            let keys = JWTKeyCollection()
            await keys.add(rsa: try Insecure.RSA.PublicKey(pem: Self.publicKey), digestAlgorithm: .sha256)
            guard fields["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer", let assertion = fields["assertion"],
                  let claims = try? await keys.verify(assertion, as: GoogleAssertionClaims.self)
            else { return Response(status: .badRequest) }
            self.assertions.withLock {
                $0.append(["iss": claims.iss, "scope": claims.scope, "aud": claims.aud.value.joined(separator: " "), "lifetime": String(Int(claims.exp - claims.iat))])
            }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"access_token": "ya29.fake", "expires_in": 3599, "token_type": "Bearer"}"#)))
        }
        let record: @Sendable (Request, String) async throws -> Void = { request, method in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 16))
            self.calls.withLock { $0.append(Call(method: method, path: request.uri.path, body: text, authorization: request.headers[.authorization])) }
        }
        router.post("calendar/v3/freeBusy") { request, _ -> Response in
            try await record(request, "POST")
            let blocks = self.busy.map { #"{"start": "\#($0.0)", "end": "\#($0.1)"}"# }.joined(separator: ",")
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(
                string: #"{"calendars": {"clinic@example.com": {"busy": [\#(blocks)]}}}"#)))
        }
        router.post("calendar/v3/calendars/{calendar}/events") { request, _ -> Response in
            try await record(request, "POST")
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"id": "evt123"}"#)))
        }
        router.patch("calendar/v3/calendars/{calendar}/events/{event}") { request, _ -> Response in
            try await record(request, "PATCH")
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"id": "evt123"}"#)))
        }
        router.delete("calendar/v3/calendars/{calendar}/events/{event}") { request, _ -> HTTPResponse.Status in
            try await record(request, "DELETE")
            return .noContent
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in try await body("http://127.0.0.1:\(client.port!)") }
    }
}

@Suite("Google Calendar: signed token exchange, free/busy, events mirror appointments")
struct GoogleCalendarTests {
    @Test func aConnectedCalendarBlocksBusyTimesAndMirrorsAppointments() async throws {
        let google = FakeGoogle(busy: [("2026-10-21T09:00:00Z", "2026-10-21T10:00:00Z")])
        let clock = TestClock(AppointmentTests.now)
        try await google.run { base in
            try await withApp(configure: { $0.googleAPIBaseURL = base }, now: clock.closure) { client, services in
                let (tenant, service, leads) = try await AppointmentTests.setUp(client, services)
                let account: [String: String] = ["client_email": "bookline@clinic.iam.gserviceaccount.com",
                                                 "private_key": FakeGoogle.privateKey, "token_uri": base + "/token"]
                let body = try JSONSerialization.data(withJSONObject: ["calendarId": "clinic@example.com", "serviceAccount": account])
                let saved = try await client.request(.put, "/api/settings/calendar", key: tenant.key, json: String(decoding: body, as: UTF8.self))
                #expect(saved.status == .ok)
                #expect(!saved.text.contains("PRIVATE KEY"))
                #expect(try saved.json()["mode"] as? String == "google")

                // 10:00-11:00 BST is busy in Google: those slots disappear.
                let slots = try await client.request(.get, "/api/availability?service=\(service)&from=2026-10-21", key: tenant.key).json()
                #expect(AppointmentTests.starts(slots) == ["2026-10-21T08:00:00Z", "2026-10-21T10:00:00Z"])
                #expect(google.assertions.withLock { $0 } == [[
                    "iss": "bookline@clinic.iam.gserviceaccount.com", "scope": "https://www.googleapis.com/auth/calendar",
                    "aud": base + "/token", "lifetime": "3600",
                ]])

                let booked = try await AppointmentTests.book(client, key: tenant.key, lead: leads[0], service: service, start: "2026-10-21T08:00:00Z")
                let id = try booked.json()["id"] as! String
                _ = try await JobWorker(services: services, concurrency: 8).runOnce()
                let insert = try #require(google.all.first { $0.path.hasSuffix("/events") })
                #expect(insert.path == "/calendar/v3/calendars/clinic@example.com/events")
                #expect(insert.authorization == "Bearer ya29.fake")
                let event = try JSONSerialization.jsonObject(with: Data(insert.body.utf8)) as! [String: Any]
                #expect((event["start"] as? [String: String])?["dateTime"] == "2026-10-21T08:00:00Z")
                #expect((event["end"] as? [String: String])?["dateTime"] == "2026-10-21T09:00:00Z")
                #expect((event["summary"] as? String)?.hasPrefix("Check-up: ") == true)

                // Moved to the other free hour: the same event is patched with the new times.
                let moved = try await client.request(.patch, "/api/appointments/\(id)", key: tenant.key, json: #"{"start": "2026-10-21T10:00:00Z"}"#)
                #expect(moved.status == .ok, "\(moved.text)")
                while try await JobWorker(services: services, concurrency: 8).runOnce() > 0 {}
                let patches = google.all.filter { $0.method == "PATCH" }
                #expect(patches.map(\.path) == ["/calendar/v3/calendars/clinic@example.com/events/evt123"])
                #expect(google.all.filter { $0.method == "POST" && $0.path.hasSuffix("/events") }.count == 1, "no second event")
                let patched = try JSONSerialization.jsonObject(with: Data((patches.first?.body ?? "{}").utf8)) as! [String: Any]
                #expect((patched["start"] as? [String: String])?["dateTime"] == "2026-10-21T10:00:00Z")
                #expect((patched["end"] as? [String: String])?["dateTime"] == "2026-10-21T11:00:00Z")
                #expect(patches.first?.authorization == "Bearer ya29.fake")

                _ = try await client.request(.patch, "/api/appointments/\(id)", key: tenant.key, json: #"{"status": "cancelled", "cancelReason": "Ill"}"#)
                _ = try await JobWorker(services: services, concurrency: 8).runOnce()
                #expect(google.all.last.map { "\($0.method) \($0.path)" } == "DELETE /calendar/v3/calendars/clinic@example.com/events/evt123")
                // One token served every call.
                #expect(google.assertions.withLock { $0.count } == 1)
            }
        }
    }

    @Test func badCredentialsAreRefusedAndNothingConnectedRecordsOnly() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let bad = try await client.request(.put, "/api/settings/calendar", key: tenant.key, json: #"""
                {"calendarId": "x@example.com", "serviceAccount": {"client_email": "nope", "private_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "token_uri": "ftp://x"}}
                """#)
            let fields = Set((try bad.problem()["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
            #expect(fields == ["serviceAccount.private_key", "serviceAccount.client_email", "serviceAccount.token_uri"])
            let missing = try await client.request(.put, "/api/settings/calendar", key: tenant.key, json: #"{"calendarId": "x@example.com"}"#)
            #expect(missing.status == .unprocessableContent)
            let shown = try await client.request(.get, "/api/settings/calendar", key: tenant.key).json()
            #expect(shown["mode"] as? String == "recording" && shown["configured"] as? Bool == false)
        }
    }
}
