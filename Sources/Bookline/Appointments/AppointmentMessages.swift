import BooklineCore
import Foundation
import SQLKit

/// The messages an appointment sends: a confirmation at once, reminders 24 hours and 1 hour
/// before, by SMS and (when the lead has an address) email. Each is a job keyed by the
/// appointment, its start time and the kind, so a move schedules fresh ones (the old keys are
/// cancelled) and nothing is queued twice. When it runs, a job that no longer applies (the
/// appointment was cancelled or moved, or its time has passed) does nothing.
enum AppointmentMessages {
    static let kind = "appointment.message"

    static func keyPrefix(_ appointmentId: String) -> String { "appt:\(appointmentId):" }

    static func key(_ appointment: Appointment, _ message: String) -> String {
        "\(keyPrefix(appointment.id))\(Int(appointment.startsAt.timeIntervalSince1970)):\(message)"
    }

    static let templates = ["confirmation": "booking_confirmation", "reminder_24h": "reminder_24h", "reminder_1h": "reminder_1h"]

    /// Queues the confirmation and the reminders still in the future, in the booking's transaction.
    static func schedule(_ appointment: Appointment, jobs: JobQueue, now: Date, on db: any SQLDatabase) async throws {
        let plan: [(String, Date)] = [
            ("confirmation", now),
            ("reminder_24h", appointment.startsAt.addingTimeInterval(-86_400)),
            ("reminder_1h", appointment.startsAt.addingTimeInterval(-3600)),
        ]
        for (message, runAt) in plan where message == "confirmation" || runAt > now {
            try await jobs.enqueue(NewJob(
                kind: kind, tenantId: appointment.tenantId,
                payload: ["appointment_id": appointment.id, "message": message,
                          "starts_at": String(Int(appointment.startsAt.timeIntervalSince1970))],
                runAt: runAt, idempotencyKey: key(appointment, message)
            ), now: now, on: db)
        }
    }

    /// Drops the appointment's messages that have not gone yet.
    static func cancel(_ appointment: Appointment, reason: String, jobs: JobQueue, now: Date, on db: any SQLDatabase) async throws {
        try await jobs.store.cancelPending(keyPrefix: keyPrefix(appointment.id), reason: reason, now: now, on: db)
    }

    static var handler: JobHandler {
        JobHandler(kind: kind) { job, context in try await send(job, context) }
    }

    static func send(_ job: Job, _ context: JobContext) async throws {
        let services = context.services
        let db = services.database.sql
        guard let tenantId = job.tenantId, let id = job.payload["appointment_id"], let message = job.payload["message"],
              let template = templates[message] else { throw PermanentJobFailure("malformed appointment message job") }
        guard let tenant = try await services.tenants.find(id: tenantId), tenant.status == .active,
              let appointment = try await AppointmentStore().find(tenantId: tenantId, id: id, on: db)
        else { return skip(job, "appointment or tenant gone", services) }
        guard appointment.status.holdsSlot else { return skip(job, "appointment \(appointment.status.rawValue)", services) }
        guard job.payload["starts_at"] == String(Int(appointment.startsAt.timeIntervalSince1970)) else {
            return skip(job, "appointment moved", services)
        }
        guard message == "confirmation" || services.now() < appointment.startsAt else { return skip(job, "time passed", services) }
        guard let lead = try await LeadStore().find(tenantId: tenantId, id: appointment.leadId, on: db) else {
            return skip(job, "lead gone", services)
        }
        let service = try await ScheduleStore().service(tenantId: tenantId, id: appointment.serviceId, on: db)
        let zone = TimeZone(identifier: tenant.timezone) ?? TimeZone(identifier: "UTC")!
        var variables = [
            "name": lead.name ?? "there", "service": service?.name ?? "appointment", "time": wallClock(appointment.startsAt, zone),
            "business_phone": try await businessPhone(tenantId: tenantId, services: services),
        ]
        if template != "reminder_1h" { variables["date"] = day(appointment.startsAt, zone) }
        var channels: [MessageChannel] = [.sms]
        if lead.email != nil { channels.append(.email) }
        for channel in channels {
            _ = try await MessageService(services: services).enqueue(
                MessageRequest(channel: channel, leadId: lead.id, template: template, variables: variables,
                               dedupeKey: "\(job.idempotencyKey ?? job.id):\(channel.rawValue)"),
                tenant: tenant, actor: .system("scheduler"), now: services.now()
            )
        }
        services.logger.info("[REMINDER] \(message) queued", metadata: ["appointment_id": "\(appointment.id)", "tenant_id": "\(tenantId)"])
    }

    static func skip(_ job: Job, _ reason: String, _ services: AppServices) {
        services.logger.info("[REMINDER] skipped: \(reason)", metadata: ["job_id": "\(job.id)", "message": "\(job.payload["message"] ?? "")"])
    }

    static func wallClock(_ date: Date, _ zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
    }

    /// "Wednesday 21 October".
    static func day(_ date: Date, _ zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.weekday, .day, .month], from: date)
        let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        return "\(weekdays[(parts.weekday ?? 1) - 1]) \(parts.day ?? 1) \(months[(parts.month ?? 1) - 1])"
    }

    /// The number people should call: the one the business gave at sign-up, else its SMS sender.
    static func businessPhone(tenantId: String, services: AppServices) async throws -> String {
        let db = services.database.sql
        if let text = try await db.raw("SELECT settings FROM tenants WHERE id = \(bind: tenantId)").first()?.decode(column: "settings", as: String?.self),
           let phone = (try? JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8)))?["contactPhone"]?.string {
            return phone
        }
        let messaging = try await MessagingSettingsStore().find(tenantId: tenantId, on: db)
        return messaging.twilioFromNumber ?? services.config.twilio.fromNumber ?? "the number you booked with"
    }

    /// The five-minute safety sweep: every upcoming appointment of the next 25 hours has its
    /// reminders queued (a no-op for each that already is), whatever happened to the original jobs.
    static func sweep(_ context: JobContext) async throws {
        let services = context.services
        let now = services.now()
        let upcoming = try await services.database.sql.raw("""
            SELECT * FROM appointments WHERE status IN ('booked', 'confirmed')
              AND starts_at > \(bind: now) AND starts_at <= \(bind: now.addingTimeInterval(25 * 3600))
            """).all().map(AppointmentStore.decode)
        for appointment in upcoming {
            try await services.database.transaction { db in
                for (message, runAt) in [("reminder_24h", appointment.startsAt.addingTimeInterval(-86_400)),
                                         ("reminder_1h", appointment.startsAt.addingTimeInterval(-3600))] where runAt > now.addingTimeInterval(-300) {
                    try await services.jobs.enqueue(NewJob(
                        kind: kind, tenantId: appointment.tenantId,
                        payload: ["appointment_id": appointment.id, "message": message,
                                  "starts_at": String(Int(appointment.startsAt.timeIntervalSince1970))],
                        runAt: max(runAt, now), idempotencyKey: key(appointment, message)
                    ), now: now, on: db)
                }
            }
        }
    }
}
