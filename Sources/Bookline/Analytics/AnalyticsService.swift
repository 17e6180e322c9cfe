import BooklineCore
import Foundation

/// Figures for a tenant over a range of its local days, and the weekly comparison.
struct AnalyticsService: Sendable {
    let services: AppServices
    let store = AnalyticsStore()

    /// The range to report: `from` and `to` as `YYYY-MM-DD` in the tenant's zone, both
    /// included; `to` defaults to today and `from` to six days before it.
    func days(tenant: Tenant, from: String?, to: String?) throws -> [LocalDay] {
        let zone = TimeZone(identifier: tenant.timezone) ?? TimeZone(identifier: "UTC")!
        var errors: [Problem.FieldError] = []
        let last = parse(to, field: "to", errors: &errors) ?? LocalDays.day(of: services.now(), in: zone)
        let first = parse(from, field: "from", errors: &errors) ?? LocalDays.adding(-6, to: last, in: zone)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let days = LocalDays.days(from: first, through: last, in: zone)
        guard !days.isEmpty else { throw Problem.validation(field: "from", "must not be after to") }
        guard days.count <= LocalDays.maxDays else { throw Problem.validation(field: "from", "the range may span at most \(LocalDays.maxDays) days") }
        return days
    }

    func parse(_ text: String?, field: String, errors: inout [Problem.FieldError]) -> DateComponents? {
        guard let text else { return nil }
        guard let day = LocalDays.parse(text) else {
            errors.append(.init(field: field, message: "must be a date such as 2026-11-23"))
            return nil
        }
        return day
    }

    func summary(tenant: Tenant, days: [LocalDay]) async throws -> AnalyticsSummary {
        let db = services.database.sql
        let settings = try await CallSettingsStore().find(tenantId: tenant.id, on: db)
        let start = days.first!.start, end = days.last!.end
        async let cells = store.calls(tenantId: tenant.id, days: days, currency: settings.currency, database: services.database)
        async let unknown = store.unknownReasons(tenantId: tenant.id, from: start, to: end, on: db)
        async let leads = store.leadStatuses(tenantId: tenant.id, from: start, to: end, on: db)
        async let messages = store.messages(tenantId: tenant.id, from: start, to: end, on: db)
        return AnalyticsSummary.make(days: days, zone: tenant.timezone, settings: settings, cells: try await cells,
                                     unknown: try await unknown, leads: try await leads, messages: try await messages)
    }

    /// The ISO week (Monday to Sunday, tenant's zone) holding `date` (default today) against the week before.
    func weekly(tenant: Tenant, date: String?) async throws -> WeeklyReport {
        let zone = TimeZone(identifier: tenant.timezone) ?? TimeZone(identifier: "UTC")!
        var errors: [Problem.FieldError] = []
        let day = parse(date, field: "date", errors: &errors) ?? LocalDays.day(of: services.now(), in: zone)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let monday = LocalDays.monday(of: day, in: zone)
        let thisWeek = LocalDays.days(from: monday, through: LocalDays.adding(6, to: monday, in: zone), in: zone)
        let previousMonday = LocalDays.adding(-7, to: monday, in: zone)
        let lastWeek = LocalDays.days(from: previousMonday, through: LocalDays.adding(6, to: previousMonday, in: zone), in: zone)
        async let current = summary(tenant: tenant, days: thisWeek)
        async let previous = summary(tenant: tenant, days: lastWeek)
        return WeeklyReport(business: tenant.businessName, current: try await current, previous: try await previous)
    }
}
