import BooklineCore
import Foundation
import SQLKit

/// Something a tenant offers: a name, a length and a price.
public struct BookableService: Sendable, Equatable {
    public let tenantId: String
    public let id: String
    public var name: String
    public var durationMinutes: Int
    public var priceMinor: Int
    public var active: Bool
    public let createdAt: Date
    public var updatedAt: Date
}

/// When a tenant takes bookings: weekly hours, closed dates, the spacing of start times.
public struct Schedule: Sendable, Equatable {
    public var weekly: [Int: [OpeningInterval]] = [:]
    public var closed: [String: String?] = [:]
    public var slotStepMinutes = 15
}

/// SQL for `services`, `opening_hours`, `closed_dates` and `booking_settings`.
struct ScheduleStore: Sendable {
    func services(tenantId: String, includeInactive: Bool, on db: any SQLDatabase) async throws -> [BookableService] {
        let filter: SQLQueryString = includeInactive ? "" : " AND active = 1"
        return try await db.raw("SELECT * FROM services WHERE tenant_id = \(bind: tenantId)\(filter) ORDER BY name, id")
            .all().map(Self.decodeService)
    }

    func service(tenantId: String, id: String, on db: any SQLDatabase) async throws -> BookableService? {
        try await db.raw("SELECT * FROM services WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)").first().map(Self.decodeService)
    }

    func insert(_ service: BookableService, on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO services (tenant_id, id, name, duration_minutes, price_minor, active, created_at, updated_at)
            VALUES (\(bind: service.tenantId), \(bind: service.id), \(bind: service.name), \(bind: service.durationMinutes),
                    \(bind: service.priceMinor), \(bind: service.active ? 1 : 0), \(bind: service.createdAt), \(bind: service.updatedAt))
            """).run()
    }

    func update(_ service: BookableService, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE services SET name = \(bind: service.name), duration_minutes = \(bind: service.durationMinutes),
                price_minor = \(bind: service.priceMinor), active = \(bind: service.active ? 1 : 0), updated_at = \(bind: service.updatedAt)
            WHERE tenant_id = \(bind: service.tenantId) AND id = \(bind: service.id)
            """).run()
    }

    func schedule(tenantId: String, on db: any SQLDatabase) async throws -> Schedule {
        var schedule = Schedule()
        for row in try await db.raw("SELECT * FROM opening_hours WHERE tenant_id = \(bind: tenantId) ORDER BY weekday, opens_minute").all() {
            let weekday = try row.decode(column: "weekday", as: Int.self)
            schedule.weekly[weekday, default: []].append(OpeningInterval(
                opens: try row.decode(column: "opens_minute", as: Int.self), closes: try row.decode(column: "closes_minute", as: Int.self)))
        }
        for row in try await db.raw("SELECT date, reason FROM closed_dates WHERE tenant_id = \(bind: tenantId)").all() {
            schedule.closed[try row.decode(column: "date", as: String.self)] = try row.decode(column: "reason", as: String?.self)
        }
        if let row = try await db.raw("SELECT slot_step_minutes FROM booking_settings WHERE tenant_id = \(bind: tenantId)").first() {
            schedule.slotStepMinutes = try row.decode(column: "slot_step_minutes", as: Int.self)
        }
        return schedule
    }

    /// Replaces the whole schedule (the PUT is the complete picture).
    func save(_ schedule: Schedule, tenantId: String, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM opening_hours WHERE tenant_id = \(bind: tenantId)").run()
        try await db.raw("DELETE FROM closed_dates WHERE tenant_id = \(bind: tenantId)").run()
        try await db.raw("DELETE FROM booking_settings WHERE tenant_id = \(bind: tenantId)").run()
        for (weekday, intervals) in schedule.weekly {
            for interval in intervals {
                try await db.raw("""
                    INSERT INTO opening_hours (tenant_id, weekday, opens_minute, closes_minute)
                    VALUES (\(bind: tenantId), \(bind: weekday), \(bind: interval.opens), \(bind: interval.closes))
                    """).run()
            }
        }
        for (date, reason) in schedule.closed {
            try await db.raw("INSERT INTO closed_dates (tenant_id, date, reason) VALUES (\(bind: tenantId), \(bind: date), \(bind: reason))").run()
        }
        try await db.raw("""
            INSERT INTO booking_settings (tenant_id, slot_step_minutes, updated_at)
            VALUES (\(bind: tenantId), \(bind: schedule.slotStepMinutes), \(bind: now))
            """).run()
    }

    static func decodeService(_ row: any SQLRow) throws -> BookableService {
        BookableService(
            tenantId: try row.decode(column: "tenant_id", as: String.self), id: try row.decode(column: "id", as: String.self),
            name: try row.decode(column: "name", as: String.self),
            durationMinutes: try row.decode(column: "duration_minutes", as: Int.self),
            priceMinor: try row.decode(column: "price_minor", as: Int.self),
            active: try row.decode(column: "active", as: Int.self) != 0,
            createdAt: try row.decode(column: "created_at", as: Date.self), updatedAt: try row.decode(column: "updated_at", as: Date.self)
        )
    }
}
