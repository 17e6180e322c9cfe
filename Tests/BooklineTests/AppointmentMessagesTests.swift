import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Appointment confirmations, reminders and CONFIRM / CANCEL replies")
struct AppointmentMessagesTests {
    static let friday = "2026-10-23T08:00:00Z" // 09:00 BST

    static func messages(_ client: any TestClientProtocol, key: String) async throws -> [[String: Any]] {
        (try await client.request(.get, "/api/messages?limit=200", key: key).json()["items"] as? [[String: Any]] ?? []).reversed()
    }

    static func pendingKinds(_ services: AppServices) async throws -> [String] {
        try await services.database.sql.raw("SELECT payload FROM jobs WHERE kind = 'appointment.message' AND status = 'pending' ORDER BY run_at").all()
            .map { try $0.decode(column: "payload", as: String.self) }
            .compactMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8))["message"] }
    }

    @Test func aBookingIsConfirmedAtOnceAndRemindedADayAndAnHourBefore() async throws {
        let clock = TestClock(AppointmentTests.now)
        try await withApp(now: clock.closure) { client, services in
            let (tenant, service, _) = try await AppointmentTests.setUp(client, services, leads: 0)
            let lead = try await client.createLead(#"{"phone": "07400 100321", "name": "Ada", "email": "ada@example.com"}"#, key: tenant.key)
            let booked = try await AppointmentTests.book(client, key: tenant.key, lead: lead["id"] as! String, service: service, start: Self.friday)
            #expect(booked.status == .created)
            #expect(try await Self.pendingKinds(services) == ["confirmation", "reminder_24h", "reminder_1h"])
            let worker = JobWorker(services: services, concurrency: 8)
            #expect(try await worker.runOnce() == 2) // the confirmation and the calendar sync
            let confirmation = try await Self.messages(client, key: tenant.key)
            let errors = try await services.database.sql.raw("SELECT last_error FROM jobs WHERE last_error IS NOT NULL").all()
                .map { try $0.decode(column: "last_error", as: String.self) }
            #expect(errors.isEmpty)
            #expect(Set(confirmation.map { "\($0["channel"]!) \($0["template"]!)" }) == ["sms booking_confirmation", "email booking_confirmation"])
            #expect(confirmation.first { $0["channel"] as? String == "sms" }?["body"] as? String ==
                    "Hi Ada, you're booked with Smile Dental for Check-up on Friday 23 October at 09:00. Reply CONFIRM to confirm or CANCEL to cancel.")
            // Running the same job again (a crash after sending) queues nothing new.
            let jobId = try await services.database.sql.raw("SELECT id FROM jobs WHERE kind = 'appointment.message' AND status = 'done'").first()!
                .decode(column: "id", as: String.self)
            _ = try await services.database.sql.raw("UPDATE jobs SET status = 'pending' WHERE id = \(bind: jobId)").run()
            #expect(try await worker.runOnce() == 1)
            #expect(try await Self.messages(client, key: tenant.key).count == 2)

            clock.advance(by: 86_400 * 2 - 4 * 3600) // Thursday 08:00Z: the 24-hour reminder is due
            #expect(try await worker.runOnce() == 1)
            #expect(try await Self.messages(client, key: tenant.key).last?["template"] as? String == "reminder_24h")
            clock.advance(by: 23 * 3600) // Friday 07:00Z
            #expect(try await worker.runOnce() == 1)
            let all = try await Self.messages(client, key: tenant.key)
            #expect(all.map { $0["template"] as? String } == ["booking_confirmation", "booking_confirmation", "reminder_24h", "reminder_24h",
                                                                "reminder_1h", "reminder_1h"])
            let lastSMS = all.last { $0["channel"] as? String == "sms" }
            #expect(lastSMS?["body"] as? String == "See you soon, Ada: Check-up with Smile Dental at 09:00.")
        }
    }

    @Test func movedAppointmentsGetNewRemindersAndCancelledOrOptedOutOnesNone() async throws {
        let clock = TestClock(AppointmentTests.now)
        try await withApp(now: clock.closure) { client, services in
            let (tenant, service, leads) = try await AppointmentTests.setUp(client, services, leads: 2)
            let first = try await AppointmentTests.book(client, key: tenant.key, lead: leads[0], service: service, start: Self.friday).json()
            let id = first["id"] as! String
            _ = try await client.request(.patch, "/api/appointments/\(id)", key: tenant.key, json: #"{"start": "2026-10-23T09:00:00Z"}"#)
            let jobs = try await services.database.sql.raw("""
                SELECT status, idempotency_key FROM jobs WHERE kind = 'appointment.message' ORDER BY idempotency_key
                """).all().map { "\(try $0.decode(column: "status", as: String.self)) \(try $0.decode(column: "idempotency_key", as: String.self).split(separator: ":").suffix(2).joined(separator: ":"))" }
            #expect(jobs == ["cancelled 1792742400:confirmation", "cancelled 1792742400:reminder_1h", "cancelled 1792742400:reminder_24h",
                             "pending 1792746000:confirmation", "pending 1792746000:reminder_1h", "pending 1792746000:reminder_24h"])
            _ = try await client.request(.patch, "/api/appointments/\(id)", key: tenant.key,
                                         json: #"{"status": "cancelled", "cancelReason": "Away"}"#)
            #expect(try await Self.pendingKinds(services).isEmpty)

            // An opted-out lead's reminder is a blocked row, never sent.
            let second = try await AppointmentTests.book(client, key: tenant.key, lead: leads[1], service: service, start: Self.friday)
            #expect(second.status == .created)
            let phone = try await client.request(.get, "/api/leads/\(leads[1])", key: tenant.key).json()["phone"] as! String
            _ = try await client.request(.post, "/api/opt-outs", key: tenant.key, json: #"{"phone": "\#(phone)", "reason": "request"}"#)
            _ = try await JobWorker(services: services, concurrency: 8).runOnce()
            let sent = try await Self.messages(client, key: tenant.key)
            #expect(sent.map { "\($0["status"]!) \($0["reason"] ?? "-")" } == ["blocked opted_out"])
        }
    }

    @Test func confirmAndCancelRepliesActOnTheNextAppointment() async throws {
        let clock = TestClock(AppointmentTests.now)
        try await withApp(configure: TwilioWebhookTests.configure, now: clock.closure) { client, services in
            let (tenant, service, leads) = try await AppointmentTests.setUp(client, services, leads: 2)
            let a = try await AppointmentTests.book(client, key: tenant.key, lead: leads[0], service: service, start: Self.friday).json()
            let phone = try await client.request(.get, "/api/leads/\(leads[0])", key: tenant.key).json()["phone"] as! String
            let path = "/webhooks/twilio/\(tenant.id)/sms"
            func reply(_ sid: String, _ body: String, from: String) async throws -> String {
                try await TwilioWebhookTests.post(client, path, [("MessageSid", sid), ("From", from), ("Body", body)],
                                                  token: TwilioWebhookTests.platformToken, services: services).text
            }
            let confirmed = try await reply("SM100", "Confirm", from: phone)
            #expect(confirmed.contains("<Message>Thanks, your Check-up on Friday 23 October at 09:00 with Smile Dental is confirmed.</Message>"))
            #expect(try await client.request(.get, "/api/appointments/\(a["id"] as! String)", key: tenant.key).json()["status"] as? String == "confirmed")

            let cancelled = try await reply("SM101", "cancel appointment please", from: phone)
            #expect(cancelled.contains("is cancelled.</Message>"))
            let after = try await client.request(.get, "/api/appointments/\(a["id"] as! String)", key: tenant.key).json()
            #expect(after["status"] as? String == "cancelled" && after["cancelReason"] as? String == "Cancelled by SMS reply")
            #expect(try await !services.optOuts.isOptedOut(tenantId: tenant.id, phone: phone))
            // The freed slot can be booked again.
            #expect(try await AppointmentTests.book(client, key: tenant.key, lead: leads[1], service: service, start: Self.friday).status == .created)

            // A bare CANCEL cancels and, as a carrier opt-out word, opts the number out too.
            let phone2 = try await client.request(.get, "/api/leads/\(leads[1])", key: tenant.key).json()["phone"] as! String
            let bare = try await reply("SM102", "CANCEL", from: phone2)
            #expect(bare.contains("is cancelled. You're unsubscribed from Smile Dental messages."))
            #expect(try await services.optOuts.isOptedOut(tenantId: tenant.id, phone: phone2))
            let events = try await services.eventTypes(tenantId: tenant.id).filter { $0.hasPrefix("appointment_") }
            #expect(events == ["appointment_booked", "appointment_confirmed", "appointment_cancelled", "appointment_booked", "appointment_cancelled"])
            // The owner hears of each reply by email, without the client's details.
            let notices = try await Self.messages(client, key: tenant.key).filter { $0["to"] as? String == tenant.ownerEmail }
            #expect(notices.compactMap { $0["subject"] as? String }.sorted() == [
                "Appointment cancelled: Check-up on Friday 23 October at 09:00",
                "Appointment cancelled: Check-up on Friday 23 October at 09:00",
                "Appointment confirmed: Check-up on Friday 23 October at 09:00",
            ])
            #expect(notices.allSatisfy { $0["channel"] as? String == "email" && $0["leadId"] == nil })
            #expect(!notices.contains { ($0["body"] as? String)?.contains(phone) == true })
            // Nothing upcoming: CONFIRM says so.
            #expect(try await reply("SM103", "CONFIRM", from: phone).contains("couldn't find an upcoming appointment"))
        }
    }

    @Test func theSafetySweepRequeuesLostReminders() async throws {
        let clock = TestClock(AppointmentTests.now)
        try await withApp(now: clock.closure) { client, services in
            let (tenant, service, leads) = try await AppointmentTests.setUp(client, services, leads: 1)
            // Wednesday 09:00 BST is 20 hours away: only the 1-hour reminder is still ahead.
            #expect(try await AppointmentTests.book(client, key: tenant.key, lead: leads[0], service: service, start: "2026-10-21T08:00:00Z").status == .created)
            #expect(try await Self.pendingKinds(services) == ["confirmation", "reminder_1h"])
            _ = try await services.database.sql.raw("DELETE FROM jobs WHERE kind = 'appointment.message' AND payload LIKE '%reminder_1h%'").run()
            _ = try await services.database.transaction { db in
                try await services.jobs.enqueue(NewJob(kind: "appointments.reminder_sweep", runAt: clock.now), now: clock.now, on: db)
            }
            let worker = JobWorker(services: services, concurrency: 8)
            _ = try await worker.runOnce() // the confirmation, the calendar sync and the sweep
            #expect(try await Self.pendingKinds(services) == ["reminder_1h"])
            // Sweeping again changes nothing.
            _ = try await services.database.transaction { db in
                try await services.jobs.enqueue(NewJob(kind: "appointments.reminder_sweep", runAt: clock.now), now: clock.now, on: db)
            }
            _ = try await worker.runOnce()
            #expect(try await Self.pendingKinds(services) == ["reminder_1h"])
        }
    }
}
