import BooklineCore
import Foundation
import Hummingbird

/// `POST /api/calls` (calls:write) records a call from another source; `GET /api/calls` and
/// `GET /api/calls/{id}` (calls:read) list and show the tenant's calls, newest first.
struct CallRoutes {
    static let maxStructuredBytes = 16 * 1024
    let services: AppServices

    struct Money: Codable, Equatable {
        /// Integer minor units (pence, cents).
        let amount: Int
        let currency: String
    }

    struct CallView: ResponseEncodable {
        let id: String
        let provider: String
        let externalId: String
        let leadId: String?
        let phone: String?
        let direction: String
        let state: String
        let startedAt: Date
        let endedAt: Date?
        let durationSeconds: Int?
        let cost: Money?
        let endedReason: String?
        let endedReasonKnown: Bool
        let outcome: String?
        let summary: String?
        let recordingUrl: String?
        let structuredData: [String: JSONValue]
        let createdAt: Date
        let updatedAt: Date

        init(_ call: Call) {
            id = call.id
            provider = call.provider
            externalId = call.providerCallId
            leadId = call.leadId
            phone = call.phone
            direction = call.direction
            state = call.state.rawValue
            startedAt = call.startedAt
            endedAt = call.endedAt
            durationSeconds = call.durationSeconds
            cost = call.costMinor.map { Money(amount: $0, currency: call.currency ?? "") }
            endedReason = call.endedReason
            endedReasonKnown = call.endedReasonKnown
            outcome = call.outcome?.rawValue
            summary = call.summary
            recordingUrl = call.recordingURL
            structuredData = call.structuredData
            createdAt = call.createdAt
            updatedAt = call.updatedAt
        }
    }

    struct CallPage: ResponseEncodable {
        let items: [CallView]
        let nextCursor: String?
    }

    struct RecordBody: Decodable, PlatformOwnedFields {
        static let platformOwnedFields = setByBookline("id", "tenantId", "createdAt")

        var externalId: String?
        var leadId: String?
        var phone: String?
        var direction: String?
        var startedAt: Date?
        var endedAt: Date?
        var durationSeconds: Int?
        var cost: Money?
        var endedReason: String?
        var outcome: String?
        var summary: String?
        var recordingUrl: String?
        var structuredData: [String: JSONValue]?
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.post("calls", use: create)
        group.get("calls", use: list)
        group.get("calls/{id}", use: show)
    }

    @Sendable func create(_ request: Request, context: TenantRequestContext) async throws -> EditedResponse<CallView> {
        try context.tenant.require(.callsWrite)
        let body = try await request.decodeJSON(as: RecordBody.self, context: context)
        let tenantId = context.tenant.tenantId
        let now = services.now()
        let settings = try await CallSettingsStore().find(tenantId: tenantId, on: services.database.sql)
        let report = try validate(body, currency: settings.currency, now: now)
        if let leadId = report.leadId,
           try await LeadStore().find(tenantId: tenantId, id: leadId, on: services.database.sql) == nil {
            throw Problem.validation(field: "leadId", "no lead with this id")
        }
        let recorded = try await CallService(services: services).record(report, tenantId: tenantId,
                                                                          actor: context.auditActor(request), now: now)
        var response = EditedResponse(status: recorded.duplicate ? .ok : .created, response: CallView(recorded.call))
        response.headers[.location] = "/api/calls/\(recorded.call.id)"
        return response
    }

