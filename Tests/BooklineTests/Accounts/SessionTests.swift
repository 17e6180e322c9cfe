import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Signed-in sessions")
struct SessionTests {
    @Test func sessionsAreListedWithTheirDeviceAndEachCanBeEnded() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let laptop = try await client.tokens(tenant.ownerEmail, tenant.ownerPassword, agent: "Laptop/1")
            let phone = try await client.tokens(tenant.ownerEmail, tenant.ownerPassword, agent: "Phone/2")

            let listed = try await client.request(.get, "/api/me/sessions", key: laptop.accessToken).decode(SessionItems.self)
            #expect(Set(listed.items.compactMap(\.userAgent)) == ["Laptop/1", "Phone/2"])
            #expect(listed.items.filter(\.current).map(\.userAgent) == ["Laptop/1"])
            let phoneSession = try #require(listed.items.first { !$0.current })

            let revoked = try await client.request(.delete, "/api/me/sessions/\(phoneSession.id)", key: laptop.accessToken)
            #expect(revoked.status == .noContent)
            #expect(try await client.request(.get, "/api/me", key: phone.accessToken).status == .unauthorized, "its access token ends at once")
            #expect(try await client.refresh(phone.refreshToken!).status == .unauthorized)
            #expect(try await client.request(.get, "/api/me", key: laptop.accessToken).status == .ok)

            let again = try await client.request(.delete, "/api/me/sessions/\(phoneSession.id)", key: laptop.accessToken)
            #expect(again.status == .notFound)
            #expect(try await client.request(.delete, "/api/me/sessions/not-an-id", key: laptop.accessToken).status == .notFound)

            // A refresh keeps the session (and its id) and updates when it was last seen.
            let refreshed = try await client.refresh(laptop.refreshToken!).decode(Tokens.self)
            let after = try await client.request(.get, "/api/me/sessions", key: refreshed.accessToken).decode(SessionItems.self)
            #expect(after.items.count == 1 && after.items[0].current)

            let everywhere = try await client.request(.delete, "/api/me/sessions", key: refreshed.accessToken)
            #expect(try everywhere.decode([String: Int].self)["revoked"] == 1)
            #expect(try await client.request(.get, "/api/me", key: refreshed.accessToken).status == .unauthorized)
            let actions = try await services.database.sql.raw("""
                SELECT action FROM audit_log WHERE action LIKE 'user.session%' ORDER BY seq
                """).all().map { try $0.decode(column: "action", as: String.self) }
            #expect(actions == ["user.session_revoked", "user.sessions_revoked"])
        }
    }

    @Test func anotherUsersSessionIsNotFoundAndAPIKeysHaveNoSessions() async throws {
        try await withApp { client, services in
            let a = try await services.makeTenant("Clinic A")
            let b = try await services.makeTenant("Clinic B")
            let tokenA = try await client.tokens(a.ownerEmail, a.ownerPassword)
            let tokenB = try await client.tokens(b.ownerEmail, b.ownerPassword)
            let sessionA = try #require(try await client.request(.get, "/api/me/sessions", key: tokenA.accessToken)
                .decode(SessionItems.self).items.first)
            let listB = try await client.request(.get, "/api/me/sessions", key: tokenB.accessToken).decode(SessionItems.self)
            #expect(!listB.items.map(\.id).contains(sessionA.id), "B sees only B's sessions")
            let cross = try await client.request(.delete, "/api/me/sessions/\(sessionA.id)", key: tokenB.accessToken)
            #expect(cross.status == .notFound)
            #expect(try await client.request(.get, "/api/me", key: tokenA.accessToken).status == .ok, "A's session is untouched")

            let byKey = try await client.request(.get, "/api/me/sessions", key: a.key)
            #expect(byKey.status == .forbidden)
            #expect(try await client.request(.get, "/api/me/sessions").status == .unauthorized)
        }
    }
}
