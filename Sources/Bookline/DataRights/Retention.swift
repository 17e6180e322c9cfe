import BooklineCore
import Foundation
import SQLKit

/// Per-tenant retention: leads nobody ever contacted (status `new`, no calls, messages or
/// appointments) and messages older than the tenant's limits are deleted. Applied by
/// `bookline retention run` and the daily `platform.retention` job; each tenant's run is audited.
struct Retention: Sendable {
    struct Settings: Codable, Sendable, Equatable {
        var uncontactedLeadDays: Int
        var messageDays: Int
    }

    struct Result: Codable, Sendable, Equatable {
        let tenantId: String
        let leads: Int
        let messages: Int
    }

    static let allowedDays = 1...36_500

    let services: AppServices

    var defaults: Settings { Settings(uncontactedLeadDays: services.config.retentionDays, messageDays: services.config.retentionDays) }

    func settings(tenantId: String, on db: any SQLDatabase) async throws -> Settings {
        guard let row = try await db.raw("""
            SELECT uncontacted_lead_days, message_days FROM retention_settings WHERE tenant_id = \(bind: tenantId)
            """).first() else { return defaults }
        return Settings(uncontactedLeadDays: try row.decode(column: "uncontacted_lead_days", as: Int.self),
                        messageDays: try row.decode(column: "message_days", as: Int.self))
    }

    func save(_ settings: Settings, tenantId: String, actor: AuditActor) async throws {
        let now = services.now()
        try await services.database.transaction { db in
            try await db.raw("""
                INSERT INTO retention_settings (tenant_id, uncontacted_lead_days, message_days, updated_at)
                VALUES (\(bind: tenantId), \(bind: settings.uncontactedLeadDays), \(bind: settings.messageDays), \(bind: now))
                ON CONFLICT (tenant_id) DO UPDATE SET uncontacted_lead_days = excluded.uncontacted_lead_days,
                    message_days = excluded.message_days, updated_at = excluded.updated_at
                """).run()
            try await services.audit.append(AuditEntry(
                tenantId: tenantId, actor: actor, action: "retention.updated", targetType: "tenant", targetId: tenantId,
                details: ["uncontactedLeadDays": String(settings.uncontactedLeadDays), "messageDays": String(settings.messageDays)]
            ), on: db, now: now)
        }
    }

    /// Applies every live tenant's retention; returns what each removed (tenants with nothing to do are left out).
    func run(actor: AuditActor) async throws -> [Result] {
        let tenants = try await services.database.sql.raw("SELECT id FROM tenants WHERE status <> 'deleted' ORDER BY id").all()
            .map { try $0.decode(column: "id", as: String.self) }
        var results: [Result] = []
        for tenantId in tenants {
            let result = try await apply(tenantId: tenantId, actor: actor)
            if result.leads + result.messages > 0 { results.append(result) }
        }
        return results
    }

    func apply(tenantId: String, actor: AuditActor) async throws -> Result {
        let now = services.now()
        return try await services.database.transaction { db in
            let settings = try await settings(tenantId: tenantId, on: db)
            let leadCutoff = now.addingTimeInterval(-TimeInterval(settings.uncontactedLeadDays) * 86_400)
            let messageCutoff = now.addingTimeInterval(-TimeInterval(settings.messageDays) * 86_400)
            let leadIds = try await db.raw("""
                SELECT id FROM leads l WHERE l.tenant_id = \(bind: tenantId) AND l.status = 'new' AND l.last_contacted_at IS NULL
                  AND l.created_at < \(bind: leadCutoff)
                  AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.tenant_id = l.tenant_id AND c.lead_id = l.id)
                  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = l.tenant_id AND m.lead_id = l.id)
                  AND NOT EXISTS (SELECT 1 FROM appointments a WHERE a.tenant_id = l.tenant_id AND a.lead_id = l.id)
                """).all().map { try $0.decode(column: "id", as: String.self) }
            for chunk in stride(from: 0, to: leadIds.count, by: 500).map({ Array(leadIds[$0..<min($0 + 500, leadIds.count)]) }) {
                try await db.raw("DELETE FROM events WHERE tenant_id = \(bind: tenantId) AND subject_id IN (\(binds: chunk))").run()
                try await db.raw("DELETE FROM leads WHERE tenant_id = \(bind: tenantId) AND id IN (\(binds: chunk))").run()
            }
            // Messages still waiting to go out are never dropped by age.
            let messages = try await db.raw("""
                DELETE FROM messages WHERE tenant_id = \(bind: tenantId) AND created_at < \(bind: messageCutoff)
                  AND status NOT IN ('queued', 'sending') RETURNING id
                """).all().count
            let result = Result(tenantId: tenantId, leads: leadIds.count, messages: messages)
            if result.leads + result.messages > 0 {
                try await services.audit.append(AuditEntry(
                    tenantId: tenantId, actor: actor, action: "retention.applied", targetType: "tenant", targetId: tenantId,
                    details: ["leads": String(result.leads), "messages": String(result.messages),
                              "uncontactedLeadDays": String(settings.uncontactedLeadDays), "messageDays": String(settings.messageDays)]
                ), on: db, now: now)
            }
            return result
        }
    }
}
