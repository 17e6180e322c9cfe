import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite("Appointments: services, hours, availability, booking without double-booking")
struct AppointmentTests {
    static let now = Date(timeIntervalSince1970: 1_792_497_600) // Tue 2026-10-20T12:00:00Z
    static let hours = #"""
    {"weekly": {"monday": [{"opens": "09:00", "closes": "12:00"}], "tuesday": [{"opens": "09:00", "closes": "12:00"}],
                "wednesday": [{"opens": "09:00", "closes": "12:00"}], "thursday": [{"opens": "09:00", "closes": "12:00"}],
                "friday": [{"opens": "09:00", "closes": "12:00"}, {"opens": "13:00", "closes": "14:00"}]},
     "closed": [{"date": "2026-10-22", "reason": "Staff training"}], "slotStepMinutes": 30}
    """#

    /// A tenant with hours, a 60-minute check-up and `leads` leads; returns (tenant, service id, lead ids).
    static func setUp(_ client: any TestClientProtocol, _ services: AppServices, leads: Int = 1) async throws -> (TestTenant, String, [String]) {
        let tenant = try await services.makeTenant()
        let saved = try await client.request(.put, "/api/settings/hours", key: tenant.key, json: hours)
        guard saved.status == .ok else { throw JSONShapeError(text: saved.text) }
        let service = try await client.request(.post, "/api/services", key: tenant.key,
                                               json: #"{"name": "Check-up", "durationMinutes": 60, "price": 4500}"#).json()
        var ids: [String] = []
        for index in 0..<leads {
            ids.append(try await client.createLead(#"{"phone": "0740010\#(String(format: "%04d", 1000 + index))"}"#, key: tenant.key)["id"] as! String)
        }
        return (tenant, service["id"] as! String, ids)
    }

    static func book(_ client: any TestClientProtocol, key: String, lead: String, service: String, start: String) async throws -> TestResponse {
        try await client.request(.post, "/api/appointments", key: key,
                                 json: #"{"leadId": "\#(lead)", "serviceId": "\#(service)", "start": "\#(start)"}"#)
    }

    static func starts(_ body: [String: Any]) -> [String] {
        (body["slots"] as? [[String: Any]] ?? []).compactMap { $0["start"] as? String }
    }

    @Test func availabilityFollowsHoursClosuresBookingsAndTheClockChange() async throws {
        let clock = TestClock(Self.now)
        try await withApp(now: clock.closure) { client, services in
            let (tenant, service, leads) = try await Self.setUp(client, services)
            // Fri 23 Oct (BST) and Mon 26 Oct (GMT): 09:00 local is 08:00Z and then 09:00Z.
            let friday = try await client.request(.get, "/api/availability?service=\(service)&from=2026-10-23&to=2026-10-23", key: tenant.key).json()
            #expect(Self.starts(friday) == ["2026-10-23T08:00:00Z", "2026-10-23T08:30:00Z", "2026-10-23T09:00:00Z",
                                            "2026-10-23T09:30:00Z", "2026-10-23T10:00:00Z", "2026-10-23T12:00:00Z"])
            let monday = try await client.request(.get, "/api/availability?service=\(service)&from=2026-10-26", key: tenant.key).json()
            #expect(Self.starts(monday).first == "2026-10-26T09:00:00Z")
            #expect(monday["timezone"] as? String == "Europe/London")
            // Closed on the 22nd; today's slots before noon are past (12:00Z = 13:00 BST).
            let week = try await client.request(.get, "/api/availability?service=\(service)&from=2026-10-20&to=2026-10-22", key: tenant.key).json()
            #expect(Self.starts(week).allSatisfy { $0.hasPrefix("2026-10-21") })

            let booked = try await Self.book(client, key: tenant.key, lead: leads[0], service: service, start: "2026-10-23T09:00:00Z")
            #expect(booked.status == .created)
            let after = try await client.request(.get, "/api/availability?service=\(service)&from=2026-10-23", key: tenant.key).json()
            #expect(Self.starts(after) == ["2026-10-23T08:00:00Z", "2026-10-23T10:00:00Z", "2026-10-23T12:00:00Z"])
        }
    }

    @Test func concurrentBookingsOfOneSlotHaveOneWinner() async throws {
        let clock = TestClock(Self.now)
        try await withApp(now: clock.closure) { client, services in
            let (tenant, service, leads) = try await Self.setUp(client, services, leads: 8)
            let statuses = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for (index, lead) in leads.enumerated() {
                    // Half ask for 09:00, half for 09:30 (overlapping the 09:00 hour).
                    let start = index % 2 == 0 ? "2026-10-21T08:00:00Z" : "2026-10-21T08:30:00Z"
                    group.addTask {
                        let response = try await Self.book(client, key: tenant.key, lead: lead, service: service, start: start)
                        return (Int(response.status.code), response.status == .created ? "" : (try response.problem()["type"] as? String ?? ""))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0.0 == 201 }.count == 1)
            #expect(statuses.filter { $0.0 == 409 }.allSatisfy { $0.1 == "urn:bookline:problem:slot-taken" })
            #expect(statuses.filter { $0.0 == 409 }.count == 7)
            #expect(try await services.countRows("appointments", tenantId: tenant.id) == 1)
            #expect(try await services.countRows("appointment_slots", tenantId: tenant.id) == 12)
        }
    }

    @Test func bookingsOutsideHoursInThePastOrOnClosedDaysAreRefused() async throws {
        let clock = TestClock(Self.now)
        try await withApp(now: clock.closure) { client, services in
            let (tenant, service, leads) = try await Self.setUp(client, services)
            for (start, message) in [
                ("2026-10-21T10:30:00Z", "is outside opening hours for a 60-minute Check-up"), // 11:30-12:30 BST
                ("2026-10-24T09:00:00Z", "is outside opening hours for a 60-minute Check-up"), // Saturday
                ("2026-10-22T09:00:00Z", "the business is closed on 2026-10-22 (Staff training)"),
                ("2026-10-20T08:00:00Z", "is in the past"),
                ("2026-10-21T08:07:00Z", "must be on a 5-minute boundary, e.g. 10:05 or 10:30"),
            ] {
                let response = try await Self.book(client, key: tenant.key, lead: leads[0], service: service, start: start)
                #expect(response.status == .unprocessableContent, "\(start)")
                #expect((try response.problem()["errors"] as? [[String: String]])?.first == ["field": "start", "message": message], "\(start)")
            }
            let missing = try await client.request(.post, "/api/appointments", key: tenant.key, json: "{}")
            let fields = Set((try missing.problem()["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
            #expect(fields == ["leadId", "serviceId", "start"])
            #expect(try await client.request(.post, "/api/appointments", key: tenant.key, json: #"{"start": 5}"#).status == .badRequest)
        }
    }

    @Test func rescheduleCancelAndStatusChangesFreeSlotsAndWriteEvents() async throws {
        let clock = TestClock(Self.now)
        try await withApp(now: clock.closure) { client, services in
            let (tenant, service, leads) = try await Self.setUp(client, services, leads: 2)
            let booked = try await Self.book(client, key: tenant.key, lead: leads[0], service: service, start: "2026-10-21T08:00:00Z").json()
            let id = booked["id"] as! String
            #expect(booked["end"] as? String == "2026-10-21T09:00:00Z")
            #expect(try await client.request(.get, "/api/leads/\(leads[0])", key: tenant.key).json()["status"] as? String == "booked")

            let confirmed = try await client.request(.patch, "/api/appointments/\(id)", key: tenant.key, json: #"{"status": "confirmed"}"#).json()
            #expect(confirmed["status"] as? String == "confirmed")
            let moved = try await client.request(.patch, "/api/appointments/\(id)", key: tenant.key, json: #"{"start": "2026-10-21T09:00:00Z"}"#).json()
            #expect(moved["start"] as? String == "2026-10-21T09:00:00Z")
            #expect(moved["status"] as? String == "booked") // moved: to be confirmed again
            // The old time is free for someone else; the new one is not.
            #expect(try await Self.book(client, key: tenant.key, lead: leads[1], service: service, start: "2026-10-21T08:00:00Z").status == .created)
            #expect(try await Self.book(client, key: tenant.key, lead: leads[1], service: service, start: "2026-10-21T09:30:00Z").status == .conflict)

            let noReason = try await client.request(.patch, "/api/appointments/\(id)", key: tenant.key, json: #"{"status": "cancelled"}"#)
            #expect((try noReason.problem()["errors"] as? [[String: String]])?.first?["field"] == "cancelReason")
            let cancelled = try await client.request(.patch, "/api/appointments/\(id)", key: tenant.key,
                                                     json: #"{"status": "cancelled", "cancelReason": "Feeling better"}"#).json()
            #expect(cancelled["cancelReason"] as? String == "Feeling better")
            #expect(try await Self.book(client, key: tenant.key, lead: leads[1], service: service, start: "2026-10-21T09:30:00Z").status == .created)
            let reopen = try await client.request(.patch, "/api/appointments/\(id)", key: tenant.key, json: #"{"status": "booked"}"#)
            #expect(reopen.status == .conflict)
            #expect(try reopen.problem()["detail"] as? String == "An appointment cannot move from cancelled to booked.")

            let events = try await services.eventTypes(tenantId: tenant.id).filter { $0.hasPrefix("appointment_") }
            #expect(events == ["appointment_booked", "appointment_confirmed", "appointment_rescheduled", "appointment_booked",
                               "appointment_cancelled", "appointment_booked"])
            let list = try await client.request(.get, "/api/appointments?from=2026-10-21T00:00:00Z&status=booked&limit=1", key: tenant.key).json()
            #expect((list["items"] as? [[String: Any]])?.map { $0["start"] as? String } == ["2026-10-21T08:00:00Z"])
            let cursor = try #require(list["nextCursor"] as? String)
            let next = try await client.request(.get, "/api/appointments?status=booked&limit=1&cursor=\(cursor)", key: tenant.key).json()
            #expect((next["items"] as? [[String: Any]])?.map { $0["start"] as? String } == ["2026-10-21T09:30:00Z"])
            #expect(next["nextCursor"] == nil)
        }
    }

    @Test func anotherTenantsAppointmentsServicesAndLeadsAreNotFound() async throws {
        let clock = TestClock(Self.now)
        try await withApp(now: clock.closure) { client, services in
            let (a, serviceA, leadsA) = try await Self.setUp(client, services)
            let (b, serviceB, leadsB) = try await Self.setUp(client, services)
            let booked = try await Self.book(client, key: a.key, lead: leadsA[0], service: serviceA, start: "2026-10-21T08:00:00Z").json()
            let id = booked["id"] as! String
            #expect(try await client.request(.get, "/api/appointments/\(id)", key: b.key).status == .notFound)
            #expect(try await client.request(.patch, "/api/appointments/\(id)", key: b.key, json: #"{"status": "confirmed"}"#).status == .notFound)
            let listB = try await client.request(.get, "/api/appointments", key: b.key).json()
            #expect((listB["items"] as? [[String: Any]])?.isEmpty == true)
            let foreignLead = try await Self.book(client, key: b.key, lead: leadsA[0], service: serviceB, start: "2026-10-21T08:00:00Z")
            #expect((try foreignLead.problem()["errors"] as? [[String: String]])?.first?["field"] == "leadId")
            let foreignService = try await Self.book(client, key: b.key, lead: leadsB[0], service: serviceA, start: "2026-10-21T08:00:00Z")
            #expect((try foreignService.problem()["errors"] as? [[String: String]])?.first?["field"] == "serviceId")
            // Each tenant's calendar is its own: B books the same time.
            #expect(try await Self.book(client, key: b.key, lead: leadsB[0], service: serviceB, start: "2026-10-21T08:00:00Z").status == .created)
            #expect(try await client.request(.get, "/api/availability?service=\(serviceA)", key: b.key).status == .notFound)
        }
    }

    @Test func servicesAndHoursAreValidated() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let bad = try await client.request(.post, "/api/services", key: tenant.key, json: #"{"name": "", "durationMinutes": 7, "price": -1}"#)
            let fields = Set((try bad.problem()["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
            #expect(fields == ["name", "durationMinutes", "price"])
            let hours = try await client.request(.put, "/api/settings/hours", key: tenant.key, json: #"""
                {"weekly": {"funday": [], "monday": [{"opens": "12:00", "closes": "09:00"}],
                            "tuesday": [{"opens": "09:00", "closes": "12:00"}, {"opens": "11:00", "closes": "13:00"}]},
                 "closed": [{"date": "2026-02-30"}], "slotStepMinutes": 7}
                """#)
            let hourFields = Set((try hours.problem()["errors"] as? [[String: Any]] ?? []).compactMap { $0["field"] as? String })
            #expect(hourFields == ["weekly.funday", "weekly.monday[0]", "weekly.tuesday", "closed[0].date", "slotStepMinutes"])
            let empty = try await client.request(.get, "/api/settings/hours", key: tenant.key).json()
            #expect((empty["weekly"] as? [String: [Any]])?["monday"]?.isEmpty == true)
            let reader = try await services.makeTenant("Reader", scopes: ["leads:read"])
            #expect(try await client.request(.get, "/api/services", key: reader.key).status == .forbidden)
        }
    }

    @Test func theVoiceAssistantChecksAndBooksThroughTools() async throws {
        let clock = TestClock(Self.now)
        try await withApp(now: clock.closure) { client, services in
            let (tenant, _, _) = try await Self.setUp(client, services)
            let secret = "voice-tools-secret-0123"
            try await client.setCallSettings(key: tenant.key, #"{"webhookSecret": "\#(secret)"}"#)
            func tool(_ name: String, _ arguments: Any, id: String) async throws -> [String: Any] {
                let message: [String: Any] = [
                    "type": "tool-calls",
                    "call": ["id": "voice-1", "type": "inboundPhoneCall", "customer": ["number": "+447400109999"]],
                    "toolCallList": [["id": id, "type": "function", "function": ["name": name, "arguments": arguments]]],
                ]
                let answer = try await client.vapi(tenant.id, message, auth: .signature(secret))
                return try #require((try answer.json()["results"] as? [[String: Any]])?.first)
            }
            let free = try await tool("check_availability", ["service": "check-up", "date": "2026-10-21"], id: "tc_1")
            #expect(free["toolCallId"] as? String == "tc_1")
            #expect((free["result"] as? String)?.hasPrefix("Free times for Check-up on 2026-10-21: 09:00 (2026-10-21T08:00:00Z), 09:30") == true)
            // OpenAI-style arguments arrive as a JSON string; the only service is used when none is named.
            let booked = try await tool("book_appointment", #"{"start": "2026-10-21T08:00:00Z", "name": "New Caller"}"#, id: "tc_2")
            #expect((booked["result"] as? String)?.hasPrefix("Booked Check-up on 2026-10-21 at 09:00.") == true)
            let lead = try await client.request(.get, "/api/leads?q=109999", key: tenant.key).json()
            let created = try #require((lead["items"] as? [[String: Any]])?.first)
            #expect(created["source"] as? String == "voice" && created["status"] as? String == "booked" && created["name"] as? String == "New Caller")
            let again = try await tool("book_appointment", ["start": "2026-10-21T08:30:00Z"], id: "tc_3")
            #expect(again["error"] as? String == "Another appointment already holds part of this time; pick another slot from GET /api/availability.")
            let unknown = try await tool("check_availability", ["service": "massage"], id: "tc_4")
            #expect(unknown["error"] as? String == "service is not one we offer; we offer: Check-up")
            let appointments = try await client.request(.get, "/api/appointments", key: tenant.key).json()
            #expect((appointments["items"] as? [[String: Any]])?.map { $0["source"] as? String } == ["voice"])
        }
    }

    @Test func aNewBusinessCanTakeBookingsFromItsIndustrysDefaults() async throws {
        try await withApp { client, _ in
            let signup = try await client.request(.post, "/api/clients/onboard", json: OnboardingTests.body()).json()
            let key = try #require(signup["apiKey"] as? String)
            let services = try await client.request(.get, "/api/services", key: key).json()["items"] as? [[String: Any]] ?? []
            #expect(!services.isEmpty)
            #expect(services.allSatisfy { ($0["durationMinutes"] as? Int ?? 0) % 5 == 0 })
            let hours = try await client.request(.get, "/api/settings/hours", key: key).json()
            let weekly = try #require(hours["weekly"] as? [String: [[String: String]]])
            #expect(weekly.values.contains { !$0.isEmpty })
        }
    }

    @Test func anotherTenantsServicesAndAppointmentsAre404() async throws {
        let clock = TestClock(Self.now)
        try await withApp(now: clock.closure) { client, services in
            let (a, service, leads) = try await Self.setUp(client, services)
            let booked = try await Self.book(client, key: a.key, lead: leads[0], service: service, start: "2026-10-23T09:00:00Z").json()
            let appointment = try #require(booked["id"] as? String)
            let b = try await services.makeTenant("B Dental")
            let patch = try await client.request(.patch, "/api/services/\(service)", key: b.key, json: #"{"name": "Hijacked"}"#)
            #expect(patch.status == .notFound)
            #expect(!patch.text.contains("Check-up"))
            #expect(try await client.request(.get, "/api/appointments/\(appointment)", key: b.key).status == .notFound)
            let move = try await client.request(.patch, "/api/appointments/\(appointment)", key: b.key, json: #"{"status": "cancelled"}"#)
            #expect(move.status == .notFound)
            let slots = try await client.request(.get, "/api/availability?service=\(service)&from=2026-10-23&to=2026-10-23", key: b.key)
            #expect(slots.status == .notFound || slots.status == .unprocessableContent)
            let list = try await client.request(.get, "/api/appointments", key: b.key).json()
            #expect((list["items"] as? [Any])?.isEmpty == true)
            // Nothing of A's changed.
            let mine = try await client.request(.get, "/api/appointments/\(appointment)", key: a.key).json()
            #expect(mine["status"] as? String == "booked")
            let names = (try await client.request(.get, "/api/services", key: a.key).json()["items"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(names?.contains("Check-up") == true && names?.contains("Hijacked") == false)
        }
    }
}
