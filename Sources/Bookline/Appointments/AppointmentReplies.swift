import BooklineCore
import Foundation
import SQLKit

/// SMS replies that act on a lead's next appointment: CONFIRM confirms it; CANCEL cancels it
/// and frees the slot. A bare CANCEL is also a carrier opt-out word, so it opts the number out
/// as well (the caller does that); the appointment is cancelled either way. The change writes
/// appointment_confirmed / appointment_cancelled, and the tenant's owners get an email.
struct AppointmentReplies: Sendable {
    let services: AppServices

    /// Whether this inbound text asks to cancel (CANCEL alone, or CANCEL and more words).
    static func isCancel(_ body: String, keyword: InboundKeyword) -> Bool {
        keyword == .cancel || (keyword == .stop && body.lowercased().split { !$0.isLetter } == ["cancel"])
    }

    /// Acts on the reply and returns what to answer, or nil when there is nothing to act on.
    func handle(body: String, keyword: InboundKeyword, lead: Lead, tenant: Tenant) async throws -> String? {
        let cancel = Self.isCancel(body, keyword: keyword)
        guard keyword == .confirm || cancel else { return nil }
        let now = services.now()
        let upcoming = try await AppointmentStore().list(
            tenantId: tenant.id, filter: .init(from: now, leadId: lead.id), limit: 10, on: services.database.sql
        ).first { $0.status.holdsSlot }
        guard let appointment = upcoming else {
            return cancel ? nil : "We couldn't find an upcoming appointment to confirm. Call us if you need help."
        }
        let change = cancel
            ? AppointmentService.Change(status: .cancelled, cancelReason: "Cancelled by SMS reply")
            : AppointmentService.Change(status: .confirmed)
        let updated = try await AppointmentService(services: services).change(tenant: tenant, id: appointment.id, change, actor: .system("sms"))
        let zone = TimeZone(identifier: tenant.timezone) ?? TimeZone(identifier: "UTC")!
        let service = try await ScheduleStore().service(tenantId: tenant.id, id: updated.serviceId, on: services.database.sql)
        let when = "\(service?.name ?? "appointment") on \(AppointmentMessages.day(updated.startsAt, zone)) at \(AppointmentMessages.wallClock(updated.startsAt, zone))"
        services.logger.info("[SMS] appointment \(cancel ? "cancelled" : "confirmed") by reply", metadata: ["appointment_id": "\(updated.id)"])
        try await notifyOwners(tenant: tenant, appointmentId: updated.id, status: updated.status, when: when, now: now)
        return cancel ? "Your \(when) with \(tenant.businessName) is cancelled." : "Thanks, your \(when) with \(tenant.businessName) is confirmed."
    }

    /// An email to each owner through the outbox (so it retries and shows in the message log).
    /// It names the appointment, not the person: nothing in it outlives an erasure.
    private func notifyOwners(tenant: Tenant, appointmentId: String, status: AppointmentStatus, when: String, now: Date) async throws {
        let owners = try await services.database.sql.raw("""
            SELECT users.id, users.email FROM users JOIN memberships ON memberships.user_id = users.id
            WHERE memberships.tenant_id = \(bind: tenant.id) AND memberships.role = 'owner' ORDER BY users.id
            """).all()
        let verb = status == .cancelled ? "cancelled" : "confirmed"
        for owner in owners {
            let userId = try owner.decode(column: "id", as: String.self)
            let request = MessageRequest(
                channel: .email, to: try owner.decode(column: "email", as: String.self),
                body: "A client \(verb) their \(when) by replying to a reminder.\n\nAppointment: \(appointmentId)\n"
                    + (status == .cancelled ? "The slot is free again.\n" : ""),
                subject: "Appointment \(verb): \(when)",
                dedupeKey: "owner-notice:\(appointmentId):\(verb):\(userId)"
            )
            _ = try await MessageService(services: services).enqueue(request, tenant: tenant, actor: .system("sms"), now: now)
        }
    }
}
