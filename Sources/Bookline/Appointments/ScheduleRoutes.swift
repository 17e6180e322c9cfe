import BooklineCore
import Foundation
import Hummingbird

/// `/api/services` and `/api/settings/hours`: what a tenant offers and when it is open.
/// Reading needs appointments:read; changing needs settings:write (owners only, for users).
struct ScheduleRoutes {
    let services: AppServices
    let store = ScheduleStore()
    static let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    struct ServiceView: ResponseEncodable {
        let id: String
        let name: String
        let durationMinutes: Int
        let price: Int
        let active: Bool
        let createdAt: Date
        let updatedAt: Date

        init(_ service: BookableService) {
            id = service.id
            name = service.name
            durationMinutes = service.durationMinutes
            price = service.priceMinor
            active = service.active
            createdAt = service.createdAt
            updatedAt = service.updatedAt
        }
    }

    struct ServiceList: ResponseEncodable { let items: [ServiceView] }

    struct ServiceBody: Decodable {
        var name: String?
        var durationMinutes: Int?
        var price: Int?
        var active: Bool?
    }

    struct Interval: Codable, Equatable {
        let opens: String
        let closes: String
    }

    struct Closure: Codable, Equatable {
        let date: String
        let reason: String?
    }

    struct HoursView: ResponseEncodable, Decodable {
        var timezone: String?
        var weekly: [String: [Interval]]
        var closed: [Closure]
        var slotStepMinutes: Int?
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("services", use: listServices)
        group.post("services", use: createService)
        group.patch("services/{id}", use: updateService)
        group.get("settings/hours", use: hours)
        group.put("settings/hours", use: setHours)
    }

    func requireWriter(_ context: TenantRequestContext) throws {
        if context.tenant.principal.kind == .user { try context.tenant.requireSettingsManager() }
        try context.tenant.require(.settingsWrite)
    }

    @Sendable func listServices(_ request: Request, context: TenantRequestContext) async throws -> ServiceList {
        try context.tenant.require(.appointmentsRead)
        let flag = request.uri.queryParameters["includeInactive"]
        guard flag == nil || flag == "true" || flag == "false" else {
            throw Problem.validation(field: "includeInactive", "must be true or false")
        }
        let all = flag == "true"
        return ServiceList(items: try await store.services(tenantId: context.tenant.tenantId, includeInactive: all, on: services.database.sql)
            .map(ServiceView.init))
    }

