import BooklineCore
import Foundation
import Hummingbird

/// `GET /api/error-stats`: platform admins see every error (or one tenant's with `tenantId`);
/// a tenant owner sees only their own tenant's.
struct ErrorStatsRoutes {
    static let maxHours = 720
    let services: AppServices

    struct Stats: ResponseEncodable {
        struct Hour: Encodable {
            let hour: Date
            let count: Int
        }
        let from: Date
        let to: Date
        let tenantId: String?
        let total: Int
        let bySeverity: [String: Int]
        let topErrorTypes: [ErrorLogStore.TypeCount]
        let hourly: [Hour]
        let lastOccurrence: ErrorLogStore.Occurrence?
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("error-stats", use: stats)
    }

    @Sendable func stats(_ request: Request, context: AppRequestContext) async throws -> Stats {
        guard let auth = context.auth else { throw Problem.missingCredential }
        let query = request.uri.queryParameters
        let requested = query["tenantId"].map(String.init)
        var errors: [Problem.FieldError] = []
        let tenantId: String?
        switch auth.principal.role {
        case .platformAdmin?:
            if let requested, !Identifier.isValid(requested) { errors.append(.init(field: "tenantId", message: "must be a tenant id")) }
            tenantId = requested
        case .owner?, .tenantAdmin?:
            guard let own = auth.tenantId else { throw Problem.forbidden("No tenant.") }
            if let requested, requested != own { throw Problem.notFound("No such tenant.") }
            tenantId = own
        default:
            throw Problem.forbidden("Only the account's owners and admins, and platform admins, can read error statistics.")
        }
        let hours = query["hours"].map { Int($0) ?? -1 } ?? 24
        if !(1...Self.maxHours).contains(hours) { errors.append(.init(field: "hours", message: "must be from 1 to \(Self.maxHours)")) }
        guard errors.isEmpty else { throw Problem.validation(errors) }

        // Whole UTC hours, the current one included.
        let now = services.now()
        let end = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600 + 3600)
        let boundaries = (0...hours).map { end.addingTimeInterval(Double($0 - hours) * 3600) }
        let start = boundaries[0]
        let store = ErrorLogStore()
        let db = services.database.sql
        async let severities = store.severities(tenantId: tenantId, from: start, to: end, on: db)
        async let top = store.topTypes(tenantId: tenantId, from: start, to: end, limit: 10, on: db)
        async let hourly = store.hourly(tenantId: tenantId, hours: boundaries, on: db)
        async let last = store.last(tenantId: tenantId, on: db)
        let bySeverity = try await severities
        let counts = try await hourly
        return Stats(
            from: start, to: end, tenantId: tenantId, total: bySeverity.values.reduce(0, +),
            bySeverity: Dictionary(uniqueKeysWithValues: ErrorSeverity.allCases.map { ($0.rawValue, bySeverity[$0] ?? 0) }),
            topErrorTypes: try await top,
            hourly: (0..<hours).map { Stats.Hour(hour: boundaries[$0], count: counts[$0] ?? 0) },
            lastOccurrence: try await last
        )
    }
}
