import BooklineCore
import Foundation
import SQLKit

/// `bookline bench analytics`: seeds one tenant with N calls spread over a year (in SQL, so a
/// million rows take seconds) and times the analytics summary over the whole range.
public struct AnalyticsBenchmark: Sendable {
    public struct Result: Sendable {
        public let calls: Int
        public let seedSeconds: Double
        public let days: Int
        public let milliseconds: [Double]
        public let totalCalls: Int

        func percentile(_ p: Double) -> Double {
            let sorted = milliseconds.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
        }

        public var summary: String {
            String(format: "%d calls seeded in %.1f s; summary over %d days (%d calls counted), %d runs: min %.1f ms, p50 %.1f ms, p99 %.1f ms",
                   calls, seedSeconds, days, totalCalls, milliseconds.count, milliseconds.min() ?? 0, percentile(0.5), percentile(0.99))
        }
    }

    let services: AppServices

    public init(services: AppServices) {
        self.services = services
    }

    public func run(calls: Int, days: Int, runs: Int) async throws -> Result {
        let now = services.now()
        let tenant = try await services.tenants.create(.init(businessName: "Analytics Bench"), now: now)
        let zone = TimeZone(identifier: tenant.timezone)!
        let last = LocalDays.day(of: now, in: zone)
        let range = LocalDays.days(from: LocalDays.adding(-(days - 1), to: last, in: zone), through: last, in: zone)
        let seedStart = ContinuousClock.now
        try await seed(tenantId: tenant.id, calls: calls, from: range.first!.start, to: range.last!.end)
        let seeded = ContinuousClock.now - seedStart
        let analytics = AnalyticsService(services: services)
        var timings: [Double] = []
        var counted = 0
        for _ in 0..<runs {
            let start = ContinuousClock.now
            counted = try await analytics.summary(tenant: tenant, days: range).totalCalls
            timings.append(Self.milliseconds(ContinuousClock.now - start))
        }
        return Result(calls: calls, seedSeconds: Self.milliseconds(seeded) / 1000, days: range.count, milliseconds: timings, totalCalls: counted)
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    /// Calls evenly spread over [from, to), cycling through every outcome; one in 97 has an unknown ended reason.
    func seed(tenantId: String, calls: Int, from: Date, to: Date) async throws {
        let step = to.timeIntervalSince(from) / Double(calls)
        let db = services.database.sql
        let outcomes = CallOutcome.allCases.enumerated().map { "WHEN \($0.offset) THEN '\($0.element.rawValue)'" }.joined(separator: " ")
        let columns = """
            tenant_id, id, provider, provider_call_id, direction, state, started_at, ended_at, duration_seconds, cost_minor,
            currency, ended_reason, ended_reason_known, outcome, structured_data, created_at, updated_at
            """
        let base = from.timeIntervalSince1970
        switch services.database.engine {
        case .postgres:
            try await db.raw("""
                INSERT INTO calls (\(unsafeRaw: columns))
                SELECT \(bind: tenantId), 'bench-' || lpad(g::text, 9, '0'), 'bench', 'bench-' || g, 'outbound', 'ended',
                       to_timestamp(\(literal: base) + g * \(literal: step)), to_timestamp(\(literal: base) + g * \(literal: step) + 120),
                       60 + g % 240, 10 + g % 50, 'GBP', 'assistant-ended-call', CASE WHEN g % 97 = 0 THEN 0 ELSE 1 END,
                       CASE g % 9 \(unsafeRaw: outcomes) END, '{}', now(), now()
                FROM generate_series(0, \(literal: calls - 1)) AS g
                """).run()
            try await db.raw("VACUUM ANALYZE calls").run()
        case .sqlite:
            try await db.raw("""
                WITH RECURSIVE n(g) AS (SELECT 0 UNION ALL SELECT g + 1 FROM n WHERE g < \(literal: calls - 1))
                INSERT INTO calls (\(unsafeRaw: columns))
                SELECT \(bind: tenantId), 'bench-' || printf('%09d', g), 'bench', 'bench-' || g, 'outbound', 'ended',
                       \(literal: base) + g * \(literal: step), \(literal: base) + g * \(literal: step) + 120,
                       60 + g % 240, 10 + g % 50, 'GBP', 'assistant-ended-call', CASE WHEN g % 97 = 0 THEN 0 ELSE 1 END,
                       CASE g % 9 \(unsafeRaw: outcomes) END, '{}', \(literal: base), \(literal: base)
                FROM n
                """).run()
            try await db.raw("ANALYZE calls").run()
        }
    }
}
