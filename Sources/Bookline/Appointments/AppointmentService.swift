import BooklineCore
import Foundation
import SQLKit

/// Booking rules: a start on a 5-minute boundary, in the future, with the whole service inside
/// an opening interval of a day the business is open; slots held in the database so two
/// bookings can never overlap; every change with its event and audit entry in one transaction.
struct AppointmentService: Sendable {
    let services: AppServices
    let store = AppointmentStore()
    let schedules = ScheduleStore()

    static let slotTaken = Problem(status: .conflict, slug: "slot-taken", title: "Slot taken",
                                   detail: "Another appointment already holds part of this time; pick another slot from GET /api/availability.")

    func zone(_ tenant: Tenant) -> TimeZone { TimeZone(identifier: tenant.timezone) ?? TimeZone(identifier: "UTC")! }

    /// Free slots for `service` over `days`.
    func availability(tenant: Tenant, service: BookableService, days: [LocalDay], on db: any SQLDatabase) async throws -> [DateInterval] {
        let schedule = try await schedules.schedule(tenantId: tenant.id, on: db)
        var busy = try await store.busy(tenantId: tenant.id, from: days.first!.start, to: days.last!.end, on: db)
        do {
            busy += try await services.calendar(for: tenant.id).busy(from: days.first!.start, to: days.last!.end)
        } catch {
            // Slots are still offered from Bookline's own bookings; the failure is recorded once per call.
            await services.errors.record(ErrorReport(
                tenantId: tenant.id, service: "calendar", errorType: "calendar_busy_failed",
                message: "free/busy lookup failed: \(error)", severity: .warning
            ))
        }
        return Availability.slots(days: days, zone: zone(tenant), weekly: schedule.weekly, closed: Set(schedule.closed.keys),
                                  duration: Double(service.durationMinutes * 60), step: Double(schedule.slotStepMinutes * 60),
                                  busy: busy, notBefore: services.now())
    }

    /// Refuses a start that is not bookable for reasons other than another appointment.
    func checkBookable(tenant: Tenant, service: BookableService, start: Date, on db: any SQLDatabase) async throws {
        guard start.timeIntervalSince1970.truncatingRemainder(dividingBy: Availability.granularity) == 0 else {
            throw Problem.validation(field: "start", "must be on a 5-minute boundary, e.g. 10:05 or 10:30")
        }
        guard start > services.now() else { throw Problem.validation(field: "start", "is in the past") }
        let zone = zone(tenant)
        let day = LocalDays.day(of: start, in: zone)
        let days = LocalDays.days(from: day, through: day, in: zone)
        let schedule = try await schedules.schedule(tenantId: tenant.id, on: db)
        if let date = days.first?.date, let reason = schedule.closed[date] {
            throw Problem.validation(field: "start", "the business is closed on \(date)\(reason.map { " (\($0))" } ?? "")")
        }
        let fits = Availability.slots(days: days, zone: zone, weekly: schedule.weekly, closed: [],
                                      duration: Double(service.durationMinutes * 60), step: Availability.granularity,
                                      busy: [], notBefore: .distantPast)
        guard Availability.isOffered(start, in: fits) else {
            throw Problem.validation(field: "start", "is outside opening hours for a \(service.durationMinutes)-minute \(service.name)")
        }
    }

    struct Booking: Sendable {
        var leadId: String
        var serviceId: String
        var start: Date
        var notes: String?
        var source = "api"
    }

    func book(_ booking: Booking, tenant: Tenant, actor: AuditActor) async throws -> Appointment {
        let now = services.now()
        do {
            return try await services.database.transaction { db in
                guard let lead = try await LeadStore().find(tenantId: tenant.id, id: booking.leadId, on: db) else {
                    throw Problem.validation(field: "leadId", "no lead with this id")
                }
                guard lead.status != .optedOut else {
                    throw Problem(status: .conflict, slug: "opted-out", title: "Lead opted out", detail: "This lead has opted out of contact.")
                }
                guard let service = try await schedules.service(tenantId: tenant.id, id: booking.serviceId, on: db), service.active else {
                    throw Problem.validation(field: "serviceId", "no active service with this id")
                }
                try await checkBookable(tenant: tenant, service: service, start: booking.start, on: db)
                let appointment = Appointment(
                    tenantId: tenant.id, id: Identifier.make(now: now), leadId: lead.id, serviceId: service.id, startsAt: booking.start,
                    endsAt: booking.start.addingTimeInterval(Double(service.durationMinutes * 60)), status: .booked,
                    notes: booking.notes, cancelReason: nil, source: booking.source, createdAt: now, updatedAt: now
                )
                try await store.insert(appointment, on: db)
                try await store.lockSlots(appointment, on: db)
                try await AppointmentMessages.schedule(appointment, jobs: services.jobs, now: now, on: db)
                try await FollowUps.stop(leadId: lead.id, reason: "lead booked", engine: services.database.engine, now: now, on: db)
                try await CalendarSync.enqueue(appointment, jobs: services.jobs, now: now, on: db)
                var events = [NewEvent(type: "appointment_booked", subjectType: "appointment", subjectId: appointment.id, payload: [
                    "appointment_id": appointment.id, "lead_id": lead.id, "service_id": service.id,
                    "starts_at": appointment.startsAt.formatted(.iso8601),
                ])]
                if lead.status != .booked, lead.status.canMove(to: .booked) {
                    var updated = lead
                    updated.status = .booked
                    updated.updatedAt = now
                    try await LeadStore().update(updated, on: db)
                    events.append(.lead("lead_status_changed", lead.id, ["from": lead.status.rawValue, "to": "booked", "reason": "appointment"]))
                }
                try await EventLog(engine: services.database.engine).append(events, tenantId: tenant.id, on: db, now: now)
                try await services.audit.append(AuditEntry(
                    tenantId: tenant.id, actor: actor, action: "appointment.booked", targetType: "appointment", targetId: appointment.id,
                    details: ["lead_id": lead.id, "service_id": service.id, "source": booking.source]
                ), on: db, now: now)
                return appointment
            }
        } catch where ConstraintViolation.isUnique(error) {
            throw Self.slotTaken
        }
    }