    func validate(_ body: ServiceBody, creating: Bool) throws {
        var errors: [Problem.FieldError] = []
        if let name = body.name?.trimmingWhitespace() {
            if !(1...100).contains(name.count) { errors.append(.init(field: "name", message: "must be 1 to 100 characters")) }
        } else if creating { errors.append(.init(field: "name", message: "is required")) }
        if let minutes = body.durationMinutes {
            if !(5...480).contains(minutes) || minutes % 5 != 0 {
                errors.append(.init(field: "durationMinutes", message: "must be a multiple of 5 from 5 to 480"))
            }
        } else if creating { errors.append(.init(field: "durationMinutes", message: "is required")) }
        if let price = body.price, !(0...10_000_000).contains(price) {
            errors.append(.init(field: "price", message: "must be 0 to 10000000 minor units"))
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
    }

    @Sendable func createService(_ request: Request, context: TenantRequestContext) async throws -> EditedResponse<ServiceView> {
        try requireWriter(context)
        let body = try await request.decodeJSON(as: ServiceBody.self, context: context)
        try validate(body, creating: true)
        let now = services.now()
        let service = BookableService(
            tenantId: context.tenant.tenantId, id: Identifier.make(now: now), name: body.name!.trimmingWhitespace(),
            durationMinutes: body.durationMinutes!, priceMinor: body.price ?? 0, active: body.active ?? true, createdAt: now, updatedAt: now
        )
        try await services.database.transaction { db in
            try await store.insert(service, on: db)
            try await services.audit.append(AuditEntry(
                tenantId: service.tenantId, actor: context.auditActor(request), action: "service.created", targetType: "service",
                targetId: service.id, details: ["name": service.name, "duration_minutes": String(service.durationMinutes)]
            ), on: db, now: now)
        }
        var response = EditedResponse(status: .created, response: ServiceView(service))
        response.headers[.location] = "/api/services/\(service.id)"
        return response
    }

    @Sendable func updateService(_ request: Request, context: TenantRequestContext) async throws -> ServiceView {
        try requireWriter(context)
        let id = try context.parameters.require("id")
        let body = try await request.decodeJSON(as: ServiceBody.self, context: context)
        try validate(body, creating: false)
        let now = services.now()
        let service = try await services.database.transaction { db -> BookableService in
            guard Identifier.isValid(id), var service = try await store.service(tenantId: context.tenant.tenantId, id: id, on: db) else {
                throw Problem.notFound("No service with this id.")
            }
            if let name = body.name { service.name = name.trimmingWhitespace() }
            if let minutes = body.durationMinutes { service.durationMinutes = minutes }
            if let price = body.price { service.priceMinor = price }
            if let active = body.active { service.active = active }
            service.updatedAt = now
            try await store.update(service, on: db)
            try await services.audit.append(AuditEntry(
                tenantId: service.tenantId, actor: context.auditActor(request), action: "service.updated", targetType: "service",
                targetId: service.id, details: ["active": String(service.active)]
            ), on: db, now: now)
            return service
        }
        return ServiceView(service)
    }

    func view(_ schedule: Schedule, timezone: String) -> HoursView {
        HoursView(
            timezone: timezone,
            weekly: Dictionary(uniqueKeysWithValues: Self.weekdays.enumerated().map { index, name in
                (name, (schedule.weekly[index + 1] ?? []).map { Interval(opens: OpeningInterval.text($0.opens), closes: OpeningInterval.text($0.closes)) })
            }),
            closed: schedule.closed.keys.sorted().map { Closure(date: $0, reason: schedule.closed[$0] ?? nil) },
            slotStepMinutes: schedule.slotStepMinutes
        )
    }

    @Sendable func hours(_ request: Request, context: TenantRequestContext) async throws -> HoursView {
        try context.tenant.require(.appointmentsRead)
        guard let tenant = try await services.tenants.find(id: context.tenant.tenantId) else { throw Problem.notFound() }
        return view(try await store.schedule(tenantId: tenant.id, on: services.database.sql), timezone: tenant.timezone)
    }

    /// The whole schedule at once: days left out are closed.
    @Sendable func setHours(_ request: Request, context: TenantRequestContext) async throws -> HoursView {
        try requireWriter(context)
        let body = try await request.decodeJSON(as: HoursView.self, context: context)
        var errors: [Problem.FieldError] = []
        var schedule = Schedule()
        for (name, intervals) in body.weekly {
            guard let index = Self.weekdays.firstIndex(of: name.lowercased()) else {
                errors.append(.init(field: "weekly.\(name)", message: "must be a weekday name such as monday"))
                continue
            }
            var parsed: [OpeningInterval] = []
            for (position, interval) in intervals.enumerated() {
                guard let opens = OpeningInterval.minutes(interval.opens), let closes = OpeningInterval.minutes(interval.closes),
                      opens < closes, opens % 5 == 0, closes % 5 == 0
                else {
                    errors.append(.init(field: "weekly.\(name)[\(position)]", message: "must be HH:MM times on 5-minute steps with opens before closes"))
                    continue
                }
                parsed.append(OpeningInterval(opens: opens, closes: closes))
            }
            parsed.sort { $0.opens < $1.opens }
            if zip(parsed, parsed.dropFirst()).contains(where: { $0.closes > $1.opens }) {
                errors.append(.init(field: "weekly.\(name)", message: "intervals must not overlap"))
            }
            if parsed.count > 6 { errors.append(.init(field: "weekly.\(name)", message: "at most 6 intervals a day")) }
            schedule.weekly[index + 1] = parsed
        }
        if body.closed.count > 366 { errors.append(.init(field: "closed", message: "at most 366 dates")) }
        for (position, closure) in body.closed.enumerated() {
            guard LocalDays.parse(closure.date) != nil else {
                errors.append(.init(field: "closed[\(position)].date", message: "must be a date such as 2026-12-25"))
                continue
            }
            if let reason = closure.reason, reason.count > 200 {
                errors.append(.init(field: "closed[\(position)].reason", message: "must be at most 200 characters"))
            }
            schedule.closed[closure.date] = closure.reason
        }
        let step = body.slotStepMinutes ?? 15
        if ![5, 10, 15, 20, 30, 60].contains(step) { errors.append(.init(field: "slotStepMinutes", message: "must be 5, 10, 15, 20, 30 or 60")) }
        schedule.slotStepMinutes = step
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let tenantId = context.tenant.tenantId
        let now = services.now()
        try await services.database.transaction { [schedule] db in
            try await store.save(schedule, tenantId: tenantId, now: now, on: db)
            try await services.audit.append(AuditEntry(
                tenantId: tenantId, actor: context.auditActor(request), action: "hours.updated", targetType: "tenant", targetId: tenantId,
                details: ["open_days": String(schedule.weekly.values.filter { !$0.isEmpty }.count), "closed_dates": String(schedule.closed.count)]
            ), on: db, now: now)
        }
        guard let tenant = try await services.tenants.find(id: tenantId) else { throw Problem.notFound() }
        return view(schedule, timezone: tenant.timezone)
    }
}
