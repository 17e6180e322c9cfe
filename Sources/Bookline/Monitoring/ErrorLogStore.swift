import BooklineCore
import Foundation
import SQLKit

public enum ErrorSeverity: String, Sendable, Codable, CaseIterable, Comparable {
    case warning, error, critical

    var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (lhs: ErrorSeverity, rhs: ErrorSeverity) -> Bool { lhs.rank < rhs.rank }
}

/// One error as recorded: what failed, where, how badly, for which tenant and request.
public struct ErrorReport: Sendable, Equatable {
    public var tenantId: String?
    public var service: String
    public var errorType: String
    public var message: String
    public var severity: ErrorSeverity
    public var context: [String: String]
    public var requestId: String?

    public init(tenantId: String? = nil, service: String, errorType: String, message: String, severity: ErrorSeverity,
                context: [String: String] = [:], requestId: String? = nil) {
        self.tenantId = tenantId
        self.service = service
        self.errorType = errorType
        self.message = message
        self.severity = severity
        self.context = context
        self.requestId = requestId
    }
}

/// SQL for `error_logs`: inserts and the aggregates behind `GET /api/error-stats`.
struct ErrorLogStore: Sendable {
    func insert(_ report: ErrorReport, id: String, now: Date, on db: any SQLDatabase) async throws {
        let context = String(decoding: try JSONEncoder.bookline.encode(report.context), as: UTF8.self)
        try await db.raw("""
            INSERT INTO error_logs (id, tenant_id, service, error_type, message, severity, context, request_id, created_at)
            VALUES (\(bind: id), \(bind: report.tenantId), \(bind: report.service), \(bind: report.errorType),
                    \(bind: report.message), \(bind: report.severity.rawValue), \(bind: context), \(bind: report.requestId),
                    \(bind: now))
            """).run()
    }

    /// `tenant_id = ?` for one tenant, nothing for the whole platform.
    func scope(_ tenantId: String?) -> SQLQueryString {
        guard let tenantId else { return "" }
        return "AND tenant_id = \(bind: tenantId)"
    }

    func severities(tenantId: String?, from: Date, to: Date, on db: any SQLDatabase) async throws -> [ErrorSeverity: Int] {
        let rows = try await db.raw("""
            SELECT severity, COUNT(*) AS n FROM error_logs
            WHERE created_at >= \(bind: from) AND created_at < \(bind: to) \(scope(tenantId))
            GROUP BY severity
            """).all()
        return try rows.reduce(into: [:]) { result, row in
            if let severity = ErrorSeverity(rawValue: try row.decode(column: "severity", as: String.self)) {
                result[severity] = try row.decode(column: "n", as: Int.self)
            }
        }
    }

    struct TypeCount: Sendable, Encodable, Equatable {
        let errorType: String
        let count: Int
        let lastOccurredAt: Date
    }

    func topTypes(tenantId: String?, from: Date, to: Date, limit: Int, on db: any SQLDatabase) async throws -> [TypeCount] {
        try await db.raw("""
            SELECT error_type, COUNT(*) AS n, MAX(created_at) AS last FROM error_logs
            WHERE created_at >= \(bind: from) AND created_at < \(bind: to) \(scope(tenantId))
            GROUP BY error_type ORDER BY n DESC, error_type LIMIT \(literal: limit)
            """).all().map {
            TypeCount(errorType: try $0.decode(column: "error_type", as: String.self), count: try $0.decode(column: "n", as: Int.self),
                      lastOccurredAt: try $0.decode(column: "last", as: Date.self))
        }
    }

    /// Counts per hour, as a VALUES list of hour boundaries joined on the created_at index.
    func hourly(tenantId: String?, hours: [Date], on db: any SQLDatabase) async throws -> [Int: Int] {
        guard hours.count > 1 else { return [:] }
        let values = SQLList((0..<(hours.count - 1)).map { index in
            SQLGroupExpression([SQLLiteral.numeric(String(index)), SQLBind(hours[index]), SQLBind(hours[index + 1])])
        })
        var scope: SQLQueryString = ""
        if let tenantId { scope = "AND e.tenant_id = \(bind: tenantId)" }
        let rows = try await db.raw("""
            WITH hours (hour_index, hour_start, hour_end) AS (VALUES \(values))
            SELECT hours.hour_index AS hour, COUNT(*) AS n FROM hours
            JOIN error_logs e ON e.created_at >= hours.hour_start AND e.created_at < hours.hour_end \(scope)
            GROUP BY hours.hour_index
            """).all()
        return try rows.reduce(into: [:]) { $0[try $1.decode(column: "hour", as: Int.self)] = try $1.decode(column: "n", as: Int.self) }
    }

    struct Occurrence: Sendable, Encodable, Equatable {
        let service: String
        let errorType: String
        let message: String
        let severity: String
        let requestId: String?
        let createdAt: Date
    }

    func last(tenantId: String?, on db: any SQLDatabase) async throws -> Occurrence? {
        try await db.raw("""
            SELECT * FROM error_logs WHERE 1 = 1 \(scope(tenantId)) ORDER BY created_at DESC, id DESC LIMIT 1
            """).first().map {
            Occurrence(service: try $0.decode(column: "service", as: String.self),
                       errorType: try $0.decode(column: "error_type", as: String.self),
                       message: try $0.decode(column: "message", as: String.self),
                       severity: try $0.decode(column: "severity", as: String.self),
                       requestId: try $0.decode(column: "request_id", as: String?.self),
                       createdAt: try $0.decode(column: "created_at", as: Date.self))
        }
    }
}
