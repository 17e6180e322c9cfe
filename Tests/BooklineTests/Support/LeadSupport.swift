import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SQLKit

extension TestClientProtocol {
    /// Posts a file to `POST /api/leads/import` with the given content type.
    @discardableResult
    func importLeads(_ body: String, key: String, contentType: String = "text/csv", query: String = "") async throws -> TestResponse {
        var headers: HTTPFields = [.authorization: "Bearer \(key)", .contentType: contentType]
        headers[.contentLength] = String(body.utf8.count)
        return try await execute(uri: "/api/leads/import\(query)", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    /// Creates a lead through the API and returns its JSON.
    func createLead(_ json: String, key: String) async throws -> [String: Any] {
        let response = try await request(.post, "/api/leads", key: key, json: json)
        guard response.status == .created else { throw JSONShapeError(text: "create lead: \(response.status) \(response.text)") }
        return try response.json()
    }
}

extension TestResponse {
    /// The import answer's count for one outcome.
    func count(_ outcome: String) throws -> Int? {
        (try json()["counts"] as? [String: Any])?[outcome] as? Int
    }

    func rows() throws -> [[String: Any]] {
        try json()["rows"] as? [[String: Any]] ?? []
    }
}

extension AppServices {
    func countRows(_ table: String, tenantId: String) async throws -> Int {
        try await database.sql.raw("SELECT COUNT(*) AS n FROM \(ident: table) WHERE tenant_id = \(bind: tenantId)")
            .first()?.decode(column: "n", as: Int.self) ?? -1
    }

    func eventTypes(tenantId: String) async throws -> [String] {
        try await database.sql.raw("SELECT type FROM events WHERE tenant_id = \(bind: tenantId) ORDER BY seq")
            .all().map { try $0.decode(column: "type", as: String.self) }
    }

    func auditActions(tenantId: String) async throws -> [String] {
        try await database.sql.raw("SELECT action FROM audit_log WHERE tenant_id = \(bind: tenantId) ORDER BY seq")
            .all().map { try $0.decode(column: "action", as: String.self) }
    }

    func setTier(_ tier: String, tenantId: String) async throws {
        try await database.sql.raw("UPDATE tenants SET tier = \(bind: tier) WHERE id = \(bind: tenantId)").run()
        await tenants.invalidate(tenantId)
    }
}
