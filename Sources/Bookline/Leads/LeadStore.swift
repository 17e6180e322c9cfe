import BooklineCore
import Foundation
import SQLKit

/// Filters for `GET /api/leads`; every one is optional.
public struct LeadFilter: Sendable, Equatable {
    public var statuses: [LeadStatus] = []
    public var tag: String?
    public var source: String?
    public var search: String?
    public var createdFrom: Date?
    public var createdTo: Date?

    public init() {}
}

/// SQL for `leads` and `lead_settings`. Every method takes the tenant id first.
public struct LeadStore: Sendable {
    static let columns = ["tenant_id", "id", "name", "phone_e164", "phone_type", "email", "source", "status", "tags",
                          "notes", "custom_fields", "search_text", "last_contacted_at", "created_at", "updated_at"]
    /// 15 binds per row: 400 rows stay under SQLite's and PostgreSQL's bind limits.
    static let rowsPerInsert = 400

    public func insert(_ leads: [Lead], on db: any SQLDatabase) async throws {
        for start in stride(from: 0, to: leads.count, by: Self.rowsPerInsert) {
            let insert = db.insert(into: "leads").columns(Self.columns)
            for lead in leads[start..<min(start + Self.rowsPerInsert, leads.count)] {
                insert.values(try Self.binds(lead))
            }
            try await insert.run()
        }
    }

