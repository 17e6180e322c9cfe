import Bookline
import BooklineCore
import Foundation
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Follow-up sequences after calls")
struct FollowUpTests {
    static let tuesday10am = Date(timeIntervalSince1970: 1_792_486_800) // 2026-10-20T09:00:00Z = 10:00 BST

    /// Pending follow-up steps as "channel +offset" from `from`, in order.
    static func timetable(_ services: AppServices, from: Date) async throws -> [String] {
        try await services.database.sql.raw("""
            SELECT payload, run_at FROM jobs WHERE kind = 'followup.step' AND status = 'pending' ORDER BY run_at
            """).all().map { row in
            let payload = try JSONDecoder().decode([String: String].self, from: Data(try row.decode(column: "payload", as: String.self).utf8))
            let offset = Int(try row.decode(column: "run_at", as: Date.self).timeIntervalSince(from))
            let text = offset == 0 ? "0m" : offset % 86_400 == 0 ? "\(offset / 86_400)d" : offset % 3600 == 0 ? "\(offset / 3600)h" : "\(offset / 60)m"
            return "\(payload["channel"]!) +\(text)"
        }
    }

    static func call(_ client: any TestClientProtocol, key: String, phone: String, outcome: String, at: Date, id: String) async throws {
        let response = try await client.request(.post, "/api/calls", key: key, json: """
            {"phone": "\(phone)", "startedAt": "\(at.addingTimeInterval(-120).formatted(.iso8601))", "outcome": "\(outcome)", "externalId": "\(id)"}
            """)
        guard response.status == .created else { throw JSONShapeError(text: response.text) }
    }

    static let expected: [(String, [String])] = [
        ("no_answer", ["sms +2h", "email +6h", "call +1d", "sms +2d", "email +4d", "call +7d"]),
        ("voicemail", ["sms +30m", "email +4h", "call +1d", "sms +3d", "email +7d"]),
        ("not_interested", ["email +7d", "sms +30d"]),
        ("callback", ["sms +0m", "sms +1d"]),
        ("interested", ["email +2h", "sms +6h", "call +1d", "email +3d", "sms +5d", "call +7d"]),
        ("booked", []),
    ]

    @Test(arguments: expected)
    func eachOutcomeHasItsTimetable(outcome: String, steps: [String]) async throws {
        let clock = TestClock(Self.tuesday10am)
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            _ = try await client.createLead(#"{"phone": "07400 100500"}"#, key: tenant.key)
            try await Self.call(client, key: tenant.key, phone: "07400100500", outcome: outcome, at: clock.now, id: "c-1")
            #expect(try await Self.timetable(services, from: clock.now) == steps)
        }
    }

    @Test func quietHoursMoveStepsToTheMorning() async throws {
        let clock = TestClock(Self.tuesday10am.addingTimeInterval(10 * 3600)) // 20:00 BST
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            _ = try await client.createLead(#"{"phone": "07400 100501"}"#, key: tenant.key)
            try await Self.call(client, key: tenant.key, phone: "07400100501", outcome: "no_answer", at: clock.now, id: "c-1")
            // 22:00 and 02:00 BST fall in quiet hours (21:00-08:00): both move to 08:00 BST, 12 hours on.
            #expect(try await Self.timetable(services, from: clock.now).prefix(2) == ["sms +12h", "email +12h"])
        }
    }

