@preconcurrency import AsyncKit
@testable import Bookline
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("HTTP basics: request ids, problems, limits, headers")
struct HTTPBasicsTests {
    @Test func mintsAndEchoesARequestId() async throws {
        try await withApp { client, _ in
            let minted = try await client.request(.get, "/health")
            let id = try #require(minted.headers[.requestId])
            #expect(id.count == 36)

            let given = try await client.request(.get, "/health", headers: [.requestId: "trace-42.abc"])
            #expect(given.headers[.requestId] == "trace-42.abc")

            let hostile = try await client.request(.get, "/health", headers: [.requestId: "bad id\nwith newline"])
            #expect(hostile.headers[.requestId] != "bad id\nwith newline")
            #expect(hostile.headers[.requestId]?.count == 36)
        }
    }

    @Test func unknownRouteIsAProblemWithTheRequestId() async throws {
        try await withApp { client, _ in
            let response = try await client.request(.get, "/no/such/thing", headers: [.requestId: "req-404"])
            #expect(response.status == .notFound)
            let problem = try response.problem()
            #expect(problem["request_id"] as? String == "req-404")
            #expect(problem["type"] as? String == "urn:bookline:problem:not-found")
        }
    }

    @Test func oversizedBodyIs413() async throws {
        try await withApp(configure: { $0.maxBodyBytes = 2048 }) { client, services in
            let tenant = try await services.makeTenant()
            let big = "{\"businessName\": \"" + String(repeating: "x", count: 4096) + "\"}"
            let response = try await client.request(.patch, "/api/tenant", key: tenant.key, json: big)
            #expect(response.status == .contentTooLarge)
            let problem = try response.problem()
            #expect((problem["detail"] as? String)?.contains("2048") == true)
            // Nothing was written.
            let stored = try await services.tenants.find(id: tenant.id)
            #expect(stored?.businessName == "Smile Dental")
        }
    }

