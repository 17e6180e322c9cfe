import BooklineCore
import Foundation
import Hummingbird

/// `GET /api/availability` and `/api/appointments`: free slots, booking, and the life of an
/// appointment (reschedule, confirm, cancel with a reason, complete, no-show).
struct AppointmentRoutes {
    static let maxAvailabilityDays = 31
    let services: AppServices

    struct AppointmentView: ResponseEncodable {
        let id: String
        let leadId: String
        let serviceId: String
        let start: Date
        let end: Date
        let status: String
        let notes: String?
        let cancelReason: String?
        let source: String
        let createdAt: Date
        let updatedAt: Date

        init(_ appointment: Appointment) {
            id = appointment.id
            leadId = appointment.leadId
            serviceId = appointment.serviceId
            start = appointment.startsAt
            end = appointment.endsAt
            status = appointment.status.rawValue
            notes = appointment.notes
            cancelReason = appointment.cancelReason
            source = appointment.source
            createdAt = appointment.createdAt
            updatedAt = appointment.updatedAt
        }
    }

    struct AppointmentPage: ResponseEncodable {
        let items: [AppointmentView]
        let nextCursor: String?
    }

    struct Slot: Encodable {
        let start: Date
        let end: Date
    }

    struct SlotList: ResponseEncodable {
        let serviceId: String
        let timezone: String
        let from: String
        let to: String
        let slots: [Slot]
    }

    struct BookBody: Decodable, PlatformOwnedFields {
        static let platformOwnedFields = setByBookline("id", "tenantId", "status", "end", "createdAt", "updatedAt")

        var leadId: String?
        var serviceId: String?
        var start: Date?
        var notes: String?
    }

    struct ChangeBody: Decodable {
        var start: Date?
        var serviceId: String?
        var status: String?
        var cancelReason: String?
        var notes: String?
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("availability", use: availability)
        group.post("appointments", use: book)
        group.get("appointments", use: list)
        group.get("appointments/{id}", use: show)
        group.patch("appointments/{id}", use: change)
    }

    func tenant(_ context: TenantRequestContext) async throws -> Tenant {
        guard let tenant = try await services.tenants.find(id: context.tenant.tenantId) else { throw Problem.notFound() }
        return tenant
    }

    @Sendable func availability(_ request: Request, context: TenantRequestContext) async throws -> SlotList {
        try context.tenant.require(.appointmentsRead)
        let query = request.uri.queryParameters
        let tenant = try await tenant(context)
        guard let serviceId = query["service"].map(String.init), Identifier.isValid(serviceId) else {
            throw Problem.validation(field: "service", "is required: a service id from GET /api/services")
        }
        let analytics = AnalyticsService(services: services)
        let zone = TimeZone(identifier: tenant.timezone) ?? TimeZone(identifier: "UTC")!
        let today = LocalDays.format(LocalDays.day(of: services.now(), in: zone))
        let days = try analytics.days(tenant: tenant, from: query["from"].map(String.init) ?? today,
                                      to: query["to"].map(String.init) ?? query["from"].map(String.init) ?? today)
        guard days.count <= Self.maxAvailabilityDays else {
            throw Problem.validation(field: "to", "the range may span at most \(Self.maxAvailabilityDays) days")
        }
        let db = services.database.sql
        guard let service = try await ScheduleStore().service(tenantId: tenant.id, id: serviceId, on: db), service.active else {
            throw Problem.notFound("No active service with this id.")
        }
        let slots = try await AppointmentService(services: services).availability(tenant: tenant, service: service, days: days, on: db)
        return SlotList(serviceId: service.id, timezone: tenant.timezone, from: days.first!.date, to: days.last!.date,
                        slots: slots.map { Slot(start: $0.start, end: $0.end) })
    }

