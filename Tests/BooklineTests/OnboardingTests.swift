import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@Suite("POST /api/clients/onboard")
struct OnboardingTests {
    static func body(email: String = "owner@smile.example", overrides: [String: String] = [:]) -> String {
        var fields: [String: Any] = [
            "businessName": "Smile Dental", "email": email, "phone": "07400 100123", "industry": "dental",
            "services": ["Check-up", "Emergency appointment"], "password": "correct-horse-battery-42",
        ]
        for (name, value) in overrides { fields[name] = value }
        let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    @Test func signUpEndToEndAndTheKeyWorksAtOnce() async throws {
        try await withApp { client, services in
            let response = try await client.request(.post, "/api/clients/onboard", json: Self.body())
            #expect(response.status == .created)
            let body = try response.json()
            let key = try #require(body["apiKey"] as? String)
            #expect(APIKeyFormat.parse(key) != nil)
            #expect(body["slug"] as? String == "smile-dental")
            #expect(body["ownerEmail"] as? String == "owner@smile.example")
            #expect((body["dashboardUrl"] as? String)?.hasSuffix("/dashboard") == true)
            #expect((body["nextSteps"] as? [String])?.isEmpty == false)
            let tenantId = try #require(body["tenantId"] as? String)

            let me = try await client.request(.get, "/api/me", key: key)
            #expect(me.status == .ok)
            let meBody = try me.json()
            #expect((meBody["tenant"] as? [String: Any])?["id"] as? String == tenantId)
            #expect((meBody["principal"] as? [String: String])?["type"] == "api_key")
            #expect(Set(meBody["scopes"] as? [String] ?? []) == Scope.allNames)

            // Settings come from the dental template, with the owner's service list.
            let settingsText = try await services.database.sql.raw("SELECT settings FROM tenants WHERE id = \(bind: tenantId)")
                .first()?.decode(column: "settings", as: String.self)
            let settings = try #require(try JSONSerialization.jsonObject(with: Data((settingsText ?? "").utf8)) as? [String: Any])
            let names = (settings["services"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(names == ["Check-up", "Emergency appointment"])
            #expect(settings["contactPhone"] as? String == "+447400100123")
            #expect((settings["assistant"] as? [String: Any])?["greeting"] != nil)

            // The owner can sign in with the password; the stored hash is argon2id.
            let token = try await login(client, email: "OWNER@smile.example", password: "correct-horse-battery-42")
            #expect(try await client.request(.get, "/api/me", key: token).status == .ok)
            let hash = try await services.database.sql.raw("SELECT password_hash FROM users WHERE tenant_id = \(bind: tenantId)")
                .first()?.decode(column: "password_hash", as: String.self)
            #expect(hash?.hasPrefix("$argon2id$") == true)

            // Audited, without the password or the key.
            let audit = try await services.database.sql.raw("SELECT action, details FROM audit_log WHERE tenant_id = \(bind: tenantId)")
                .all()
            let actions = try audit.map { try $0.decode(column: "action", as: String.self) }
            #expect(actions.contains("tenant.onboarded"))
            let details = try audit.map { try $0.decode(column: "details", as: String.self) }.joined()
            #expect(!details.contains("correct-horse") && !details.contains(key))
        }
    }

    @Test(arguments: [
        ("businessName", "X"), ("email", "not-an-email"), ("phone", "12345"), ("phone", "0909 876 5432x"),
        ("industry", "spaceflight"), ("password", "short"), ("password", "password1234"),
        ("timezone", "Mars/Olympus"), ("tier", "platinum"),
    ])
    func eachInvalidFieldIsNamed(field: String, value: String) async throws {
        try await withApp { client, services in
            let response = try await client.request(.post, "/api/clients/onboard", json: Self.body(overrides: [field: value]))
            #expect(response.status == .unprocessableContent, "\(field)=\(value)")
            let errors = try #require(try response.problem()["errors"] as? [[String: String]])
            #expect(errors.map { $0["field"] } == [field], "\(field)=\(value)")
            let count = try await services.database.sql.raw("SELECT COUNT(*) AS n FROM tenants").first()?.decode(column: "n", as: Int.self)
            #expect(count == 0, "nothing is created")
        }
    }

    @Test func missingFieldsAreAllReportedAtOnce() async throws {
        try await withApp { client, _ in
            let response = try await client.request(.post, "/api/clients/onboard", json: "{}")
            #expect(response.status == .unprocessableContent)
            let fields = Set((try response.problem()["errors"] as? [[String: String]] ?? []).compactMap { $0["field"] })
            #expect(fields == ["businessName", "email", "phone", "industry", "password"])
        }
    }

    @Test func wrongTypesAndMalformedJSONAre400() async throws {
        try await withApp { client, _ in
            let wrongType = try await client.request(.post, "/api/clients/onboard", json: #"{"services": "Check-up"}"#)
            #expect(wrongType.status == .badRequest)
            #expect((try wrongType.problem()["errors"] as? [[String: String]])?.first?["field"] == "services")
            let malformed = try await client.request(.post, "/api/clients/onboard", json: "{\"businessName\": ")
            #expect(malformed.status == .badRequest)
        }
    }

    @Test func duplicateEmailIs409WithoutDetails() async throws {
        try await withApp { client, _ in
            #expect(try await client.request(.post, "/api/clients/onboard", json: Self.body()).status == .created)
            let again = try await client.request(.post, "/api/clients/onboard", json: Self.body(email: "Owner@Smile.example"))
            #expect(again.status == .conflict)
            let problem = try again.problem()
            #expect(problem["type"] as? String == "urn:bookline:problem:email-taken")
            #expect(!again.text.contains("smile-dental"), "does not reveal the existing tenant")
        }
    }

    @Test func idempotentRetryReplaysAndADifferentBodyIsRefused() async throws {
        try await withApp { client, services in
            let headers: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "signup-123"]
            let first = try await client.request(.post, "/api/clients/onboard", headers: headers, json: Self.body())
            #expect(first.status == .created)
            let second = try await client.request(.post, "/api/clients/onboard", headers: headers, json: Self.body())
            #expect(second.status == .created)
            #expect(second.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(try second.json()["apiKey"] as? String == first.json()["apiKey"] as? String)
            #expect(try second.json()["tenantId"] as? String == first.json()["tenantId"] as? String)
            let tenants = try await services.database.sql.raw("SELECT COUNT(*) AS n FROM tenants").first()?.decode(column: "n", as: Int.self)
            #expect(tenants == 1)

            let changed = try await client.request(.post, "/api/clients/onboard", headers: headers, json: Self.body(email: "other@smile.example"))
            #expect(changed.status == .unprocessableContent)
            #expect(try changed.problem()["type"] as? String == "urn:bookline:problem:idempotency-key-reused")

            // The stored replay is sealed: the key is not in the database in clear.
            let key = try #require(try first.json()["apiKey"] as? String)
            let stored = try await services.database.sql.raw("SELECT body_sealed FROM idempotency_keys").first()?
                .decode(column: "body_sealed", as: String.self)
            #expect(stored?.contains(key) == false)
        }
    }

    @Test func signUpsAreLimitedPerAddress() async throws {
        try await withApp(configure: { $0.onboardingAttemptsPerHour = 2 }) { client, _ in
            #expect(try await client.request(.post, "/api/clients/onboard", json: Self.body(email: "a@smile.example")).status == .created)
            #expect(try await client.request(.post, "/api/clients/onboard", json: Self.body(email: "b@smile.example")).status == .created)
            let third = try await client.request(.post, "/api/clients/onboard", json: Self.body(email: "c@smile.example"))
            #expect(third.status == .tooManyRequests)
            #expect(Int(third.headers[.retryAfter] ?? "") ?? 0 > 0)
            _ = try third.problem()
        }
    }
}
