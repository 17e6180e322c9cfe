import BooklineCore
import Foundation

/// The tools Bookline serves to the voice assistant during a call: `check_availability`
/// (free times for a service on a day) and `book_appointment` (books a time for the caller).
/// Answers are short sentences the assistant can say; failures are errors it can explain.
struct VoiceTools: Sendable {
    let services: AppServices
    let tenant: Tenant

    struct Outcome: Sendable {
        var result: String?
        var error: String?
    }

    func run(_ call: VapiMessage.ToolCall, message: VapiMessage) async -> Outcome {
        do {
            switch call.name {
            case "check_availability": return Outcome(result: try await checkAvailability(call.arguments))
            case "book_appointment": return Outcome(result: try await book(call.arguments, message: message))
            default: return Outcome(error: "The tool \(call.name.isEmpty ? "requested" : call.name) is not available.")
            }
        } catch let problem as Problem {
            return Outcome(error: problem.errors.first.map { "\($0.field) \($0.message)" } ?? problem.detail ?? problem.title)
        } catch {
            await services.errors.record(ErrorReport(
                tenantId: tenant.id, service: "voice", errorType: "tool_failed", message: "\(call.name) failed: \(TransientError.kind(of: error))",
                severity: .error
            ))
            return Outcome(error: "Sorry, that did not work. Please try again.")
        }
    }

    var zone: TimeZone { TimeZone(identifier: tenant.timezone) ?? TimeZone(identifier: "UTC")! }

    /// The service the arguments name (id or name, any case), or the only active one.
    func service(_ arguments: JSONValue?) async throws -> BookableService {
        let all = try await ScheduleStore().services(tenantId: tenant.id, includeInactive: false, on: services.database.sql)
        let wanted = (arguments?["service"] ?? arguments?["serviceId"])?.string?.trimmingWhitespace().lowercased()
        if let wanted, let match = all.first(where: { $0.id == wanted || $0.name.lowercased() == wanted }) { return match }
        if wanted == nil, all.count == 1 { return all[0] }
        let names = all.map(\.name).joined(separator: ", ")
        throw Problem.validation(field: "service", wanted == nil ? "is required; we offer: \(names)" : "is not one we offer; we offer: \(names)")
    }

    /// `HH:MM` on the tenant's wall clock.
    func time(_ date: Date) -> String { AppointmentMessages.wallClock(date, zone) }

    func checkAvailability(_ arguments: JSONValue?) async throws -> String {
        let service = try await service(arguments)
        let today = LocalDays.format(LocalDays.day(of: services.now(), in: zone))
        let date = arguments?["date"]?.string ?? today
        let days = try AnalyticsService(services: services).days(tenant: tenant, from: date, to: date)
        let slots = try await AppointmentService(services: services).availability(tenant: tenant, service: service, days: days,
                                                                                   on: services.database.sql)
        guard !slots.isEmpty else { return "There are no free times for \(service.name) on \(date)." }
        let listed = slots.prefix(12).map { "\(time($0.start)) (\($0.start.formatted(.iso8601)))" }.joined(separator: ", ")
        return "Free times for \(service.name) on \(date): \(listed)."
    }

    func book(_ arguments: JSONValue?, message: VapiMessage) async throws -> String {
        let service = try await service(arguments)
        guard let text = (arguments?["start"] ?? arguments?["time"])?.string, let start = ISOTime.parse(text) else {
            throw Problem.validation(field: "start", "is required as an ISO-8601 time from check_availability")
        }
        let lead = try await caller(arguments, message: message)
        let notes = arguments?["notes"]?.string.map { String($0.prefix(2000)) }
        let appointment = try await AppointmentService(services: services).book(
            .init(leadId: lead.id, serviceId: service.id, start: start, notes: notes, source: "voice"), tenant: tenant,
            actor: .system("vapi")
        )
        let day = LocalDays.format(LocalDays.day(of: appointment.startsAt, in: zone))
        return "Booked \(service.name) on \(day) at \(time(appointment.startsAt)). Reference \(appointment.id.suffix(6))."
    }

    /// The caller as a lead: the id given, the call's lead, or the lead with the caller's
    /// number (created when the business has not met them before).
    func caller(_ arguments: JSONValue?, message: VapiMessage) async throws -> Lead {
        let store = LeadStore()
        let db = services.database.sql
        for id in [arguments?["leadId"]?.string, message.leadId].compactMap({ $0 }) where Identifier.isValid(id) {
            if let lead = try await store.find(tenantId: tenant.id, id: id, on: db) { return lead }
        }
        let phoneText = arguments?["phone"]?.string
        guard let phone = phoneText.flatMap({ try? PhoneNumber.parse($0).get() }) ?? message.customer else {
            throw Problem.validation(field: "phone", "is needed: the caller's number is unknown")
        }
        if let lead = try await store.find(tenantId: tenant.id, phone: phone.e164, on: db) { return lead }
        let name = arguments?["name"]?.string.map { String($0.prefix(200)) }
        return try await services.leads.create(
            tenantId: tenant.id, draft: LeadDraft(name: name, phone: phone, email: nil, source: "voice", tags: [], notes: nil, customFields: [:]),
            actor: .system("vapi"), now: services.now()
        )
    }
}