    @Sendable func book(_ request: Request, context: TenantRequestContext) async throws -> EditedResponse<AppointmentView> {
        try context.tenant.require(.appointmentsWrite)
        let body = try await request.decodeJSON(as: BookBody.self, context: context)
        var errors: [Problem.FieldError] = []
        if body.leadId.map(Identifier.isValid) != true { errors.append(.init(field: "leadId", message: "is required: a lead id")) }
        if body.serviceId.map(Identifier.isValid) != true { errors.append(.init(field: "serviceId", message: "is required: a service id")) }
        if body.start == nil { errors.append(.init(field: "start", message: "is required: an ISO-8601 time")) }
        if let notes = body.notes, notes.count > 2000 { errors.append(.init(field: "notes", message: "must be at most 2000 characters")) }
        guard errors.isEmpty, let leadId = body.leadId, let serviceId = body.serviceId, let start = body.start else {
            throw Problem.validation(errors)
        }
        let appointment = try await AppointmentService(services: services).book(
            .init(leadId: leadId, serviceId: serviceId, start: start, notes: body.notes), tenant: try await tenant(context),
            actor: context.auditActor(request)
        )
        var response = EditedResponse(status: .created, response: AppointmentView(appointment))
        response.headers[.location] = "/api/appointments/\(appointment.id)"
        return response
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> AppointmentPage {
        try context.tenant.require(.appointmentsRead)
        let query = request.uri.queryParameters
        var errors: [Problem.FieldError] = []
        var filter = AppointmentStore.Filter()
        ISOTime.query(query, "from", errors: &errors) { filter.from = $0 }
        ISOTime.query(query, "to", errors: &errors) { filter.to = $0 }
        if let text = query["status"] {
            if let status = AppointmentStatus(rawValue: String(text)) { filter.status = status } else {
                errors.append(.init(field: "status", message: "must be one of \(AppointmentStatus.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        if let text = query["leadId"] {
            if Identifier.isValid(text) { filter.leadId = String(text) } else { errors.append(.init(field: "leadId", message: "is not a lead id")) }
        }
        let limit = query["limit"].map { Int($0) ?? -1 } ?? 50
        if !(1...PageQuery.maxLimit).contains(limit) { errors.append(.init(field: "limit", message: "must be from 1 to \(PageQuery.maxLimit)")) }
        // The cursor is the start time (seconds since 1970) and id of the last appointment seen.
        if let cursor = query["cursor"] {
            let parts = cursor.split(separator: "_", maxSplits: 1).map(String.init)
            if parts.count == 2, let seconds = Double(parts[0]), seconds.isFinite, Identifier.isValid(parts[1]) {
                filter.after = (Date(timeIntervalSince1970: seconds), parts[1])
            } else {
                errors.append(.init(field: "cursor", message: "is not a valid cursor"))
            }
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let rows = try await AppointmentStore().list(tenantId: context.tenant.tenantId, filter: filter, limit: limit + 1, on: services.database.sql)
        let items = Array(rows.prefix(limit))
        let next = rows.count > limit ? items.last.map { "\($0.startsAt.timeIntervalSince1970)_\($0.id)" } : nil
        return AppointmentPage(items: items.map(AppointmentView.init), nextCursor: next)
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> AppointmentView {
        try context.tenant.require(.appointmentsRead)
        let id = try context.parameters.require("id")
        guard Identifier.isValid(id), let appointment = try await AppointmentStore().find(tenantId: context.tenant.tenantId, id: id,
                                                                                           on: services.database.sql)
        else { throw Problem.notFound("No appointment with this id.") }
        return AppointmentView(appointment)
    }

    @Sendable func change(_ request: Request, context: TenantRequestContext) async throws -> AppointmentView {
        try context.tenant.require(.appointmentsWrite)
        let id = try context.parameters.require("id")
        guard Identifier.isValid(id) else { throw Problem.notFound("No appointment with this id.") }
        let body = try await request.decodeJSON(as: ChangeBody.self, context: context)
        var errors: [Problem.FieldError] = []
        var change = AppointmentService.Change(start: body.start, cancelReason: body.cancelReason)
        if let serviceId = body.serviceId {
            if Identifier.isValid(serviceId) { change.serviceId = serviceId } else { errors.append(.init(field: "serviceId", message: "is not a service id")) }
        }
        if let text = body.status {
            if let status = AppointmentStatus(rawValue: text) { change.status = status } else {
                errors.append(.init(field: "status", message: "must be one of \(AppointmentStatus.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        if let notes = body.notes {
            if notes.count > 2000 { errors.append(.init(field: "notes", message: "must be at most 2000 characters")) }
            change.notes = .some(notes.isEmpty ? nil : notes)
        }
        if let reason = body.cancelReason, reason.count > 500 { errors.append(.init(field: "cancelReason", message: "must be at most 500 characters")) }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let appointment = try await AppointmentService(services: services).change(
            tenant: try await tenant(context), id: id, change, actor: context.auditActor(request)
        )
        return AppointmentView(appointment)
    }
}
