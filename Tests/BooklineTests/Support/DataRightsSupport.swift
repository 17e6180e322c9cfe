import Bookline
import Foundation
import HummingbirdTesting
import SQLKit

/// One person's footprint in a tenant, seeded through the API: a lead with name, email and
/// notes, an SMS and an email to them, a call from their number, an appointment (with its
/// confirmation messages), an import report naming their number, and last (it blocks later
/// messages) an opt-out of that number; plus the events and audit rows all of that leaves.
enum DataSubjectFixture {
    static let now = AppointmentTests.now
    static let phone = "+447400100777"
    static let email = "jane.subject@example.org"

    struct Seeded {
        let tenant: TestTenant
        let leadId: String
        let otherLeadId: String
    }

    static func seed(_ client: any TestClientProtocol, _ services: AppServices, phone: String = phone, email: String = email) async throws -> Seeded {
        let (tenant, service, others) = try await AppointmentTests.setUp(client, services)
        let lead = try await client.createLead(#"""
            {"phone": "\#(phone)", "email": "\#(email)", "name": "Jane Subject", "notes": "Prefers mornings", "tags": ["vip"]}
            """#, key: tenant.key)
        guard let leadId = lead["id"] as? String else { throw JSONShapeError(text: "\(lead)") }
        let sms = try await client.request(.post, "/api/messages", key: tenant.key, json: #"{"to": "\#(phone)", "body": "Hello Jane"}"#)
        let mail = try await client.request(.post, "/api/messages", key: tenant.key,
                                            json: #"{"channel": "email", "to": "\#(email)", "subject": "Hi", "body": "Hello Jane"}"#)
        let call = try await client.request(.post, "/api/calls", key: tenant.key, json: #"""
            {"phone": "\#(phone)", "startedAt": "2026-10-19T10:00:00Z", "outcome": "interested", "durationSeconds": 60,
             "summary": "Jane wants a check-up"}
            """#)
        let booked = try await AppointmentTests.book(client, key: tenant.key, lead: leadId, service: service, start: "2026-10-23T09:00:00Z")
        for response in [sms, mail, call, booked] where !(200..<300).contains(Int(response.status.code)) {
            throw JSONShapeError(text: "seed: \(response.status) \(response.text)")
        }
        _ = try await services.messageSender.sweep()
        // Their number again in an import file: the stored report lists the row (a duplicate).
        let imported = try await client.importLeads("phone,name\n\(phone),Jane Subject\n", key: tenant.key)
        // Last: once opted out, nothing more is sent to them.
        let optOut = try await client.request(.post, "/api/opt-outs", key: tenant.key,
                                              json: #"{"phone": "\#(phone)", "reason": "request", "note": "Asked at reception"}"#)
        for response in [imported, optOut] where !(200..<300).contains(Int(response.status.code)) {
            throw JSONShapeError(text: "seed: \(response.status) \(response.text)")
        }
        return Seeded(tenant: tenant, leadId: leadId, otherLeadId: others[0])
    }

    /// Every (table, column) holding `needle` in any text column, across the whole database.
    static func traces(of needle: String, in services: AppServices) async throws -> [String] {
        var found: [String] = []
        for table in DataRegistry.tables {
            for column in table.columns where column.type == .text || column.type == .json {
                let function = services.database.engine == .postgres ? "strpos" : "instr"
                let count = try await services.database.sql.raw("""
                    SELECT COUNT(*) AS n FROM \(ident: table.name) WHERE \(unsafeRaw: function)(lower(\(ident: column.name)), \(bind: needle.lowercased())) > 0
                    """).first()?.decode(column: "n", as: Int.self) ?? 0
                if count > 0 { found.append("\(table.name).\(column.name)") }
            }
        }
        return found
    }

    /// Rows carrying `tenantId` in each registered table's tenant column.
    static func rowsWithTenant(_ tenantId: String, in services: AppServices) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in DataRegistry.tenantTables {
            let count = try await services.database.sql.raw("""
                SELECT COUNT(*) AS n FROM \(ident: table.name) WHERE \(ident: table.tenantColumn!) = \(bind: tenantId)
                """).first()?.decode(column: "n", as: Int.self) ?? 0
            if count > 0 { counts[table.name] = count }
        }
        return counts
    }
}
