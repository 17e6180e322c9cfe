import BooklineCore
import Foundation
import SQLKit

public enum AppointmentStatus: String, Sendable, Codable, CaseIterable {
    case booked, confirmed, cancelled, completed
    case noShow = "no_show"

    /// Booked and confirmed appointments hold their slots.
    public var holdsSlot: Bool { self == .booked || self == .confirmed }

    /// Where an appointment may go from here.
    public var allowedNext: [AppointmentStatus] {
        switch self {
        case .booked: [.confirmed, .cancelled, .completed, .noShow]
        case .confirmed: [.booked, .cancelled, .completed, .noShow]
        case .cancelled, .completed, .noShow: []
        }
    }
}

public struct Appointment: Sendable, Equatable {
    public let tenantId: String
    public let id: String
    public let leadId: String
    public var serviceId: String
    public var startsAt: Date
    public var endsAt: Date
    public var status: AppointmentStatus
    public var notes: String?
    public var cancelReason: String?
    public var source: String
    public let createdAt: Date
    public var updatedAt: Date
}

/// SQL for `appointments` and the slot locks in `appointment_slots`.
struct AppointmentStore: Sendable {
    func insert(_ appointment: Appointment, on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO appointments (tenant_id, id, lead_id, service_id, starts_at, ends_at, status, notes, cancel_reason, source,
                                      created_at, updated_at)
            VALUES (\(bind: appointment.tenantId), \(bind: appointment.id), \(bind: appointment.leadId), \(bind: appointment.serviceId),
                    \(bind: appointment.startsAt), \(bind: appointment.endsAt), \(bind: appointment.status.rawValue),
                    \(bind: appointment.notes), \(bind: appointment.cancelReason), \(bind: appointment.source),
                    \(bind: appointment.createdAt), \(bind: appointment.updatedAt))
            """).run()
    }

    func update(_ appointment: Appointment, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE appointments SET service_id = \(bind: appointment.serviceId), starts_at = \(bind: appointment.startsAt),
                ends_at = \(bind: appointment.endsAt), status = \(bind: appointment.status.rawValue), notes = \(bind: appointment.notes),
                cancel_reason = \(bind: appointment.cancelReason), updated_at = \(bind: appointment.updatedAt)
            WHERE tenant_id = \(bind: appointment.tenantId) AND id = \(bind: appointment.id)
            """).run()
    }

    /// Takes the 5-minute slots the appointment covers; a slot already held is a unique
    /// violation, which the caller turns into 409 (two racing bookings: exactly one wins).
    func lockSlots(_ appointment: Appointment, on db: any SQLDatabase) async throws {
        var slots: [Date] = []
        var start = appointment.startsAt
        while start < appointment.endsAt {
            slots.append(start)
            start = start.addingTimeInterval(Availability.granularity)
        }
        let insert = db.insert(into: "appointment_slots").columns("tenant_id", "slot_start", "appointment_id")
        for slot in slots { insert.values(SQLBind(appointment.tenantId), SQLBind(slot), SQLBind(appointment.id)) }
        try await insert.run()
    }

    func releaseSlots(tenantId: String, appointmentId: String, on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM appointment_slots WHERE tenant_id = \(bind: tenantId) AND appointment_id = \(bind: appointmentId)").run()
    }

    func find(tenantId: String, id: String, on db: any SQLDatabase) async throws -> Appointment? {
        try await db.raw("SELECT * FROM appointments WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)").first().map(Self.decode)
    }

    struct Filter: Sendable {
        var from: Date?
        var to: Date?
        var status: AppointmentStatus?
        var leadId: String?
        /// Keyset cursor: rows after this (start, id).
        var after: (start: Date, id: String)?
    }

    /// By start time, earliest first; the cursor is the last id seen (ids break ties).
    func list(tenantId: String, filter: Filter, limit: Int, on db: any SQLDatabase) async throws -> [Appointment] {
        let query = db.select().column("*").from("appointments").where("tenant_id", .equal, tenantId)
        if let from = filter.from { query.where("starts_at", .greaterThanOrEqual, from) }
        if let to = filter.to { query.where("starts_at", .lessThan, to) }
        if let status = filter.status { query.where("status", .equal, status.rawValue) }
        if let leadId = filter.leadId { query.where("lead_id", .equal, leadId) }
        if let after = filter.after {
            query.where { group in
                group.where("starts_at", .greaterThan, after.start)
                    .orWhere { $0.where("starts_at", .equal, after.start).where("id", .greaterThan, after.id) }
            }
        }
        return try await query.orderBy("starts_at").orderBy("id").limit(limit).all().map(Self.decode)
    }

    /// Times held by booked or confirmed appointments overlapping [from, to).
    func busy(tenantId: String, from: Date, to: Date, on db: any SQLDatabase) async throws -> [DateInterval] {
        try await db.raw("""
            SELECT starts_at, ends_at FROM appointments
            WHERE tenant_id = \(bind: tenantId) AND status IN ('booked', 'confirmed')
              AND starts_at < \(bind: to) AND ends_at > \(bind: from)
            """).all().map {
            DateInterval(start: try $0.decode(column: "starts_at", as: Date.self), end: try $0.decode(column: "ends_at", as: Date.self))
        }
    }

    static func decode(_ row: any SQLRow) throws -> Appointment {
        Appointment(
            tenantId: try row.decode(column: "tenant_id", as: String.self), id: try row.decode(column: "id", as: String.self),
            leadId: try row.decode(column: "lead_id", as: String.self), serviceId: try row.decode(column: "service_id", as: String.self),
            startsAt: try row.decode(column: "starts_at", as: Date.self), endsAt: try row.decode(column: "ends_at", as: Date.self),
            status: AppointmentStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .cancelled,
            notes: try row.decode(column: "notes", as: String?.self), cancelReason: try row.decode(column: "cancel_reason", as: String?.self),
            source: try row.decode(column: "source", as: String.self),
            createdAt: try row.decode(column: "created_at", as: Date.self), updatedAt: try row.decode(column: "updated_at", as: Date.self)
        )
    }
}
