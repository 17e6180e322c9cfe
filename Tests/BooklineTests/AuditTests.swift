@testable import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Audit log: chain, verify, read access")
struct AuditTests {
    func seed(_ client: any TestClientProtocol, _ services: AppServices) async throws -> TestTenant {
        let tenant = try await services.makeTenant()
        for name in ["one", "two", "three"] {
            let created = try await client.request(.post, "/api/keys", key: tenant.key, json: #"{"name": "\#(name)", "scopes": ["leads:read"]}"#)
            #expect(created.status == .created)
        }
        try await client.request(.patch, "/api/tenant", key: tenant.key, json: #"{"businessName": "Smile Dental Two", "password": "hunter2"}"#)
        return tenant
    }

    @Test func chainVerifiesAndBreaksWhenARowIsAltered() async throws {
        try await withApp { client, services in
            let tenant = try await seed(client, services)
            let reader = AuditReader(database: services.database)
            let clean = try await reader.verify()
            #expect(clean.broken == nil)
            #expect(clean.rows >= 4)
            #expect(try await reader.verify(tenantId: tenant.id).rows == 4)
            let owner = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
            let fine = try await client.request(.get, "/api/audit/verify", key: owner).json()
            #expect(fine["ok"] as? Bool == true && fine["rows"] as? Int == 5 && fine["chains"] as? Int == 1)  // + the sign-in
            #expect(try await client.request(.get, "/api/audit/verify", key: tenant.key).status == .forbidden)
            let other = try await services.makeTenant("Elsewhere")
            #expect(try await client.request(.get, "/api/audit/verify?tenantId=\(other.id)", key: owner).status == .notFound)

            let victim = try #require(try await services.database.sql.raw(
                "SELECT id FROM audit_log WHERE tenant_id = \(bind: tenant.id) AND seq = 2"
            ).first()?.decode(column: "id", as: String.self))
            if services.database.engine == .postgres {
                // The trigger refuses edits; a tamperer with table-owner rights turns it off first.
                await #expect(throws: (any Error).self) {
                    try await services.database.sql.raw("UPDATE audit_log SET action = 'x' WHERE id = \(bind: victim)").run()
                }
                // Only an erasure's clearing of the unhashed personal values gets through.
                try await services.database.sql.raw("UPDATE audit_log SET personal = NULL WHERE id = \(bind: victim)").run()
                await #expect(throws: (any Error).self) {
                    try await services.database.sql.raw("DELETE FROM audit_log WHERE id = \(bind: victim)").run()
                }
                try await services.database.sql.raw("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only").run()
            }
            try await services.database.sql.raw("UPDATE audit_log SET details = '{}' WHERE id = \(bind: victim)").run()
            let broken = try await reader.verify(tenantId: tenant.id)
            #expect(broken.broken?.id == victim)
            #expect(broken.broken?.reason.contains("altered") == true)
            let staff = try await services.makePlatformUser(role: .compliance)
            let staffToken = try await login(client, email: staff.email, password: staff.password)
            let report = try await client.request(.get, "/api/audit/verify?tenantId=\(tenant.id)", key: staffToken).json()
            #expect(report["ok"] as? Bool == false)
            #expect((report["broken"] as? [String: Any])?["id"] as? String == victim)
            #expect(try await client.request(.get, "/api/audit/verify?tenantId=nope", key: staffToken).status == .unprocessableContent)
        }
    }

    @Test func aDeletedRowBreaksTheChain() async throws {
        try await withApp { client, services in
            let tenant = try await seed(client, services)
            if services.database.engine == .postgres {
                await #expect(throws: (any Error).self) {
                    try await services.database.sql.raw("DELETE FROM audit_log WHERE tenant_id = \(bind: tenant.id) AND seq = 2").run()
                }
                try await services.database.sql.raw("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only").run()
            }
            try await services.database.sql.raw("DELETE FROM audit_log WHERE tenant_id = \(bind: tenant.id) AND seq = 2").run()
            let result = try await AuditReader(database: services.database).verify(tenantId: tenant.id)
            #expect(result.broken?.seq == 3)
            #expect(result.broken?.reason.contains("removed") == true)
        }
    }

    @Test func detailsAreRedacted() async throws {
        try await withApp { client, services in
            let tenant = try await seed(client, services)
            let owner = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
            let page = try await client.request(.get, "/api/audit?action=tenant.updated", key: owner)
            #expect(page.status == .ok)
            let items = try #require(try page.json()["items"] as? [[String: Any]])
            #expect(items.count == 1)
            #expect((items.first?["details"] as? [String: String])?["businessName"] == "Smile Dental Two")
            #expect(!page.text.contains("hunter2"))
            #expect(Redaction.redact(["password": "x", "apiKey": "y", "name": "z"]) == ["password": "[redacted]", "apiKey": "[redacted]", "name": "z"])
        }
    }

    @Test func ownersReadTheirOwnTrailOnlyAndStaffReadAny() async throws {
        try await withApp { client, services in
            let tenant = try await seed(client, services)
            let other = try await services.makeTenant("Other Salon")
            try await client.request(.post, "/api/keys", key: other.key, json: #"{"name": "theirs"}"#)
            let owner = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)

            let own = try await client.request(.get, "/api/audit?limit=2", key: owner)
            #expect(own.status == .ok)
            let body = try own.json()
            let items = try #require(body["items"] as? [[String: Any]])
            #expect(items.count == 2)
            #expect(items.allSatisfy { $0["tenantId"] as? String == tenant.id })
            let cursor = try #require(body["nextCursor"] as? String)
            let next = try await client.request(.get, "/api/audit?limit=10&cursor=\(cursor)", key: owner).json()
            #expect((next["items"] as? [[String: Any]])?.count == 3)

            #expect(try await client.request(.get, "/api/audit?tenantId=\(other.id)", key: owner).status == .notFound)
            #expect(try await client.request(.get, "/api/audit", key: tenant.key).status == .forbidden, "API keys cannot read the trail")
            #expect(try await client.request(.get, "/api/audit?limit=500", key: owner).status == .unprocessableContent)
            #expect(try await client.request(.get, "/api/audit?from=yesterday", key: owner).status == .unprocessableContent)

            let compliance = try await services.makePlatformUser(role: .compliance)
            let staff = try await login(client, email: compliance.email, password: compliance.password)
            let theirs = try await client.request(.get, "/api/audit?tenantId=\(other.id)", key: staff).json()
            #expect((theirs["items"] as? [[String: Any]])?.map { $0["action"] as? String } == ["api_key.created"])
            let platform = try await client.request(.get, "/api/audit?tenantId=platform", key: staff).json()
            #expect((platform["items"] as? [[String: Any]])?.allSatisfy { $0["tenantId"] == nil || $0["tenantId"] is NSNull } == true)
        }
    }
}
