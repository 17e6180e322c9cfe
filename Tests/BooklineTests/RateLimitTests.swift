@testable import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Per-tier rate limits")
struct RateLimitTests {
    func header(_ response: TestResponse, _ name: String) -> String? {
        response.headers[HTTPField.Name(name)!]
    }

    @Test func exactLimitHeadersRetryAfterAndReset() async throws {
        let clock = TestClock()
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let first = try await client.request(.get, "/api/tenant", key: tenant.key)
            #expect(header(first, "RateLimit-Policy") == #""free";q=60;w=60"#)
            #expect(header(first, "RateLimit") == #""free";r=59;t=60"#)
            #expect(header(first, "X-RateLimit-Limit") == "60")
            #expect(header(first, "X-RateLimit-Remaining") == "59")
            #expect(header(first, "X-RateLimit-Reset") == "60")

            clock.advance(by: 10)
            for index in 2...60 {
                let response = try await client.request(.get, "/api/tenant", key: tenant.key)
                #expect(response.status == .ok, "request \(index)")
                if index == 60 { #expect(header(response, "X-RateLimit-Remaining") == "0") }
            }
            let refused = try await client.request(.get, "/api/tenant", key: tenant.key)
            #expect(refused.status == .tooManyRequests)
            #expect(header(refused, "Retry-After") == "50", "the first request leaves the window 50 s from now")
            #expect(header(refused, "RateLimit") == #""free";r=0;t=50"#)
            #expect(try refused.problem()["type"] as? String == "urn:bookline:problem:rate-limited")

            clock.advance(by: 49)
            #expect(try await client.request(.get, "/api/tenant", key: tenant.key).status == .tooManyRequests)
            clock.advance(by: 1)
            let afterWindow = try await client.request(.get, "/api/tenant", key: tenant.key)
            #expect(afterWindow.status == .ok, "one slot frees when the first request leaves the window")
            #expect(try await client.request(.get, "/api/tenant", key: tenant.key).status == .tooManyRequests,
                    "no 2x burst at the edge: the other 59 are still inside the window")
            clock.advance(by: 10)
            #expect(try await client.request(.get, "/api/tenant", key: tenant.key).status == .ok)
        }
    }

    @Test func budgetsAreIndependentPerCredentialAndTenant() async throws {
        try await withApp { client, services in
            let first = try await services.makeTenant()
            let second = try await services.makeTenant("Other Salon")
            try await client.request(.patch, "/api/admin/tenants/\(first.id)", key: try await adminToken(client, services),
                                     json: #"{"rateLimitPerMinute": 3}"#)
            let extraKey = try await client.request(.post, "/api/keys", key: first.key, json: #"{"name": "second"}"#)
            let other = try #require(try extraKey.json()["key"] as? String)  // request 1 of the first key's 3

            for _ in 0..<2 { #expect(try await client.request(.get, "/api/tenant", key: first.key).status == .ok) }
            #expect(try await client.request(.get, "/api/tenant", key: first.key).status == .tooManyRequests)
            #expect(try await client.request(.get, "/api/tenant", key: other).status == .ok, "another key has its own budget")
            let otherTenant = try await client.request(.get, "/api/tenant", key: second.key)
            #expect(otherTenant.status == .ok)
            #expect(header(otherTenant, "X-RateLimit-Limit") == "60", "another tenant keeps its tier's budget")
        }
    }

    @Test func aTierChangeAppliesOnTheNextRequest() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            #expect(header(try await client.request(.get, "/api/tenant", key: tenant.key), "X-RateLimit-Limit") == "60")
            let admin = try await adminToken(client, services)
            let patched = try await client.request(.patch, "/api/admin/tenants/\(tenant.id)", key: admin, json: #"{"tier": "pro"}"#)
            #expect(patched.status == .ok)
            let next = try await client.request(.get, "/api/tenant", key: tenant.key)
            #expect(header(next, "RateLimit-Policy") == #""pro";q=300;w=60"#)
            #expect(header(next, "X-RateLimit-Remaining") == "298", "the earlier request still counts")
        }
    }

    @Test func errorsAndOtherRouteGroupsCarryTheFieldsToo() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant(scopes: ["leads:read"])
            let forbidden = try await client.request(.get, "/api/keys", key: tenant.key)
            #expect(forbidden.status == .forbidden)
            #expect(header(forbidden, "RateLimit") != nil)
            let me = try await client.request(.get, "/api/me", key: tenant.key)
            #expect(header(me, "RateLimit-Policy") == #""free";q=60;w=60"#)
            let login = try await client.request(.post, "/api/auth/login", json: #"{"email": "x@example.com", "password": "nope-nope-nope"}"#)
            #expect(header(login, "RateLimit-Policy") == #""login";q=30;w=900"#)
        }
    }

    func adminToken(_ client: any TestClientProtocol, _ services: AppServices) async throws -> String {
        let admin = try await services.makePlatformUser(role: .platformAdmin)
        return try await login(client, email: admin.email, password: admin.password)
    }
}