    @Test func malformedJSONIsA400Problem() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let response = try await client.request(.patch, "/api/tenant", key: tenant.key, json: "{not json")
            #expect(response.status == .badRequest)
            let problem = try response.problem()
            #expect(problem["type"] as? String == "urn:bookline:problem:malformed-body")
            #expect(problem["detail"] as? String == "The request body is not valid JSON.")
        }
    }

    @Test func wrongTypeNamesTheField() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let response = try await client.request(.patch, "/api/tenant", key: tenant.key, json: #"{"businessName": 42}"#)
            #expect(response.status == .badRequest)
            let errors = try #require(try response.problem()["errors"] as? [[String: String]])
            #expect(errors.first?["field"] == "businessName")
            #expect(errors.first?["message"] == "businessName must be a string.")

            let array = try await client.request(.patch, "/api/tenant", key: tenant.key, json: "[1, 2]")
            #expect(array.status == .badRequest)
            #expect(try array.problem()["detail"] as? String == "The body must be a JSON object.")
        }
    }

    @Test func emptyBodyAndWrongMediaTypeAreRefused() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let empty = try await client.request(.patch, "/api/tenant", key: tenant.key, headers: [.contentType: "application/json"])
            #expect(empty.status == .badRequest)
            #expect(try empty.problem()["detail"] as? String == "The request body is empty; send a JSON object.")

            let form = try await client.request(
                .patch, "/api/tenant", key: tenant.key,
                headers: [.contentType: "application/x-www-form-urlencoded"], json: "businessName=x"
            )
            #expect(form.status == .unsupportedMediaType)
            #expect(try form.problem()["type"] as? String == "urn:bookline:problem:unsupported-media-type")
        }
    }

    @Test func securityHeadersEverywhereAndCSPOnPages() async throws {
        try await withApp { client, _ in
            let api = try await client.request(.get, "/health")
            #expect(api.headers[.xContentTypeOptions] == "nosniff")
            #expect(api.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            #expect(api.headers[.contentSecurityPolicy] == nil)

            for page in ["/", "/docs", "/onboard", "/dashboard", "/admin", "/compliance", "/reset-password", "/verify-email", "/invite"] {
                let response = try await client.request(.get, page)
                #expect(response.status == .ok, "\(page)")
                let csp = try #require(response.headers[.contentSecurityPolicy], "\(page)")
                #expect(csp.contains("frame-ancestors 'none'"))
                #expect(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"))
            }
        }
    }

    /// The CSP allows no inline script or style, so the pages must not carry any.
    @Test func pagesHaveNoInlineScriptsHandlersOrStyles() throws {
        let folder = projectRoot.appendingPathComponent("public")
        let pages = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".html") }
        #expect(pages.count >= 5)
        for page in pages {
            let html = try String(contentsOf: folder.appendingPathComponent(page), encoding: .utf8)
            let scripts = html.components(separatedBy: "<script").dropFirst()
            #expect(scripts.allSatisfy { $0.prefix(while: { $0 != ">" }).contains("src=") }, "\(page) has an inline script")
            #expect(html.range(of: #"\son[a-z]+\s*="#, options: .regularExpression) == nil, "\(page) has an inline event handler")
            #expect(!html.contains(" style=") && !html.contains("<style"), "\(page) has inline styles")
        }
    }

    @Test func landingPageLinksOnboardingDashboardAndDocs() async throws {
        try await withApp { client, _ in
            let page = try await client.request(.get, "/").text
            #expect(page.contains("href=\"/onboard\""))
            #expect(page.contains("href=\"/dashboard\""))
            #expect(page.contains("href=\"/docs\""))
        }
    }

    @Test func accessLogHasOneLinePerRequestWithTenantAndRequestId() async throws {
        let logs = LogCapture()
        try await withApp(logs: logs) { client, services in
            let tenant = try await services.makeTenant()
            try await client.request(.get, "/api/tenant?token=secret-in-query", key: tenant.key, headers: [.requestId: "log-1"])
            let lines = logs.all.filter { $0.contains("request_id=log-1") }
            #expect(lines.count == 1)
            let line = try #require(lines.first)
            #expect(line.contains("method=GET"))
            #expect(line.contains("path=/api/tenant"))
            #expect(line.contains("status=200"))
            #expect(line.contains("tenant=\(tenant.id)"))
            #expect(line.contains("duration_ms="))
            #expect(!logs.all.joined().contains("secret-in-query"))
        }
    }

    @Test func unexpectedErrorsAreAGeneric500WithoutInternals() async throws {
        struct LeakyError: Error, CustomStringConvertible {
            var description: String { "SELECT password FROM users -- at Foo.swift:12" }
        }
        let router = Router(context: AppRequestContext.self)
        router.addMiddleware {
            RequestIdMiddleware()
            ProblemMiddleware(logger: quietLogger)
        }
        router.get("boom") { _, _ -> String in throw LeakyError() }
        let app = Application(router: router)
        try await app.test(.router) { client in
            let response = try await client.request(.get, "/boom")
            #expect(response.status == .internalServerError)
            let problem = try response.problem()
            #expect(problem["type"] as? String == "urn:bookline:problem:internal")
            #expect(!response.text.contains("SELECT"))
            #expect(!response.text.contains("Foo.swift"))
        }
    }

    @Test func anUnreachableDatabaseIsAFast503WithRetryAfter() async throws {
        let router = Router(context: AppRequestContext.self)
        router.addMiddleware {
            RequestIdMiddleware()
            ProblemMiddleware(logger: quietLogger)
        }
        router.get("down") { _, _ -> String in throw ConnectionPoolTimeoutError.connectionRequestTimeout }
        try await Application(router: router).test(.router) { client in
            let response = try await client.request(.get, "/down")
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers[.retryAfter] == "5")
            let problem = try response.problem()
            #expect(problem["type"] as? String == "urn:bookline:problem:unavailable")
            #expect(problem["detail"] as? String == "The database is unavailable; try again shortly.")
        }
    }

    @Test func cacheInvalidationsTravelAsPayloadsWithoutPersonalData() {
        let targets: [CacheInvalidation] = [.apiKey(id: "k1"), .tenant(id: "t1"), .user(id: "u1"), .session(id: "s1"),
                                            .optOut(scope: "global", phoneHash: "abc:def")]
        for target in targets { #expect(CacheInvalidation(payload: target.payload) == target) }
        #expect(CacheInvalidation(payload: "optout:t1") == nil)
        #expect(CacheInvalidation(payload: "bogus:x") == nil)
        #expect(!CacheInvalidation.optOut(scope: "t1", phoneHash: "h").payload.contains("+44"))
    }

    @Test func metricsAreExportedInPrometheusFormat() async throws {
        try await withApp { client, _ in
            try await client.request(.get, "/health")
            let response = try await client.request(.get, "/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(response.text.contains("# TYPE http_server_request_duration histogram"))
            #expect(response.text.contains(#"hb_requests{http_route="/health",http_request_method="GET",http_response_status_code="200"}"#))
        }
    }
}
