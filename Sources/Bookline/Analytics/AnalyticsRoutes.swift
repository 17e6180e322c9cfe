import BooklineCore
import Foundation
import Hummingbird

/// `GET /api/analytics/summary` and `GET /api/analytics/weekly` (scope analytics:read): figures
/// for the calling tenant only, in its time zone.
struct AnalyticsRoutes {
    let services: AppServices

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("analytics/summary", use: summary)
        group.get("analytics/weekly", use: weekly)
    }

    func tenant(_ context: TenantRequestContext) async throws -> Tenant {
        try context.tenant.require(.analyticsRead)
        guard let tenant = try await services.tenants.find(id: context.tenant.tenantId) else { throw Problem.notFound() }
        return tenant
    }

    @Sendable func summary(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let tenant = try await tenant(context)
        let query = request.uri.queryParameters
        let analytics = AnalyticsService(services: services)
        let days = try analytics.days(tenant: tenant, from: query["from"].map(String.init), to: query["to"].map(String.init))
        return try JSONResponse(try await analytics.summary(tenant: tenant, days: days)).response(from: request, context: context)
    }

    /// JSON by default; HTML with `?format=html` (or an Accept that prefers text/html).
    @Sendable func weekly(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let tenant = try await tenant(context)
        let query = request.uri.queryParameters
        let format = query["format"].map(String.init) ?? (request.headers[.accept]?.hasPrefix("text/html") == true ? "html" : "json")
        guard ["json", "html"].contains(format) else { throw Problem.validation(field: "format", "must be json or html") }
        let report = try await AnalyticsService(services: services).weekly(tenant: tenant, date: query["date"].map(String.init))
        guard format == "html" else { return try JSONResponse(report).response(from: request, context: context) }
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: report.html())))
    }
}

/// Any Encodable as a bookline-encoded JSON response.
struct JSONResponse<Value: Encodable & Sendable>: ResponseEncodable {
    let value: Value
    init(_ value: Value) { self.value = value }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }
}