    /// Field by field, so every problem is named at once.
    func validate(_ body: RecordBody, currency: String, now: Date) throws -> CallReport {
        var errors: [Problem.FieldError] = []
        var report = CallReport(provider: "api", providerCallId: "", ended: true)
        if let id = body.externalId {
            if (1...200).contains(id.count) { report.providerCallId = id } else {
                errors.append(.init(field: "externalId", message: "must be 1 to 200 characters"))
            }
        } else {
            report.providerCallId = Identifier.make(now: now)
        }
        if let leadId = body.leadId {
            if Identifier.isValid(leadId) { report.leadId = leadId } else { errors.append(.init(field: "leadId", message: "is not a lead id")) }
        }
        if let phone = body.phone {
            switch PhoneNumber.parse(phone) {
            case .success(let number): report.phone = number
            case .failure(let problem): errors.append(.init(field: "phone", message: LeadRules.phoneMessage(problem)))
            }
        }
        if body.leadId == nil, body.phone == nil {
            errors.append(.init(field: "phone", message: "give the lead's phone or leadId"))
        }
        switch body.direction ?? "outbound" {
        case "inbound", "outbound": report.direction = body.direction ?? "outbound"
        default: errors.append(.init(field: "direction", message: "must be inbound or outbound"))
        }
        if let started = body.startedAt {
            if started > now.addingTimeInterval(300) { errors.append(.init(field: "startedAt", message: "must not be in the future")) }
            report.startedAt = started
        } else {
            errors.append(.init(field: "startedAt", message: "is required"))
        }
        if let ended = body.endedAt {
            if let started = body.startedAt, ended < started { errors.append(.init(field: "endedAt", message: "must not be before startedAt")) }
            report.endedAt = ended
        }
        if let duration = body.durationSeconds {
            if (0...86_400).contains(duration) { report.durationSeconds = duration } else {
                errors.append(.init(field: "durationSeconds", message: "must be 0 to 86400"))
            }
        } else if let started = body.startedAt, let ended = body.endedAt, ended >= started {
            report.durationSeconds = Int(ended.timeIntervalSince(started).rounded())
        }
        if let cost = body.cost {
            if !(0...100_000_000).contains(cost.amount) {
                errors.append(.init(field: "cost.amount", message: "must be 0 to 100000000 minor units"))
            } else if cost.currency != currency {
                errors.append(.init(field: "cost.currency", message: "must be the tenant's reporting currency, \(currency)"))
            } else {
                report.costMinor = cost.amount
                report.currency = cost.currency
            }
        }
        if let reason = body.endedReason {
            if (1...200).contains(reason.count) { report.endedReason = reason } else {
                errors.append(.init(field: "endedReason", message: "must be 1 to 200 characters"))
            }
        }
        if let text = body.outcome {
            if let outcome = CallOutcome(rawValue: text) { report.outcome = outcome } else {
                errors.append(.init(field: "outcome", message: "must be one of \(CallOutcome.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        if body.outcome == nil, body.endedReason == nil {
            errors.append(.init(field: "outcome", message: "give the outcome or the endedReason"))
        }
        if let summary = body.summary {
            if summary.count <= 10_000 { report.summary = summary } else {
                errors.append(.init(field: "summary", message: "must be at most 10000 characters"))
            }
        }
        if let url = body.recordingUrl {
            if url.count <= 2000, url.hasPrefix("https://") || url.hasPrefix("http://") { report.recordingURL = url } else {
                errors.append(.init(field: "recordingUrl", message: "must be an http(s) URL of at most 2000 characters"))
            }
        }
        if let data = body.structuredData {
            if (try? JSONEncoder.bookline.encode(data).count).map({ $0 <= Self.maxStructuredBytes }) == true {
                report.structuredData = data
            } else {
                errors.append(.init(field: "structuredData", message: "must be at most 16 KB of JSON"))
            }
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        return report
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> CallPage {
        try context.tenant.require(.callsRead)
        let query = request.uri.queryParameters
        var errors: [Problem.FieldError] = []
        var filter = CallStore.Filter()
        if let text = query["outcome"] {
            if let outcome = CallOutcome(rawValue: String(text)) { filter.outcome = outcome } else {
                errors.append(.init(field: "outcome", message: "must be one of \(CallOutcome.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        if let text = query["leadId"] {
            if Identifier.isValid(text) { filter.leadId = String(text) } else { errors.append(.init(field: "leadId", message: "is not a lead id")) }
        }
        ISOTime.query(query, "from", errors: &errors) { filter.startedFrom = $0 }
        ISOTime.query(query, "to", errors: &errors) { filter.startedTo = $0 }
        let paging = PageQuery(query, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let rows = try await CallStore().list(tenantId: context.tenant.tenantId, filter: filter, limit: paging.limit + 1,
                                              cursor: paging.cursor, on: services.database.sql)
        let page = paging.page(rows, id: \.id)
        return CallPage(items: page.items.map(CallView.init), nextCursor: page.nextCursor)
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> CallView {
        try context.tenant.require(.callsRead)
        let id = try context.parameters.require("id")
        guard Identifier.isValid(id), let call = try await CallStore().find(tenantId: context.tenant.tenantId, id: id, on: services.database.sql)
        else { throw Problem.notFound("No call with this id.") }
        return CallView(call)
    }
}