@Suite("Rate limit stores")
struct RateLimitStoreTests {
    /// The same behaviour from every store; PostgreSQL runs when the suite runs on it.
    static var stores: [String] { TestDatabase.engine == .postgres ? ["memory", "postgres"] : ["memory"] }

    func withStores(_ kind: String, _ body: @escaping @Sendable (any RateLimitStore, any RateLimitStore) async throws -> Void) async throws {
        try await TestDatabase.withFresh { config in
            let database = try await Database.open(config, logger: quietLogger)
            try await Migrator(database: database, directory: projectRoot.appendingPathComponent("migrations"), logger: quietLogger).migrate()
            do {
                if kind == "postgres" {
                    // Two instances, one database: they must share one budget.
                    try await body(PostgresRateLimitStore(database: database), PostgresRateLimitStore(database: database))
                } else {
                    let store = MemoryRateLimitStore()
                    try await body(store, store)
                }
                await database.close()
            } catch {
                await database.close()
                throw error
            }
        }
    }

    @Test(arguments: stores)
    func slidingWindowAcrossInstances(kind: String) async throws {
        try await withStores(kind) { first, second in
            let policy = RateLimitPolicy(name: "test", limit: 3, window: 60)
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            #expect(try await first.hit(bucket: "k", policy: policy, now: start).remaining == 2)
            #expect(try await second.hit(bucket: "k", policy: policy, now: start.addingTimeInterval(1)).remaining == 1)
            #expect(try await first.hit(bucket: "k", policy: policy, now: start.addingTimeInterval(2)).allowed)
            let refused = try await second.hit(bucket: "k", policy: policy, now: start.addingTimeInterval(3))
            #expect(!refused.allowed)
            #expect(refused.resetSeconds == 57)
            #expect(try await first.hit(bucket: "other", policy: policy, now: start.addingTimeInterval(3)).allowed)
            #expect(try await second.hit(bucket: "k", policy: policy, now: start.addingTimeInterval(60.5)).allowed)
        }
    }
}

@Suite("tiers.yaml")
struct TierCatalogTests {
    @Test func theShippedFileHasTheDocumentedBudgets() throws {
        let catalog = try TierCatalog.load(from: projectRoot.appendingPathComponent("tenants/tiers.yaml"))
        #expect(catalog.names == ["free", "pro", "enterprise"])
        #expect(catalog.tier("free").requestsPerMinute == 60)
        #expect(catalog.tier("pro").requestsPerMinute == 300)
        #expect(catalog.tier("enterprise").requestsPerMinute == 1000)
        #expect(catalog.tier("unknown") == catalog.tier("free"))
    }

    @Test(arguments: [
        ("tiers: {pro: {requestsPerMinute: 5, maxApiKeys: 1, maxLeadsPerImport: 1, smsPerDay: 1}}\npublic: {onboardPerHour: 1, loginPer15Minutes: 1}", "exactly one tier `default: true`"),
        ("tiers: {free: {requestsPerMinute: 0, maxApiKeys: 1, maxLeadsPerImport: 1, smsPerDay: 1}}\npublic: {onboardPerHour: 1, loginPer15Minutes: 1}", "free.requestsPerMinute"),
        ("tiers: {free: {requestsPerMinute: lots}}", "not valid"),
        ("tiers: {Free Tier: {requestsPerMinute: 1, maxApiKeys: 1, maxLeadsPerImport: 1, smsPerDay: 1}, free: {requestsPerMinute: 1, maxApiKeys: 1, maxLeadsPerImport: 1, smsPerDay: 1}}\npublic: {onboardPerHour: 1, loginPer15Minutes: 1}", "tier name"),
    ])
    func badFilesAreRefusedWithAClearMessage(yaml: String, expected: String) {
        let error = #expect(throws: TierCatalog.CatalogError.self) { try TierCatalog.parse(yaml) }
        #expect(error?.description.contains(expected) == true, "\(error?.description ?? "")")
    }

    @Test func decisionsAreCountedInMetrics() async throws {
        try await withApp(configure: { $0.loginAttemptsPer15Minutes = 1 }) { client, _ in
            for _ in 0..<2 {
                try await client.request(.post, "/api/auth/login", json: #"{"email": "m@example.com", "password": "metrics-pass-1"}"#)
            }
            let metrics = try await client.request(.get, "/metrics").text
            #expect(metrics.contains(#"bookline_rate_limit_decisions_total{policy="login",decision="allowed"}"#))
            #expect(metrics.contains(#"bookline_rate_limit_decisions_total{policy="login",decision="refused"}"#))
        }
    }
}