    struct Change: Sendable {
        var start: Date?
        var serviceId: String?
        var status: AppointmentStatus?
        var cancelReason: String?
        var notes: String??
    }

    func change(tenant: Tenant, id: String, _ change: Change, actor: AuditActor) async throws -> Appointment {
        let now = services.now()
        do {
            return try await services.database.transaction { db in
                guard var appointment = try await store.find(tenantId: tenant.id, id: id, on: db) else {
                    throw Problem.notFound("No appointment with this id.")
                }
                var events: [NewEvent] = []
                var details: [String: String] = [:]
                let payload = ["appointment_id": appointment.id, "lead_id": appointment.leadId]
                if change.start != nil || change.serviceId != nil {
                    guard appointment.status.holdsSlot else {
                        throw Problem(status: .conflict, slug: "appointment-closed", title: "Appointment closed",
                                      detail: "A \(appointment.status.rawValue) appointment cannot be moved.")
                    }
                    let serviceId = change.serviceId ?? appointment.serviceId
                    guard let service = try await schedules.service(tenantId: tenant.id, id: serviceId, on: db), service.active else {
                        throw Problem.validation(field: "serviceId", "no active service with this id")
                    }
                    let start = change.start ?? appointment.startsAt
                    try await checkBookable(tenant: tenant, service: service, start: start, on: db)
                    try await store.releaseSlots(tenantId: tenant.id, appointmentId: appointment.id, on: db)
                    appointment.serviceId = service.id
                    appointment.startsAt = start
                    appointment.endsAt = start.addingTimeInterval(Double(service.durationMinutes * 60))
                    // A moved appointment needs confirming again.
                    appointment.status = .booked
                    try await store.lockSlots(appointment, on: db)
                    try await AppointmentMessages.cancel(appointment, reason: "appointment moved", jobs: services.jobs, now: now, on: db)
                    try await AppointmentMessages.schedule(appointment, jobs: services.jobs, now: now, on: db)
                    events.append(NewEvent(type: "appointment_rescheduled", subjectType: "appointment", subjectId: appointment.id,
                                           payload: payload.merging(["starts_at": start.formatted(.iso8601)]) { a, _ in a }))
                    details["starts_at"] = start.formatted(.iso8601)
                }
                if let next = change.status, next != appointment.status {
                    guard appointment.status.allowedNext.contains(next) else {
                        throw Problem(status: .conflict, slug: "invalid-transition", title: "Status change not allowed",
                                      detail: "An appointment cannot move from \(appointment.status.rawValue) to \(next.rawValue).")
                    }
                    if next == .cancelled {
                        guard let reason = change.cancelReason, !reason.trimmingWhitespace().isEmpty else {
                            throw Problem.validation(field: "cancelReason", "is required to cancel")
                        }
                        appointment.cancelReason = String(reason.prefix(500))
                        try await store.releaseSlots(tenantId: tenant.id, appointmentId: appointment.id, on: db)
                        events.append(NewEvent(type: "appointment_cancelled", subjectType: "appointment", subjectId: appointment.id,
                                               payload: payload.merging(["reason": appointment.cancelReason ?? ""]) { a, _ in a }))
                    } else {
                        if !next.holdsSlot { try await store.releaseSlots(tenantId: tenant.id, appointmentId: appointment.id, on: db) }
                        events.append(NewEvent(type: "appointment_\(next.rawValue)", subjectType: "appointment", subjectId: appointment.id,
                                               payload: payload))
                    }
                    details["from"] = appointment.status.rawValue
                    details["to"] = next.rawValue
                    appointment.status = next
                    if !next.holdsSlot {
                        try await AppointmentMessages.cancel(appointment, reason: "appointment \(next.rawValue)", jobs: services.jobs, now: now, on: db)
                    }
                }
                if let notes = change.notes { appointment.notes = notes }
                appointment.updatedAt = now
                try await store.update(appointment, on: db)
                try await CalendarSync.enqueue(appointment, jobs: services.jobs, now: now, on: db)
                try await EventLog(engine: services.database.engine).append(events, tenantId: tenant.id, on: db, now: now)
                try await services.audit.append(AuditEntry(
                    tenantId: tenant.id, actor: actor, action: "appointment.updated", targetType: "appointment",
                    targetId: appointment.id, details: details
                ), on: db, now: now)
                return appointment
            }
        } catch where ConstraintViolation.isUnique(error) {
            throw Self.slotTaken
        }
    }
}
