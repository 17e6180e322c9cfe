import Bookline
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Dashboard sessions: refresh token in an httpOnly cookie, CSRF header required")
struct CookieSessionTests {
    static func cookie(_ response: TestResponse) -> String? {
        guard let header = response.headers[.setCookie], header.hasPrefix("bookline_refresh=") else { return nil }
        return String(header.dropFirst("bookline_refresh=".count).prefix { $0 != ";" })
    }

    @Test func loginSetsTheCookieAndRefreshRotatesIt() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let login = try await client.request(.post, "/api/auth/login", json: """
                {"email": "\(tenant.ownerEmail)", "password": "\(tenant.ownerPassword)", "session": "cookie"}
                """)
            #expect(login.status == .ok)
            let body = try login.json()
            #expect(body["accessToken"] is String && body["refreshToken"] == nil)
            let header = try #require(login.headers[.setCookie])
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/api/auth", "Max-Age=2592000"] {
                #expect(header.contains(attribute), "\(attribute) missing from \(header)")
            }
            #expect(!header.contains("Secure"), "plain-http development URL")
            #expect(login.headers[.cacheControl] == "no-store")
            let first = try #require(Self.cookie(login))

            // Without the CSRF header the cookie is refused.
            let forged = try await client.request(.post, "/api/auth/refresh", headers: [.cookie: "bookline_refresh=\(first)"])
            #expect(forged.status == .forbidden)
            #expect(try forged.problem()["detail"] as? String == "Cookie sessions need the header X-Requested-With: bookline.")

            let csrf = HTTPField.Name("X-Requested-With")!
            let refreshed = try await client.request(.post, "/api/auth/refresh", headers: [.cookie: "bookline_refresh=\(first)", csrf: "bookline"])
            #expect(refreshed.status == .ok)
            #expect(try refreshed.json()["accessToken"] is String)
            let second = try #require(Self.cookie(refreshed))
            #expect(second != first)
            #expect(try await client.request(.get, "/api/me", key: try refreshed.json()["accessToken"] as? String).status == .ok)

            // The spent cookie again: the whole family is signed out and the cookie cleared.
            let reused = try await client.request(.post, "/api/auth/refresh", headers: [.cookie: "bookline_refresh=\(first)", csrf: "bookline"])
            #expect(reused.status == .unauthorized)
            #expect(reused.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try reused.problem()["status"] as? Int == 401)
            let after = try await client.request(.post, "/api/auth/refresh", headers: [.cookie: "bookline_refresh=\(second)", csrf: "bookline"])
            #expect(after.status == .unauthorized)
        }
    }

    @Test func logoutClearsTheCookieAndBadSessionValuesAreNamed() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let login = try await client.request(.post, "/api/auth/login", json: """
                {"email": "\(tenant.ownerEmail)", "password": "\(tenant.ownerPassword)", "session": "cookie"}
                """)
            let token = try #require(Self.cookie(login))
            let csrf = HTTPField.Name("X-Requested-With")!
            let logout = try await client.request(.post, "/api/auth/logout", headers: [.cookie: "bookline_refresh=\(token)", csrf: "bookline"])
            #expect(logout.status == .noContent)
            #expect(logout.headers[.setCookie]?.contains("bookline_refresh=;") == true)
            #expect(try await client.request(.post, "/api/auth/refresh", headers: [.cookie: "bookline_refresh=\(token)", csrf: "bookline"]).status == .unauthorized)
            let bad = try await client.request(.post, "/api/auth/login", json: """
                {"email": "\(tenant.ownerEmail)", "password": "\(tenant.ownerPassword)", "session": "jar"}
                """)
            #expect((try bad.problem()["errors"] as? [[String: Any]])?.first?["field"] as? String == "session")
            // The body flow is unchanged.
            let plain = try await client.request(.post, "/api/auth/login", json: """
                {"email": "\(tenant.ownerEmail)", "password": "\(tenant.ownerPassword)"}
                """)
            #expect(try plain.json()["refreshToken"] is String && plain.headers[.setCookie] == nil)
        }
    }
}
