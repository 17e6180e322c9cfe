import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Tenant context on /api routes")
struct TenantContextTests {
    @Test func missingCredentialIs401() async throws {
        try await withApp { client, _ in
            let response = try await client.request(.get, "/api/tenant")
            #expect(response.status == .unauthorized)
            #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            #expect(try response.problem()["type"] as? String == "urn:bookline:problem:unauthorized")
        }
    }

    @Test func unknownOrMalformedCredentialsAre401() async throws {
        try await withApp { client, services in
            let real = try await services.makeTenant()
            var tampered = Array(real.key)
            tampered[12] = tampered[12] == "a" ? "b" : "a"
            let credentials = [
                APIKeyFormat.generate(.live).key,  // well-formed, never issued
                String(tampered),  // checksum fails
                "not-a-key", "' OR 1=1 --", "a.b.c",
            ]
            for credential in credentials {
                let response = try await client.request(.get, "/api/tenant", key: credential)
                #expect(response.status == .unauthorized, "\(credential)")
                _ = try response.problem()
            }
            let basic = try await client.request(.get, "/api/tenant", headers: [.authorization: "Basic \(real.key)"])
            #expect(basic.status == .unauthorized)
        }
    }

    @Test func xAPIKeyHeaderWorksAndTheOldDevelopmentHeaderDoesNot() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let viaHeader = try await client.request(.get, "/api/tenant", headers: [HTTPField.Name("X-API-Key")!: tenant.key])
            #expect(viaHeader.status == .ok)
            #expect(try viaHeader.json()["id"] as? String == tenant.id)
            let dev = try await client.request(.get, "/api/tenant", headers: [HTTPField.Name("X-Bookline-Dev-Tenant")!: tenant.id])
            #expect(dev.status == .unauthorized)
        }
    }

    @Test func resolvedTenantSeesOnlyItsOwnProfile() async throws {
        try await withApp { client, services in
            let first = try await services.makeTenant("Smile Dental")
            let second = try await services.makeTenant("Smile Dental")
            #expect(first.slug == "smile-dental")
            #expect(second.slug == "smile-dental-2")

            let response = try await client.request(.get, "/api/tenant", key: second.key)
            #expect(response.status == .ok)
            let body = try response.json()
            #expect(body["id"] as? String == second.id)
            #expect(body["slug"] as? String == "smile-dental-2")
            #expect(body["businessName"] as? String == "Smile Dental")
            #expect(body["status"] as? String == "active")
            #expect(body["timezone"] as? String == "Europe/London")
            #expect((body["createdAt"] as? String)?.hasSuffix("Z") == true)
        }
    }

    @Test func suspendedTenantIs403AndDeletedIs404() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            try await services.tenants.setStatus(.suspended, tenantId: tenant.id, now: Date())
            let suspended = try await client.request(.get, "/api/tenant", key: tenant.key)
            #expect(suspended.status == .forbidden)
            #expect((try suspended.problem()["detail"] as? String)?.contains("suspended") == true)

            try await services.tenants.setStatus(.deleted, tenantId: tenant.id, now: Date())
            let deleted = try await client.request(.get, "/api/tenant", key: tenant.key)
            #expect(deleted.status == .notFound)
            _ = try deleted.problem()
        }
    }

    @Test func patchChangesOnlyTheGivenFields() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let other = try await services.makeTenant("Other Salon")
            let response = try await client.request(
                .patch, "/api/tenant", key: tenant.key, json: #"{"businessName": "  Smile Dental Clinic ", "timezone": "Europe/Dublin"}"#
            )
            #expect(response.status == .ok)
            let body = try response.json()
            #expect(body["businessName"] as? String == "Smile Dental Clinic")
            #expect(body["timezone"] as? String == "Europe/Dublin")
            #expect(body["slug"] as? String == "smile-dental")

            let stored = try #require(try await services.tenants.find(id: tenant.id))
            #expect(stored.businessName == "Smile Dental Clinic")
            let untouched = try #require(try await services.tenants.find(id: other.id))
            #expect(untouched.businessName == "Other Salon")
            #expect(untouched.timezone == "Europe/London")
        }
    }

    @Test func invalidValuesAre422NamingEachField() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let response = try await client.request(
                .patch, "/api/tenant", key: tenant.key, json: #"{"businessName": "x", "timezone": "Mars/Olympus"}"#
            )
            #expect(response.status == .unprocessableContent)
            let errors = try #require(try response.problem()["errors"] as? [[String: String]])
            #expect(Set(errors.compactMap { $0["field"] }) == ["businessName", "timezone"])
            let stored = try #require(try await services.tenants.find(id: tenant.id))
            #expect(stored.businessName == "Smile Dental")
        }
    }

    @Test func monitorCountsResolutionsAndFailures() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            try await services.tenants.setStatus(.active, tenantId: tenant.id, now: Date())
            try await client.request(.get, "/api/tenant", key: tenant.key)
            try await client.request(.get, "/api/tenant", key: tenant.key)
            try await client.request(.get, "/api/tenant")
            try await client.request(.get, "/api/tenant", key: APIKeyFormat.generate(.live).key)
            try await services.tenants.setStatus(.suspended, tenantId: tenant.id, now: Date())
            try await client.request(.get, "/api/tenant", key: tenant.key)

            let refused = try await client.request(.get, "/monitor/tenant-resolution", key: tenant.key)
            #expect(refused.status == .forbidden, "tenant credentials cannot read platform monitoring")
            let admin = try await services.makePlatformUser(role: .platformAdmin)
            let token = try await login(client, email: admin.email, password: admin.password)
            let response = try await client.request(.get, "/monitor/tenant-resolution", key: token)
            #expect(response.status == .ok)
            let body = try response.json()
            #expect(body["total"] as? Int == 5)
            #expect((body["resolved"] as? [String: Int]) == ["api_key": 2])
            #expect((body["failures"] as? [String: Int]) == ["missing_credential": 1, "invalid_credential": 1, "tenant_suspended": 1])
            #expect((body["failures_by_method"] as? [String: Int]) == ["api_key": 1])
        }
    }
}
