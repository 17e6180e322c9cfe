import Foundation
import SQLKit

/// What tenants use, counted for a page of tenants at once: one grouped query per figure, so
/// the admin list costs the same four queries for 1 tenant or 200.
struct TenantUsage: Encodable, Equatable {
    var leads = 0
    var callsLast30Days = 0
    var messagesLast30Days = 0
    var appointmentsUpcoming = 0

    static func counts(for ids: [String], database: Database, now: Date) async throws -> [String: TenantUsage] {
        guard !ids.isEmpty else { return [:] }
        let since = now.addingTimeInterval(-30 * 86_400)
        var usage = Dictionary(uniqueKeysWithValues: ids.map { ($0, TenantUsage()) })
        func tally(_ sql: SQLQueryString, into field: WritableKeyPath<TenantUsage, Int>) async throws {
            for row in try await database.sql.raw(sql).all() {
                let id = try row.decode(column: "tenant_id", as: String.self)
                usage[id]?[keyPath: field] = try row.decode(column: "n", as: Int.self)
            }
        }
        try await tally("SELECT tenant_id, COUNT(*) AS n FROM leads WHERE tenant_id IN (\(binds: ids)) GROUP BY tenant_id",
                        into: \.leads)
        try await tally("""
            SELECT tenant_id, COUNT(*) AS n FROM calls WHERE tenant_id IN (\(binds: ids)) AND started_at >= \(bind: since)
            GROUP BY tenant_id
            """, into: \.callsLast30Days)
        try await tally("""
            SELECT tenant_id, COUNT(*) AS n FROM messages WHERE tenant_id IN (\(binds: ids)) AND created_at >= \(bind: since)
            GROUP BY tenant_id
            """, into: \.messagesLast30Days)
        try await tally("""
            SELECT tenant_id, COUNT(*) AS n FROM appointments WHERE tenant_id IN (\(binds: ids)) AND starts_at >= \(bind: now)
              AND status IN ('booked', 'confirmed') GROUP BY tenant_id
            """, into: \.appointmentsUpcoming)
        return usage
    }
}
