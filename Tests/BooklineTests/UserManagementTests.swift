import Bookline
import BooklineCore
import Foundation
import HummingbirdTesting
import Testing

@Suite("Users: the owner adds and removes the people who sign in")
struct UserManagementTests {
    @Test func ownersAddMembersWhoSignInAndRemoveThem() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let owner = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
            let response = try await client.request(.post, "/api/users", key: owner, json: #"{"email": "Reception@Smile.example"}"#)
            #expect(response.status == .created)
            let user = try response.json()
            #expect(user["role"] as? String == "member" && user["email"] as? String == "Reception@smile.example")
            let temporary = try #require(user["temporaryPassword"] as? String)
            #expect(temporary.count == 20)
            let member = try await login(client, email: "reception@smile.example", password: temporary)
            #expect(try await client.request(.get, "/api/leads", key: member).status == .ok)
            #expect(try await client.request(.get, "/api/users", key: member).status == .forbidden, "members do not manage users")
            #expect(try await client.request(.get, "/api/users", key: tenant.key).status == .forbidden, "nor do API keys")

            let list = try await client.request(.get, "/api/users", key: owner).json()
            let items = try #require(list["items"] as? [[String: Any]])
            #expect(items.count == 2 && items.allSatisfy { $0["temporaryPassword"] == nil && $0["passwordHash"] == nil })
            #expect(!list.description.contains("argon2"))

            // Validation, duplicates, another tenant's id, yourself.
            let bad = try await client.request(.post, "/api/users", key: owner, json: #"{"email": "nope", "role": "boss", "password": "short"}"#)
            #expect(Set((try bad.problem()["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String } ?? []) == ["email", "role", "password"])
            let duplicate = try await client.request(.post, "/api/users", key: owner, json: #"{"email": "reception@smile.example"}"#)
            #expect(duplicate.status == .conflict)
            let other = try await services.makeTenant("Elsewhere")
            let otherOwner = try #require(try await services.users.find(email: try EmailAddress.parse(other.ownerEmail).get()))
            #expect(try await client.request(.delete, "/api/users/\(otherOwner.id)", key: owner).status == .notFound)
            let me = try #require(try await client.request(.get, "/api/me", key: owner).json()["principal"] as? [String: Any])
            #expect(try await client.request(.delete, "/api/users/\(me["id"] as! String)", key: owner).status == .conflict)

            // Removed: the member's token stops working at once, and so does the password.
            let memberId = try #require(user["id"] as? String)
            #expect(try await client.request(.delete, "/api/users/\(memberId)", key: owner).status == .noContent)
            #expect(try await client.request(.get, "/api/leads", key: member).status == .unauthorized)
            let again = try await client.request(.post, "/api/auth/login", json: #"{"email": "reception@smile.example", "password": "\#(temporary)"}"#)
            #expect(again.status == .unauthorized)
            let actions = try await services.auditActions(tenantId: tenant.id)
            let created = try #require(actions.firstIndex(of: "user.created"))
            let removed = try #require(actions.firstIndex(of: "user.removed"))
            #expect(created < removed)
        }
    }
}
