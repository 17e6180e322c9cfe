import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The four tenant roles, route by route (the README's roles table), and the rules about who
/// may change whom: only owners touch owners, a tenant keeps an owner, nobody removes themselves.
@Suite("Roles: owner, admin, member, viewer")
struct RoleTests {
    struct Person: Decodable { let id: String; let role: String; let email: String }

    /// Signs in one person per role (the owner from sign-up, the others added by the owner).
    static func people(_ client: any TestClientProtocol, _ tenant: TestTenant) async throws -> [TenantRole: (id: String, token: String)] {
        let owner = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
        let ownerId = try #require(try await client.request(.get, "/api/me", key: owner).json()["principal"] as? [String: Any])["id"] as! String
        var people: [TenantRole: (id: String, token: String)] = [.owner: (ownerId, owner)]
        for role in [TenantRole.admin, .member, .viewer] {
            let email = "\(role.rawValue)@\(tenant.id.suffix(6)).example"
            let added = try await client.request(.post, "/api/users", key: owner,
                                                 json: #"{"email": "\#(email)", "role": "\#(role.rawValue)", "password": "a-long-\#(role.rawValue)-password-1"}"#)
            let person = try added.decode(Person.self)
            #expect(added.status == .created && person.role == role.rawValue)
            people[role] = (person.id, try await login(client, email: email, password: "a-long-\(role.rawValue)-password-1"))
        }
        return people
    }

    struct Case {
        let method: HTTPRequest.Method
        let path: String
        let body: String?
        let allowed: Set<TenantRole>
    }

    @Test func eachRouteAnswersExactlyTheRolesTheTableGrants() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            // 56 requests in a minute: more than the default tier's budget, as an admin could allow.
            try await services.database.sql.raw("UPDATE tenants SET rate_limit_per_minute = 100000 WHERE id = \(bind: tenant.id)").run()
            let people = try await Self.people(client, tenant)
            let all: Set<TenantRole> = Set(TenantRole.allCases)
            let writers: Set<TenantRole> = [.owner, .admin, .member]
            let managers: Set<TenantRole> = [.owner, .admin]
            var phone = 100_600
            let cases: [Case] = [
                Case(method: .get, path: "/api/leads", body: nil, allowed: all),
                Case(method: .get, path: "/api/calls", body: nil, allowed: all),
                Case(method: .get, path: "/api/appointments", body: nil, allowed: all),
                Case(method: .get, path: "/api/analytics/weekly", body: nil, allowed: all),
                Case(method: .post, path: "/api/leads", body: "lead", allowed: writers),
                Case(method: .post, path: "/api/calls", body: #"{"phone": "07400 100599", "startedAt": "2026-10-19T09:00:00Z", "outcome": "interested"}"#, allowed: writers),
                Case(method: .post, path: "/api/messages", body: #"{"to": "07400 100598", "body": "Hello"}"#, allowed: writers),
                Case(method: .put, path: "/api/settings/hours", body: AppointmentTests.hours, allowed: managers),
                Case(method: .patch, path: "/api/tenant", body: #"{"businessName": "Renamed Dental"}"#, allowed: managers),
                Case(method: .post, path: "/api/keys", body: #"{"name": "by a person"}"#, allowed: managers),
                Case(method: .get, path: "/api/users", body: nil, allowed: managers),
                Case(method: .get, path: "/api/audit", body: nil, allowed: managers),
                Case(method: .put, path: "/api/tenant/security", body: #"{"mfaRequired": false}"#, allowed: [.owner]),
                Case(method: .get, path: "/api/clients/\(tenant.id)/export", body: nil, allowed: [.owner]),
            ]
            var wrong: [String] = []
            for test in cases {
                for role in TenantRole.allCases {
                    var body = test.body
                    if body == "lead" {
                        phone += 1
                        body = #"{"phone": "07400 \#(phone)", "name": "By \#(role.rawValue)"}"#
                    }
                    let response = try await client.request(test.method, test.path, key: people[role]!.token, json: body)
                    let code = Int(response.status.code)
                    if test.allowed.contains(role) {
                        if !(200..<300).contains(code) || response.headers[.contentType] == "application/problem+json" {
                            wrong.append("\(role) \(test.method) \(test.path): \(code) \(response.text.prefix(100))")
                        }
                    } else if code != 403 || (try? response.problem()["status"] as? Int) != 403 {
                        wrong.append("\(role) \(test.method) \(test.path) should be refused: \(code) \(response.text.prefix(100))")
                    }
                }
            }
            #expect(wrong.isEmpty, "\(wrong.joined(separator: "\n"))")
            // A viewer's token carries only read scopes.
            let viewer = try await client.request(.get, "/api/me", key: people[.viewer]!.token).json()
            #expect(Set(viewer["scopes"] as? [String] ?? []) == ["leads:read", "calls:read", "appointments:read", "analytics:read"])
            #expect(viewer["role"] as? String == "viewer")
        }
    }

    @Test func onlyOwnersTouchOwnersAndTheLastOwnerStays() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let people = try await Self.people(client, tenant)
            let admin = people[.admin]!.token, owner = people[.owner]!
            func problem(_ response: TestResponse) throws -> ProblemBody { try response.decode(ProblemBody.self) }

            // An admin manages members and viewers, never owners.
            let addOwner = try await client.request(.post, "/api/users", key: admin, json: #"{"email": "boss2@example.com", "role": "owner"}"#)
            #expect(try addOwner.status == .forbidden && (problem(addOwner).detail ?? "").contains("owner"))
            #expect(try await client.request(.patch, "/api/users/\(owner.id)", key: admin, json: #"{"role": "viewer"}"#).status == .forbidden)
            #expect(try await client.request(.delete, "/api/users/\(owner.id)", key: admin).status == .forbidden)
            let promote = try await client.request(.patch, "/api/users/\(people[.member]!.id)", key: admin, json: #"{"role": "owner"}"#)
            #expect(promote.status == .forbidden)

            // A re-roled person's token ends at once; signed in again, they have the new role's scopes.
            let demoted = try await client.request(.patch, "/api/users/\(people[.member]!.id)", key: admin, json: #"{"role": "viewer"}"#)
            #expect(try demoted.status == .ok && (demoted.decode(Person.self)).role == "viewer")
            #expect(try await client.request(.get, "/api/leads", key: people[.member]!.token).status == .unauthorized)
            let again = try await login(client, email: "member@\(tenant.id.suffix(6)).example", password: "a-long-member-password-1")
            #expect(try await client.request(.post, "/api/leads", key: again, json: #"{"phone": "07400 100700"}"#).status == .forbidden)

            // Bad roles and fields only the platform sets.
            let bad = try await client.request(.patch, "/api/users/\(people[.viewer]!.id)", key: owner.token, json: #"{"role": "superuser"}"#)
            #expect(try bad.status == .unprocessableContent && (problem(bad)).fields == ["role"])
            let sneaky = try await client.request(.patch, "/api/users/\(people[.viewer]!.id)", key: owner.token,
                                                  json: #"{"role": "member", "tenantId": "\#(tenant.id)"}"#)
            #expect(try sneaky.status == .unprocessableContent && (problem(sneaky)).fields == ["tenantId"])
            let verified = try await client.request(.post, "/api/users", key: owner.token,
                                                    json: #"{"email": "x@example.com", "emailVerified": true}"#)
            #expect(try verified.status == .unprocessableContent && (problem(verified)).fields == ["emailVerified"])

            // The only owner cannot step down; once another owner exists, they can.
            let alone = try await client.request(.patch, "/api/users/\(owner.id)", key: owner.token, json: #"{"role": "admin"}"#)
            #expect(try alone.status == .conflict && (problem(alone)).type.hasSuffix("last-owner"))
            #expect(try await client.request(.patch, "/api/users/\(people[.admin]!.id)", key: owner.token, json: #"{"role": "owner"}"#).status == .ok)
            let stepDown = try await client.request(.patch, "/api/users/\(owner.id)", key: owner.token, json: #"{"role": "admin"}"#)
            #expect(try stepDown.status == .ok && (stepDown.decode(Person.self)).role == "admin")
            // The new owner is now the only one: they cannot be removed or demoted by anyone.
            let formerOwner = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
            let newOwner = try await login(client, email: "admin@\(tenant.id.suffix(6)).example", password: "a-long-admin-password-1")
            #expect(try await client.request(.delete, "/api/users/\(people[.admin]!.id)", key: formerOwner).status == .forbidden)
            let last = try await client.request(.patch, "/api/users/\(people[.admin]!.id)", key: newOwner, json: #"{"role": "member"}"#)
            #expect(try last.status == .conflict && (problem(last)).type.hasSuffix("last-owner"))

            let actions = try await services.auditActions(tenantId: tenant.id)
            #expect(actions.filter { $0 == "user.role_changed" }.count == 3)
        }
    }
}
