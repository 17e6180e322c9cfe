import Bookline
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

    @Test func unknownTenantIs401() async throws {
        try await withApp { client, _ in
            for credential in ["01937f4e-0000-7000-8000-000000000000", "not-an-id", "' OR 1=1 --"] {
                let response = try await client.request(.get, "/api/tenant", tenant: credential)
                #expect(response.status == .unauthorized, "\(credential)")
                _ = try response.problem()
            }
        }
    }

    @Test func resolvedTenantSeesOnlyItsOwnProfile() async throws {
        try await withApp { client, services in
            let first = try await services.makeTenant("Smile Dental")
            let second = try await services.makeTenant("Smile Dental")
            #expect(first.slug == "smile-dental")
            #expect(second.slug == "smile-dental-2")

            let response = try await client.request(.get, "/api/tenant", tenant: second.id)
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
            let suspended = try await client.request(.get, "/api/tenant", tenant: tenant.id)
            #expect(suspended.status == .forbidden)
            #expect((try suspended.problem()["detail"] as? String)?.contains("suspended") == true)

            try await services.tenants.setStatus(.deleted, tenantId: tenant.id, now: Date())
            let deleted = try await client.request(.get, "/api/tenant", tenant: tenant.id)
            #expect(deleted.status == .notFound)
            _ = try deleted.problem()
        }
    }

    @Test func developmentHeaderIsOffUnlessEnabled() async throws {
        try await withApp(configure: { $0.allowDevTenantHeader = false }) { client, services in
            let tenant = try await services.makeTenant()
            let response = try await client.request(.get, "/api/tenant", tenant: tenant.id)
            #expect(response.status == .unauthorized)
        }
    }

    @Test func patchChangesOnlyTheGivenFields() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let other = try await services.makeTenant("Other Salon")
            let response = try await client.request(
                .patch, "/api/tenant", tenant: tenant.id, json: #"{"businessName": "  Smile Dental Clinic ", "timezone": "Europe/Dublin"}"#
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
                .patch, "/api/tenant", tenant: tenant.id, json: #"{"businessName": "x", "timezone": "Mars/Olympus"}"#
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
            try await client.request(.get, "/api/tenant", tenant: tenant.id)
            try await client.request(.get, "/api/tenant", tenant: tenant.id)
            try await client.request(.get, "/api/tenant")
            try await client.request(.get, "/api/tenant", tenant: "01937f4e-0000-7000-8000-000000000000")

            let response = try await client.request(.get, "/monitor/tenant-resolution")
            #expect(response.status == .ok)
            let body = try response.json()
            #expect(body["total"] as? Int == 4)
            #expect((body["resolved"] as? [String: Int]) == ["development_header": 2])
            #expect((body["failures"] as? [String: Int]) == ["missing_credential": 1, "invalid_credential": 1])
            #expect((body["failures_by_method"] as? [String: Int]) == ["development_header": 1])
        }
    }
}