    @Test func stepsSendTemplatesRecordCallTasksAndStopWhenTheLeadBooks() async throws {
        let clock = TestClock(Self.tuesday10am)
        try await withApp(now: clock.closure) { client, services in
            let (tenant, service, _) = try await AppointmentTests.setUp(client, services, leads: 0)
            let lead = try await client.createLead(#"{"phone": "07400 100502", "name": "Bo"}"#, key: tenant.key)
            let leadId = lead["id"] as! String
            try await Self.call(client, key: tenant.key, phone: "07400100502", outcome: "no_answer", at: clock.now, id: "c-1")
            let worker = JobWorker(services: services, concurrency: 8)
            clock.advance(by: 2 * 3600)
            #expect(try await worker.runOnce() == 1)
            let sms = try await client.request(.get, "/api/messages", key: tenant.key).json()["items"] as? [[String: Any]] ?? []
            #expect(sms.map { $0["template"] as? String } == ["follow_up_no_answer"])
            #expect((sms.first?["body"] as? String)?.hasPrefix("Hi Bo") == true)
            clock.advance(by: 4 * 3600) // the email step: Bo has no address, so it is skipped
            #expect(try await worker.runOnce() == 1)
            clock.advance(by: 18 * 3600) // the call step
            #expect(try await worker.runOnce() == 1)
            #expect(try await services.eventTypes(tenantId: tenant.id).contains("call_task_created"))
            #expect(try await client.request(.get, "/api/messages", key: tenant.key).json()["items"].map { ($0 as! [Any]).count } == 1)

            // Booking stops the rest of the sequence at once.
            #expect(try await Self.timetable(services, from: clock.now).count == 3)
            let booked = try await AppointmentTests.book(client, key: tenant.key, lead: leadId, service: service, start: "2026-10-23T08:00:00Z")
            #expect(booked.status == .created)
            #expect(try await Self.timetable(services, from: clock.now).isEmpty)
        }
    }

    @Test func aNewerCallReplacesTheSequenceAndOptingOutStopsIt() async throws {
        let clock = TestClock(Self.tuesday10am)
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let lead = try await client.createLead(#"{"phone": "07400 100503"}"#, key: tenant.key)
            try await Self.call(client, key: tenant.key, phone: "07400100503", outcome: "no_answer", at: clock.now, id: "c-1")
            clock.advance(by: 600)
            try await Self.call(client, key: tenant.key, phone: "07400100503", outcome: "callback", at: clock.now, id: "c-2")
            #expect(try await Self.timetable(services, from: clock.now) == ["sms +0m", "sms +1d"])
            _ = try await client.request(.post, "/api/leads/\(lead["id"] as! String)/status", key: tenant.key, json: #"{"status": "opted_out"}"#)
            #expect(try await Self.timetable(services, from: clock.now).isEmpty)
            #expect(try await JobWorker(services: services, concurrency: 8).runOnce() == 0)
        }
    }

    /// A STOP reply or an opt-out through the API ends the sequence at once; a platform-wide
    /// opt-out (which leaves the lead's status alone) ends it when the next step comes due,
    /// and that step neither messages nor records a call task.
    @Test func optOutsStopTheSequence() async throws {
        let clock = TestClock(Self.tuesday10am)
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            _ = try await client.createLead(#"{"phone": "07400 100505"}"#, key: tenant.key)
            try await Self.call(client, key: tenant.key, phone: "07400100505", outcome: "no_answer", at: clock.now, id: "c-1")
            #expect(try await Self.timetable(services, from: clock.now).count == 6)
            let added = try await client.request(.post, "/api/opt-outs", key: tenant.key, json: #"{"phone": "07400 100505", "reason": "sms_stop"}"#)
            #expect(added.status == .created)
            #expect(try await Self.timetable(services, from: clock.now).isEmpty)

            let lead = try await client.createLead(#"{"phone": "07400 100506"}"#, key: tenant.key)
            try await Self.call(client, key: tenant.key, phone: "07400100506", outcome: "interested", at: clock.now, id: "c-2")
            let admin = try await services.makePlatformUser(role: .platformAdmin)
            let token = try await login(client, email: admin.email, password: admin.password)
            let global = try await client.request(.post, "/api/admin/opt-outs", key: token, json: #"{"phone": "+447400100506"}"#)
            #expect(global.status == .created)
            #expect(try await client.request(.get, "/api/leads/\(lead["id"] as! String)", key: tenant.key).json()["status"] as? String != "opted_out")
            clock.advance(by: 86_400 + 60)  // the email (+2h), SMS (+6h) and call (+1d) steps are due
            _ = try await JobWorker(services: services, concurrency: 8).runOnce()
            #expect(try await Self.timetable(services, from: clock.now).isEmpty)
            let sent = try await services.database.sql.raw("SELECT COUNT(*) AS n FROM messages WHERE lead_id = \(bind: lead["id"] as! String) AND status <> 'blocked'")
                .first()?.decode(column: "n", as: Int.self)
            #expect(sent == 0)
            let tasks = try await services.database.sql.raw("SELECT COUNT(*) AS n FROM events WHERE type = 'call_task_created'")
                .first()?.decode(column: "n", as: Int.self)
            #expect(tasks == 0)
        }
    }

    @Test func aTenantsOwnSequenceReplacesThePlatformsUntilReset() async throws {
        let clock = TestClock(Self.tuesday10am)
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let shown = try await client.request(.get, "/api/settings/followups", key: tenant.key).json()
            #expect((shown["sequences"] as? [String: [[String: String]]])?["callback"] == [["channel": "sms", "after": "0m"], ["channel": "sms", "after": "1d"]])
            let saved = try await client.request(.put, "/api/settings/followups", key: tenant.key,
                                                 json: #"{"sequences": {"no_answer": [{"channel": "sms", "after": "1h"}], "voicemail": []}}"#).json()
            #expect(saved["overridden"] as? [String] == ["no_answer", "voicemail"])
            _ = try await client.createLead(#"{"phone": "07400 100504"}"#, key: tenant.key)
            try await Self.call(client, key: tenant.key, phone: "07400100504", outcome: "no_answer", at: clock.now, id: "c-1")
            #expect(try await Self.timetable(services, from: clock.now) == ["sms +1h"])

            let reset = try await client.request(.put, "/api/settings/followups", key: tenant.key, json: #"{"sequences": {"no_answer": null}}"#).json()
            #expect(reset["overridden"] as? [String] == ["voicemail"])
            let bad = try await client.request(.put, "/api/settings/followups", key: tenant.key,
                                               json: #"{"sequences": {"maybe": [], "busy": [{"channel": "fax", "after": "2w"}]}}"#)
            let fields = Set((try bad.problem()["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
            #expect(fields == ["sequences.maybe", "sequences.busy[0].channel", "sequences.busy[0].after"])
            #expect(try await services.auditActions(tenantId: tenant.id).filter { $0 == "followups.updated" }.count == 2)
        }
    }
}
