import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Hardening: idempotency on writes, CORS")
struct HardeningTests {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!

    @Test func aRetriedWriteIsReplayedNotRepeated() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let headers: HTTPFields = [Self.idempotencyKey: "create-key-1"]
            let first = try await client.request(.post, "/api/keys", key: tenant.key, headers: headers, json: #"{"name": "once"}"#)
            #expect(first.status == .created)
            let again = try await client.request(.post, "/api/keys", key: tenant.key, headers: headers, json: #"{"name": "once"}"#)
            #expect(again.status == .created)
            #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(try again.json()["id"] as? String == first.json()["id"] as? String)
            let keys = try await services.apiKeys.list(tenantId: tenant.id)
            #expect(keys.count == 2, "the default key and one created key, not two")

            let different = try await client.request(.post, "/api/keys", key: tenant.key, headers: headers, json: #"{"name": "twice"}"#)
            #expect(different.status == .unprocessableContent)
            #expect(try different.problem()["type"] as? String == "urn:bookline:problem:idempotency-key-reused")

            // Keys are scoped per tenant: another tenant may use the same key string.
            let other = try await services.makeTenant("Other Salon")
            let theirs = try await client.request(.post, "/api/keys", key: other.key, headers: headers, json: #"{"name": "once"}"#)
            #expect(theirs.status == .created)
            #expect(theirs.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
        }
    }

    @Test func aKeyClaimedByARequestThatNeverFinishedLapsesAfterItsLease() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_790_000_000))
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let body = #"{"name": "after a crash"}"#
            let hash = APIKeyFormat.sha256Hex("POST /api/keys\n" + body)
            // What a process killed mid-request leaves behind: a claim, never finished or freed.
            let claim = try await services.idempotency.begin(scope: "tenant:\(tenant.id)", key: "crash-1", requestHash: hash, now: clock.now)
            guard case .started = claim else { Issue.record("the key was free"); return }
            let headers: HTTPFields = [Self.idempotencyKey: "crash-1"]
            let busy = try await client.request(.post, "/api/keys", key: tenant.key, headers: headers, json: body)
            #expect(busy.status == .conflict)
            #expect(busy.headers[.retryAfter] == "5")
            #expect(try busy.problem()["type"] as? String == "urn:bookline:problem:idempotency-key-in-use")

            clock.advance(by: IdempotencyStore.pendingLease + 1)
            let retried = try await client.request(.post, "/api/keys", key: tenant.key, headers: headers, json: body)
            #expect(retried.status == .created, "the lapsed claim no longer blocks the retry")
            #expect(retried.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
            // The finished answer is kept for the full day, not the claim's lease.
            clock.advance(by: 3600)
            let replayed = try await client.request(.post, "/api/keys", key: tenant.key, headers: headers, json: body)
            #expect(replayed.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(try replayed.json()["id"] as? String == retried.json()["id"] as? String)
        }
    }

    @Test func nestedNullsNULCharactersAndEmptyOptionalBodiesAreClearErrors() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let nestedNull = try await client.request(.put, "/api/settings/hours", key: tenant.key,
                                                      json: #"{"weekly": {}, "closed": [{"date": "2026-12-25", "reason": null}]}"#)
            #expect(nestedNull.status == .unprocessableContent)
            #expect(try nestedNull.problem()["detail"] as? String == "closed[0].reason: must not be null; leave the field out instead")

            let nul = try await client.request(.post, "/api/keys", key: tenant.key, json: #"{"name": "a\u0000b"}"#)
            #expect(nul.status == .unprocessableContent)
            #expect(try nul.problem()["detail"] as? String == "name: must not contain NUL (U+0000) characters")
            #expect(try await services.apiKeys.list(tenantId: tenant.id).count == 1, "nothing stored")

            for path in ["/api/leads?q=a%00b", "/api/leads/a%00b"] {
                let response = try await client.request(.get, path, key: tenant.key)
                #expect(response.status == .unprocessableContent, "\(path)")
                #expect((try response.problem()["detail"] as? String)?.contains("must not contain NUL") == true)
            }

            for path in ["/api/auth/refresh", "/api/auth/logout"] {
                let empty = try await client.request(.post, path)
                #expect(empty.status == .unprocessableContent, "\(path): no body and no cookie is a missing token, not a bad body")
                #expect(try empty.problem()["detail"] as? String == "refreshToken: is required")
            }
        }
    }

    @Test func failedWritesAreNotStoredSoTheyCanBeRetried() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let headers: HTTPFields = [Self.idempotencyKey: "patch-1"]
            let bad = try await client.request(.patch, "/api/tenant", key: tenant.key, headers: headers, json: #"{"businessName": "x"}"#)
            #expect(bad.status == .unprocessableContent)
            let fixed = try await client.request(.patch, "/api/tenant", key: tenant.key, headers: headers, json: #"{"businessName": "x"}"#)
            #expect(fixed.status == .unprocessableContent)
            #expect(fixed.headers[HTTPField.Name("Idempotent-Replayed")!] == nil)
            let badKey = try await client.request(.post, "/api/keys", key: tenant.key, headers: [Self.idempotencyKey: String(repeating: "k", count: 300)], json: "{}")
            #expect(badKey.status == .unprocessableContent)
        }
    }

    @Test func corsAllowsOnlyListedOrigins() async throws {
        try await withApp(configure: { $0.corsOrigins = ["https://app.example.com"] }) { client, services in
            let tenant = try await services.makeTenant()
            let preflight = try await client.request(.options, "/api/tenant", headers: [
                .origin: "https://app.example.com", .accessControlRequestMethod: "PATCH",
            ])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "https://app.example.com")
            #expect(preflight.headers[.accessControlAllowCredentials] == "true")
            #expect(preflight.headers[.accessControlAllowMethods]?.contains("PATCH") == true)

            let allowed = try await client.request(.get, "/api/tenant", key: tenant.key, headers: [.origin: "https://app.example.com"])
            #expect(allowed.headers[.accessControlAllowOrigin] == "https://app.example.com")
            #expect(allowed.headers[.accessControlExposeHeaders]?.contains("RateLimit") == true)

            let evil = try await client.request(.get, "/api/tenant", key: tenant.key, headers: [.origin: "https://evil.example"])
            #expect(evil.headers[.accessControlAllowOrigin] == nil)
            #expect(evil.headers[.accessControlAllowCredentials] == nil)
            let evilPreflight = try await client.request(.options, "/api/tenant", headers: [
                .origin: "https://evil.example", .accessControlRequestMethod: "GET",
            ])
            #expect(evilPreflight.status == .forbidden)
            #expect(evilPreflight.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func noCORSByDefaultAndWildcardsAreRefused() async throws {
        try await withApp { client, _ in
            let response = try await client.request(.get, "/health", headers: [.origin: "https://app.example.com"])
            #expect(response.headers[.accessControlAllowOrigin] == nil)
        }
        #expect(throws: ConfigError.self) { try AppConfig.load(from: ["BOOKLINE_CORS_ORIGINS": "*"]) }
        #expect(throws: ConfigError.self) { try AppConfig.load(from: ["BOOKLINE_CORS_ORIGINS": "https://a.example/path"]) }
        #expect(try AppConfig.load(from: ["BOOKLINE_CORS_ORIGINS": "https://a.example, http://localhost:3000"]).corsOrigins.count == 2)
    }
}
