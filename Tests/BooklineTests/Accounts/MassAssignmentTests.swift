import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing

/// No request body sets what only the platform decides: each such field is refused with a 422
/// naming it, and nothing is created or changed.
@Suite("Mass assignment")
struct MassAssignmentTests {
    struct Signup: Decodable { let tenantId: String }
    struct Profile: Decodable { let tier: String; let status: String; let rateLimitPerMinute: Int? }

    @Test func signUpNeverPicksItsOwnTier() async throws {
        try await withApp { client, services in
            let escalated = try await client.request(.post, "/api/clients/onboard", json: OnboardingTests.body(overrides: ["tier": "enterprise"]))
            #expect(escalated.status == .unprocessableContent)
            let problem = try escalated.decode(ProblemBody.self)
            #expect(problem.fields == ["tier"])
            #expect(problem.errors?.first?.message.contains("default plan") == true)
            let count = try await services.database.sql.raw("SELECT COUNT(*) AS n FROM tenants").first()?.decode(column: "n", as: Int.self)
            #expect(count == 0, "nothing is created")

            let plain = try await client.request(.post, "/api/clients/onboard", json: OnboardingTests.body()).decode(Signup.self)
            let tenant = try #require(try await services.tenants.find(id: plain.tenantId))
            #expect(tenant.tier == services.tiers.defaultName && tenant.tier == "free")
        }
    }

    @Test(arguments: ["plan", "status", "role", "tenantId", "rateLimitPerMinute", "emailVerified", "mfaRequired"])
    func signUpRefusesEachPlatformField(field: String) async throws {
        try await withApp { client, services in
            let body = OnboardingTests.body(overrides: [field: "x"])
            let response = try await client.request(.post, "/api/clients/onboard", json: body)
            #expect(response.status == .unprocessableContent)
            #expect(try response.decode(ProblemBody.self).fields == [field])
            let count = try await services.database.sql.raw("SELECT COUNT(*) AS n FROM tenants").first()?.decode(column: "n", as: Int.self)
            #expect(count == 0)
        }
    }

    @Test(arguments: [#"{"tier": "enterprise"}"#, #"{"status": "active"}"#, #"{"rateLimitPerMinute": 100000}"#,
                      #"{"slug": "taken-over"}"#, #"{"id": "01HZZZZZZZZZZZZZZZZZZZZZZZ"}"#])
    func anOwnerCannotChangeWhatTheirPlanDecides(body: String) async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let owner = try await client.tokens(tenant.ownerEmail, tenant.ownerPassword)
            let response = try await client.request(.patch, "/api/tenant", key: owner.accessToken, json: body)
            #expect(response.status == .unprocessableContent, "\(body)")
            let profile = try await client.request(.get, "/api/tenant", key: tenant.key).decode(Profile.self)
            #expect(profile.tier == "free" && profile.status == "active" && profile.rateLimitPerMinute == nil)
        }
    }
}

/// The tenant routes that create things refuse the fields Bookline sets (ids, owner, status,
/// provider data, timestamps), one test per route and field, and create nothing.
@Suite("Mass assignment: tenant routes")
struct TenantMassAssignmentTests {
    static let cases: [(path: String, body: String, table: String, fields: [String])] = [
        ("/api/leads", #""phone": "07400 100901""#, "leads", ["id", "tenantId", "phoneType", "createdAt", "optedOut"]),
        ("/api/messages", #""to": "07400 100902", "body": "Hi""#, "messages", ["id", "tenantId", "status", "provider", "providerId", "segments", "attempts"]),
        ("/api/calls", #""phone": "07400 100903", "startedAt": "2026-10-19T09:00:00Z", "outcome": "booked""#, "calls", ["id", "tenantId"]),
        ("/api/appointments", #""start": "2026-10-23T09:00:00Z""#, "appointments", ["id", "tenantId", "status", "end"]),
        ("/api/keys", #""name": "mine""#, "api_keys", ["id", "tenantId", "key", "status", "createdBy", "revokedAt"]),
    ]

    static var arguments: [(String, String, String, String)] {
        cases.flatMap { test in test.fields.map { (test.path, test.body, test.table, $0) } }
    }

    @Test(arguments: Self.arguments)
    func createRefusesAFieldBooklineSets(path: String, body: String, table: String, field: String) async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let before = try await services.database.sql.raw("SELECT COUNT(*) AS n FROM \(ident: table)").first()?.decode(column: "n", as: Int.self)
            let response = try await client.request(.post, path, key: tenant.key, json: #"{\#(body), "\#(field)": "forged"}"#)
            #expect(response.status == .unprocessableContent, "\(path) \(field): \(response.text)")
            #expect(try response.decode(ProblemBody.self).fields == [field])
            let after = try await services.database.sql.raw("SELECT COUNT(*) AS n FROM \(ident: table)").first()?.decode(column: "n", as: Int.self)
            #expect(before == after, "nothing is created")
        }
    }
}

@Suite("Default tier")
struct DefaultTierTests {
    static func yaml(_ defaults: [String]) -> String {
        var text = "tiers:\n"
        for name in ["free", "pro"] {
            text += "  \(name):\n    requestsPerMinute: 60\n    maxApiKeys: 5\n    maxLeadsPerImport: 500\n    smsPerDay: 100\n"
            if defaults.contains(name) { text += "    default: true\n" }
        }
        return text + "public:\n  onboardPerHour: 20\n  loginPer15Minutes: 30\n"
    }

    @Test func exactlyOneTierIsTheDefault() throws {
        #expect(try TierCatalog.parse(Self.yaml(["pro"])).defaultName == "pro")
        #expect(try TierCatalog.parse(Self.yaml(["pro"])).tier("unknown") == TierCatalog.parse(Self.yaml(["pro"])).tier("pro"))
        #expect(throws: TierCatalog.CatalogError.self) { try TierCatalog.parse(Self.yaml([])) }
        #expect(throws: TierCatalog.CatalogError.self) { try TierCatalog.parse(Self.yaml(["free", "pro"])) }
    }
}
