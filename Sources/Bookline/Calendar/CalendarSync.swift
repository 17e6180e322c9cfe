import BooklineCore
import Foundation
import SQLKit

/// Mirrors appointments into the tenant's calendar through jobs (so a slow or failing calendar
/// never holds up a booking, and retries with backoff). Each job syncs the appointment's
/// current state: held slots become (or update) an event; anything else removes it.
enum CalendarSync {
    static let kind = "calendar.sync"

    static func enqueue(_ appointment: Appointment, jobs: JobQueue, now: Date, on db: any SQLDatabase) async throws {
        try await jobs.enqueue(NewJob(
            kind: kind, tenantId: appointment.tenantId, payload: ["appointment_id": appointment.id], runAt: now,
            idempotencyKey: "cal:\(appointment.id):\(appointment.status.rawValue):\(Int(appointment.startsAt.timeIntervalSince1970)):\(appointment.serviceId)"
        ), now: now, on: db)
    }

    static var handler: JobHandler {
        JobHandler(kind: kind, policy: JobPolicy(maxAttempts: 5, backoff: [60, 300, 1800, 3600], timeout: .seconds(60))) { job, context in
            try await sync(job, context)
        }
    }

    static func sync(_ job: Job, _ context: JobContext) async throws {
        let services = context.services
        let db = services.database.sql
        guard let tenantId = job.tenantId, let id = job.payload["appointment_id"] else { throw PermanentJobFailure("malformed calendar job") }
        guard let appointment = try await AppointmentStore().find(tenantId: tenantId, id: id, on: db) else { return }
        let eventId = try await db.raw("SELECT calendar_event_id FROM appointments WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)")
            .first()?.decode(column: "calendar_event_id", as: String?.self)
        let calendar = try await services.calendar(for: tenantId)
        if appointment.status.holdsSlot {
            let service = try await ScheduleStore().service(tenantId: tenantId, id: appointment.serviceId, on: db)
            let lead = try await LeadStore().find(tenantId: tenantId, id: appointment.leadId, on: db)
            let event = CalendarEvent(
                summary: "\(service?.name ?? "Appointment"): \(lead?.name ?? lead?.phone ?? "lead")",
                description: "Booked through Bookline (appointment \(appointment.id)).\(appointment.notes.map { "\n\($0)" } ?? "")",
                start: appointment.startsAt, end: appointment.endsAt
            )
            let saved = try await calendar.upsert(event, existingId: eventId)
            try await db.raw("UPDATE appointments SET calendar_event_id = \(bind: saved) WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)").run()
        } else if let eventId {
            try await calendar.delete(eventId: eventId)
            try await db.raw("UPDATE appointments SET calendar_event_id = NULL WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)").run()
        }
    }
}
