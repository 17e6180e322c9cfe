import BooklineCore
import Foundation
import SQLKit

/// The SQL aggregates analytics reads. Every query is bounded by tenant and a UTC range the
/// caller computed from the tenant's local days, so it runs on the (tenant_id, ...) indexes.
struct AnalyticsStore: Sendable {
    /// One (local day, outcome) cell: outcome nil for calls still in progress.
    struct CallCell: Sendable, Equatable {
        let day: Int
        let outcome: CallOutcome?
        let calls: Int
        let durationSeconds: Int
        let timedCalls: Int
        let costMinor: Int
    }

    /// Days per concurrent chunk: a year runs as 4 queries on 4 connections.
    static let daysPerChunk = 92

    /// Calls per local day and outcome, for long ranges in concurrent chunks of days (each an
    /// index range of its own), so a year of a busy tenant uses every core.
    func calls(tenantId: String, days: [LocalDay], currency: String, database: Database) async throws -> [CallCell] {
        let chunks = stride(from: 0, to: days.count, by: Self.daysPerChunk).map { $0..<min($0 + Self.daysPerChunk, days.count) }
        return try await withThrowingTaskGroup(of: [CallCell].self) { group in
            for chunk in chunks {
                group.addTask {
                    try await database.aggregateRead { db in
                        try await calls(tenantId: tenantId, days: Array(days[chunk]), firstIndex: chunk.lowerBound, currency: currency, on: db)
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    /// One chunk. The days are a VALUES list joined on the started_at index, so bucketing by
    /// the tenant's midnight (DST included) costs no per-row time zone math.
    func calls(tenantId: String, days: [LocalDay], firstIndex: Int, currency: String, on db: any SQLDatabase) async throws -> [CallCell] {
        guard !days.isEmpty else { return [] }
        let values = SQLList(days.enumerated().map { index, day in
            SQLGroupExpression([SQLLiteral.numeric(String(firstIndex + index)), SQLBind(day.start), SQLBind(day.end)])
        })
        let rows = try await db.raw("""
            WITH days (day_index, day_start, day_end) AS (VALUES \(values))
            SELECT days.day_index AS day, c.outcome AS outcome, COUNT(*) AS calls,
                   COALESCE(SUM(c.duration_seconds), 0) AS duration, COUNT(c.duration_seconds) AS timed,
                   COALESCE(SUM(CASE WHEN c.currency = \(bind: currency) THEN c.cost_minor ELSE 0 END), 0) AS cost
            FROM days JOIN calls c ON c.tenant_id = \(bind: tenantId)
                AND c.started_at >= days.day_start AND c.started_at < days.day_end
            GROUP BY days.day_index, c.outcome
            """).all()
        return try rows.map { row in
            CallCell(
                day: try row.decode(column: "day", as: Int.self),
                outcome: try row.decode(column: "outcome", as: String?.self).flatMap(CallOutcome.init(rawValue:)),
                calls: try row.decode(column: "calls", as: Int.self),
                durationSeconds: try row.decode(column: "duration", as: Int.self),
                timedCalls: try row.decode(column: "timed", as: Int.self),
                costMinor: try row.decode(column: "cost", as: Int.self)
            )
        }
    }

    /// Ended reasons Bookline did not recognise, most frequent first (a partial index keeps this cheap).
    func unknownReasons(tenantId: String, from start: Date, to end: Date, on db: any SQLDatabase) async throws -> [(String, Int)] {
        try await db.raw("""
            SELECT COALESCE(ended_reason, '') AS reason, COUNT(*) AS n FROM calls
            WHERE tenant_id = \(bind: tenantId) AND ended_reason_known = 0
              AND started_at >= \(bind: start) AND started_at < \(bind: end)
            GROUP BY ended_reason ORDER BY n DESC, reason LIMIT 20
            """).all().map { (try $0.decode(column: "reason", as: String.self), try $0.decode(column: "n", as: Int.self)) }
    }

    /// Leads created in the range by current status, and how many of each were ever contacted.
    func leadStatuses(tenantId: String, from start: Date, to end: Date, on db: any SQLDatabase) async throws -> [(LeadStatus, Int, Int)] {
        try await db.raw("""
            SELECT status, COUNT(*) AS n, COUNT(last_contacted_at) AS contacted FROM leads
            WHERE tenant_id = \(bind: tenantId) AND id >= \(bind: Identifier.lowerBound(for: start))
              AND id < \(bind: Identifier.lowerBound(for: end.addingTimeInterval(0.001)))
              AND created_at >= \(bind: start) AND created_at < \(bind: end)
            GROUP BY status
            """).all().compactMap { row in
            guard let status = LeadStatus(rawValue: try row.decode(column: "status", as: String.self)) else { return nil }
            return (status, try row.decode(column: "n", as: Int.self), try row.decode(column: "contacted", as: Int.self))
        }
    }

    /// Outgoing messages created in the range, by channel and status.
    func messages(tenantId: String, from start: Date, to end: Date, on db: any SQLDatabase) async throws -> [(MessageChannel, MessageStatus, Int)] {
        try await db.raw("""
            SELECT channel, status, COUNT(*) AS n FROM messages
            WHERE tenant_id = \(bind: tenantId) AND direction = 'outbound'
              AND id >= \(bind: Identifier.lowerBound(for: start))
              AND id < \(bind: Identifier.lowerBound(for: end.addingTimeInterval(0.001)))
              AND created_at >= \(bind: start) AND created_at < \(bind: end)
            GROUP BY channel, status
            """).all().compactMap { row in
            guard let channel = MessageChannel(rawValue: try row.decode(column: "channel", as: String.self)),
                  let status = MessageStatus(rawValue: try row.decode(column: "status", as: String.self))
            else { return nil }
            return (channel, status, try row.decode(column: "n", as: Int.self))
        }
    }
}