    /// Writes every mutable field of `lead`.
    public func update(_ lead: Lead, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE leads SET name = \(bind: lead.name), phone_e164 = \(bind: lead.phone), phone_type = \(bind: lead.phoneType),
                email = \(bind: lead.email), source = \(bind: lead.source), status = \(bind: lead.status.rawValue),
                tags = \(bind: try Self.json(lead.tags)), notes = \(bind: lead.notes),
                custom_fields = \(bind: try Self.json(lead.customFields)), search_text = \(bind: lead.searchText),
                last_contacted_at = \(bind: lead.lastContactedAt), updated_at = \(bind: lead.updatedAt)
            WHERE tenant_id = \(bind: lead.tenantId) AND id = \(bind: lead.id)
            """).run()
    }

    public func delete(tenantId: String, id: String, on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM leads WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)").run()
    }

    public func find(tenantId: String, id: String, on db: any SQLDatabase) async throws -> Lead? {
        try await db.raw("SELECT * FROM leads WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)").first().map(Self.decode)
    }

    public func find(tenantId: String, phone: String, on db: any SQLDatabase) async throws -> Lead? {
        try await db.raw("SELECT * FROM leads WHERE tenant_id = \(bind: tenantId) AND phone_e164 = \(bind: phone)")
            .first().map(Self.decode)
    }

    /// The tenant's leads with these numbers, keyed by E.164.
    public func find(tenantId: String, phones: [String], on db: any SQLDatabase) async throws -> [String: Lead] {
        var found: [String: Lead] = [:]
        for start in stride(from: 0, to: phones.count, by: 500) {
            let rows = try await db.select().column("*").from("leads")
                .where("tenant_id", .equal, tenantId)
                .where("phone_e164", .in, Array(phones[start..<min(start + 500, phones.count)]))
                .all()
            for row in rows {
                let lead = try Self.decode(row)
                found[lead.phone] = lead
            }
        }
        return found
    }

    /// Newest first (ids are time-ordered), `limit` rows after the `cursor` id.
    public func list(tenantId: String, filter: LeadFilter, limit: Int, cursor: String?, on db: any SQLDatabase) async throws -> [Lead] {
        let query = db.select().column("*").from("leads").where("tenant_id", .equal, tenantId)
        if !filter.statuses.isEmpty { query.where("status", .in, filter.statuses.map(\.rawValue)) }
        if let source = filter.source { query.where("source", .equal, source) }
        if let tag = filter.tag {
            // Tags are a JSON array of strings without quotes or commas, so the quoted tag matches exactly.
            query.where(SQLRaw("tags LIKE "), SQLBind("%\"\(Self.escapeLike(tag))\"%"), SQLRaw(" ESCAPE '\\'"))
        }
        if let search = filter.search {
            query.where(SQLRaw("search_text LIKE "), SQLBind("%\(Self.escapeLike(search.lowercased()))%"), SQLRaw(" ESCAPE '\\'"))
        }
        // The id bounds let the primary key narrow the scan; created_at keeps the edges exact.
        if let from = filter.createdFrom {
            query.where("id", .greaterThanOrEqual, Identifier.lowerBound(for: from))
            query.where("created_at", .greaterThanOrEqual, from)
        }
        if let to = filter.createdTo {
            query.where("id", .lessThan, Identifier.lowerBound(for: to.addingTimeInterval(0.001)))
            query.where("created_at", .lessThan, to)
        }
        if let cursor { query.where("id", .lessThan, cursor) }
        return try await query.orderBy("id", .descending).limit(limit).all().map(Self.decode)
    }

    public func duplicatePolicy(tenantId: String, on db: any SQLDatabase) async throws -> DuplicatePolicy {
        guard let row = try await db.raw("""
            SELECT duplicate_lookback_days, duplicate_skip_days FROM lead_settings WHERE tenant_id = \(bind: tenantId)
            """).first()
        else { return .standard }
        return DuplicatePolicy(
            lookbackDays: try row.decode(column: "duplicate_lookback_days", as: Int.self),
            skipDays: try row.decode(column: "duplicate_skip_days", as: Int.self)
        )
    }

    public func setDuplicatePolicy(_ policy: DuplicatePolicy, tenantId: String, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM lead_settings WHERE tenant_id = \(bind: tenantId)").run()
        try await db.raw("""
            INSERT INTO lead_settings (tenant_id, duplicate_lookback_days, duplicate_skip_days, updated_at)
            VALUES (\(bind: tenantId), \(bind: policy.lookbackDays), \(bind: policy.skipDays), \(bind: now))
            """).run()
    }

    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder.bookline.encode(value), as: UTF8.self)
    }

    static func binds(_ lead: Lead) throws -> [any SQLExpression] {
        [SQLBind(lead.tenantId), SQLBind(lead.id), SQLBind(lead.name), SQLBind(lead.phone), SQLBind(lead.phoneType),
         SQLBind(lead.email), SQLBind(lead.source), SQLBind(lead.status.rawValue), SQLBind(try json(lead.tags)),
         SQLBind(lead.notes), SQLBind(try json(lead.customFields)), SQLBind(lead.searchText),
         SQLBind(lead.lastContactedAt), SQLBind(lead.createdAt), SQLBind(lead.updatedAt)]
    }

    static func decode(_ row: any SQLRow) throws -> Lead {
        let tags = try row.decode(column: "tags", as: String.self)
        let custom = try row.decode(column: "custom_fields", as: String.self)
        return Lead(
            tenantId: try row.decode(column: "tenant_id", as: String.self),
            id: try row.decode(column: "id", as: String.self),
            name: try row.decode(column: "name", as: String?.self),
            phone: try row.decode(column: "phone_e164", as: String.self),
            phoneType: try row.decode(column: "phone_type", as: String.self),
            email: try row.decode(column: "email", as: String?.self),
            source: try row.decode(column: "source", as: String?.self),
            status: LeadStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .new,
            tags: tags == "[]" ? [] : (try? JSONDecoder.bookline.decode([String].self, from: Data(tags.utf8))) ?? [],
            notes: try row.decode(column: "notes", as: String?.self),
            customFields: custom == "{}" ? [:] : (try? JSONDecoder.bookline.decode([String: JSONScalar].self, from: Data(custom.utf8))) ?? [:],
            lastContactedAt: try row.decode(column: "last_contacted_at", as: Date?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            updatedAt: try row.decode(column: "updated_at", as: Date.self)
        )
    }
}
