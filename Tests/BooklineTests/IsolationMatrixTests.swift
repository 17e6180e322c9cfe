import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import Yams

/// Generated from openapi.yaml: every tenant-scoped operation with an id in its path is called
/// on tenant A's resource with tenant B's key and JWT, A's key with too few scopes, a revoked
/// key, an expired JWT and no credential. B must get exactly what it gets for an id that does not
/// exist (so nothing about A's resource leaks, not even that it exists) and never A's data; the
/// rest are refused. A new route with an id joins automatically, and fails until it has a fixture
/// below. Lists are checked too: B's never contain A's ids.
@Suite("Tenant isolation matrix (from openapi.yaml)")
struct IsolationMatrixTests {
    static let now = AppointmentTests.now
    /// Paths whose parameter is not a tenant's resource (template names are the platform's).
    static let notTenantResources: Set<String> = ["/api/templates/{name}", "/api/templates/{name}/preview"]
    static let missingId = "00000000-0000-7000-8000-000000000000"

    struct Operation: Hashable {
        let method: String
        let path: String
    }

    /// Tenant-scoped operations with a path parameter, as the contract lists them.
    static func operations() throws -> [Operation] {
        let text = try String(contentsOf: projectRoot.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        let spec = try #require(try Yams.load(yaml: text) as? [String: Any])
        let paths = try #require(spec["paths"] as? [String: Any])
        var operations: [Operation] = []
        for (path, item) in paths where path.hasPrefix("/api/") && path.contains("{") && !path.hasPrefix("/api/admin/")
            && !notTenantResources.contains(path) {
            for method in ["get", "post", "put", "patch", "delete"] where (item as? [String: Any])?[method] != nil {
                operations.append(Operation(method: method.uppercased(), path: path))
            }
        }
        return operations.sorted { ($0.path, $0.method) < ($1.path, $1.method) }
    }

    /// A's resources, created through the API.
    struct Fixture {
        var ids: [String: String] = [:]
        var bodies: [Operation: String] = [:]
    }

    static func seed(_ client: any TestClientProtocol, _ services: AppServices, _ a: TestTenant, owner: String) async throws -> Fixture {
        var fixture = Fixture()
        let service = try await ScheduleFixture.service(client, key: a.key)
        let lead = try await client.createLead(#"{"phone": "07400 100555", "name": "Alice Private"}"#, key: a.key)
        fixture.ids["lead"] = lead["id"] as? String
        fixture.ids["call"] = try await client.request(.post, "/api/calls", key: a.key, json: #"""
            {"phone": "07400 100555", "startedAt": "2026-10-19T09:00:00Z", "outcome": "interested", "summary": "Private note"}
            """#).json()["id"] as? String
        fixture.ids["message"] = try await client.request(.post, "/api/messages", key: a.key,
                                                          json: #"{"to": "07400 100555", "body": "Private note"}"#).json()["id"] as? String
        fixture.ids["import"] = try await client.importLeads("phone\n07400100556\n", key: a.key).json()["id"] as? String
        fixture.ids["key"] = try await client.request(.post, "/api/keys", key: a.key, json: #"{"name": "spare"}"#).json()["id"] as? String
        fixture.ids["service"] = service
        fixture.ids["appointment"] = try await AppointmentTests.book(client, key: a.key, lead: fixture.ids["lead"]!, service: service,
                                                                     start: "2026-10-23T09:00:00Z").json()["id"] as? String
        fixture.ids["user"] = try await client.request(.post, "/api/users", key: owner, json: #"{"email": "member-a@example.com"}"#)
            .json()["id"] as? String
        fixture.ids["invitation"] = try await client.request(.post, "/api/invitations", key: owner, json: #"{"email": "invitee-a@example.com"}"#)
            .json()["id"] as? String
        _ = try await client.request(.post, "/api/opt-outs", key: a.key, json: #"{"phone": "07400 100557", "reason": "complaint"}"#)
        fixture.ids["phone"] = "+447400100557"
        fixture.ids["tenant"] = a.id
        let sessions = try await client.request(.get, "/api/me/sessions", key: owner).json()["items"] as? [[String: Any]]
        fixture.ids["session"] = sessions?.first?["id"] as? String
        return fixture
    }

    /// The concrete path for A's resource behind `operation`, and a valid body for writes.
    static func request(_ operation: Operation, _ fixture: Fixture, id: String? = nil) -> (path: String, body: String?)? {
        let pick: (String) -> String? = { kind in id ?? fixture.ids[kind] }
        let resource: String?
        var body: String?
        switch operation.path {
        case "/api/leads/{id}": resource = pick("lead"); body = operation.method == "PATCH" ? #"{"notes": "changed by B"}"# : nil
        case "/api/leads/{id}/status": resource = pick("lead"); body = #"{"status": "not_interested"}"#
        case "/api/leads/imports/{id}": resource = pick("import")
        case "/api/calls/{id}": resource = pick("call")
        case "/api/messages/{id}": resource = pick("message")
        case "/api/keys/{id}", "/api/keys/{id}/rotate": resource = pick("key")
        case "/api/services/{id}": resource = pick("service"); body = #"{"name": "Hijacked"}"#
        case "/api/appointments/{id}": resource = pick("appointment"); body = operation.method == "PATCH" ? #"{"status": "cancelled"}"# : nil
        case "/api/users/{id}": resource = pick("user"); body = operation.method == "PATCH" ? #"{"role": "viewer"}"# : nil
        case "/api/me/sessions/{id}": resource = pick("session")
        case "/api/invitations/{id}", "/api/invitations/{id}/resend": resource = pick("invitation")
        case "/api/opt-outs/{phone}": resource = id.map { _ in "+447400100999" } ?? fixture.ids["phone"]
        case "/api/clients/{id}/export": resource = pick("tenant")
        case "/api/compliance/subject-exports/{id}": resource = id ?? missingId
        default: return nil
        }
        guard let resource else { return nil }
        let path = operation.path.replacingOccurrences(of: "{id}", with: resource).replacingOccurrences(of: "{phone}", with: resource)
        let query = operation.path == "/api/opt-outs/{phone}" ? "?reason=asked" : ""
        return (path + query, body)
    }

    @Test func anotherTenantNeverSeesOrChangesAsResources() async throws {
        try await Self.matrix(label: "isolation matrix")
    }

    /// The same matrix with the stores' own tenant filters dropped from every statement of a
    /// tenant-resolved request: row-level security alone must give the same answers.
    @Test(.enabled(if: TestDatabase.engine == .postgres, "row-level security is PostgreSQL's"))
    func rowLevelSecurityAloneKeepsTheMatrixClean() async throws {
        try await TenantScope.$withoutAppFilterForTesting.withValue(true) {
            try await Self.matrix(label: "isolation matrix, row-level security alone")
        }
    }

    static func matrix(label: String) async throws {
        let clock = TestClock(Self.now)
        try await withApp(now: clock.closure) { client, services in
            let a = try await services.makeTenant("A Dental")
            let b = try await services.makeTenant("B Dental")
            let ownerA = try await login(client, email: a.ownerEmail, password: a.ownerPassword)
            let ownerB = try await login(client, email: b.ownerEmail, password: b.ownerPassword)
            let fixture = try await Self.seed(client, services, a, owner: ownerA)
            let narrowA = try await client.request(.post, "/api/keys", key: a.key, json: #"{"name": "narrow", "scopes": ["analytics:read"]}"#)
                .json()["key"] as! String
            let revoked = try await client.request(.post, "/api/keys", key: a.key, json: #"{"name": "gone"}"#).json()
            let revokedKey = try #require(revoked["key"] as? String)
            _ = try await client.request(.delete, "/api/keys/\(try #require(revoked["id"] as? String))", key: a.key)
            let secrets = ["Alice Private", "+447400100555", "Private note"] + fixture.ids.values.filter { $0 != fixture.ids["phone"] }

            let operations = try Self.operations()
            var cells = 0
            var leaks: [String] = []
            for operation in operations {
                guard let target = Self.request(operation, fixture), let missing = Self.request(operation, fixture, id: Self.missingId) else {
                    Issue.record("\(operation.method) \(operation.path) has no isolation fixture: add it to IsolationMatrixTests.request")
                    continue
                }
                let method = HTTPRequest.Method(rawValue: operation.method)!
                for (name, credential) in [("B's key", b.key), ("B's JWT", ownerB)] {
                    let response = try await client.request(method, target.path, key: credential, json: target.body)
                    let control = try await client.request(method, missing.path, key: credential, json: missing.body)
                    cells += 1
                    if response.status != control.status || (200..<300).contains(Int(response.status.code))
                        || secrets.contains(where: response.text.contains) {
                        leaks.append("\(operation.method) \(operation.path) with \(name): \(response.status.code) (unknown id: \(control.status.code)) \(response.text.prefix(120))")
                    }
                }
                for (name, credential, expected) in [("A's narrow key", narrowA, HTTPResponse.Status.forbidden),
                                                     ("a revoked key", revokedKey, .unauthorized),
                                                     ("no credential", nil, .unauthorized)] as [(String, String?, HTTPResponse.Status)] {
                    let response = try await client.request(method, target.path, key: credential, json: target.body)
                    cells += 1
                    let refused = name == "A's narrow key" ? [HTTPResponse.Status.forbidden, .notFound].contains(response.status)
                        : response.status == expected
                    if !refused || secrets.contains(where: response.text.contains) {
                        leaks.append("\(operation.method) \(operation.path) with \(name): \(response.status.code) \(response.text.prefix(120))")
                    }
                }
            }

            // B's lists never contain A's ids or data.
            for path in ["/api/leads", "/api/calls", "/api/messages", "/api/appointments", "/api/services", "/api/keys",
                         "/api/opt-outs", "/api/users", "/api/events", "/api/audit", "/api/leads/imports"] {
                for credential in [b.key, ownerB] {
                    let response = try await client.request(.get, path, key: credential)
                    cells += 1
                    if secrets.contains(where: response.text.contains) { leaks.append("GET \(path) lists A's data: \(response.text.prefix(120))") }
                }
            }

            // Expired JWTs (15 minutes) are refused everywhere, last because the clock moves.
            clock.advance(by: 16 * 60)
            for operation in operations {
                guard let target = Self.request(operation, fixture) else { continue }
                let response = try await client.request(HTTPRequest.Method(rawValue: operation.method)!, target.path, key: ownerA, json: target.body)
                cells += 1
                if response.status != .unauthorized { leaks.append("\(operation.method) \(operation.path) with an expired JWT: \(response.status.code)") }
            }

            // Nothing of A's changed.
            let lead = try await client.request(.get, "/api/leads/\(fixture.ids["lead"]!)", key: a.key).json()
            #expect(lead["status"] as? String != "not_interested" && lead["notes"] as? String != "changed by B")
            #expect(try await client.request(.get, "/api/appointments/\(fixture.ids["appointment"]!)", key: a.key).json()["status"] as? String == "booked")
            print("\(label): \(operations.count) operations, \(cells) cells, \(leaks.count) leaks")
            #expect(leaks.isEmpty, "\(leaks.joined(separator: "\n"))")
            #expect(operations.count >= 15)
        }
    }
}

/// A bookable service for the matrix's appointment (hours from the appointment tests).
enum ScheduleFixture {
    static func service(_ client: any TestClientProtocol, key: String) async throws -> String {
        _ = try await client.request(.put, "/api/settings/hours", key: key, json: AppointmentTests.hours)
        let service = try await client.request(.post, "/api/services", key: key,
                                               json: #"{"name": "Check-up", "durationMinutes": 60, "price": 4500}"#).json()
        return try #require(service["id"] as? String)
    }
}
