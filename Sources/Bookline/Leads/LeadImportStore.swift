import BooklineCore
import Foundation
import SQLKit

/// An import run as `lead_imports` records it.
public struct LeadImportRecord: Sendable {
    public enum Status: String, Sendable, Codable { case running, completed, failed, interrupted }

    public let tenantId: String
    public let id: String
    public var status: Status
    public let format: String
    public let background: Bool
    public let report: ImportReport
    public let error: String?
    public let createdBy: String?
    public let createdAt: Date
    public let updatedAt: Date
    public let finishedAt: Date?
}

/// SQL for `lead_imports`. Progress is written in each batch's transaction, so the row
/// always says exactly how many rows were committed.
public struct LeadImportStore: Sendable {
    /// A running import whose progress has not moved for this long is reported as interrupted
    /// (its process died); batches commit far more often than this.
    static let staleAfter: TimeInterval = 120

    func create(tenantId: String, id: String, format: String, background: Bool, report: ImportReport, createdBy: String?,
                now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO lead_imports (tenant_id, id, status, format, background, total_rows, processed_rows, summary,
                                      created_by, created_at, updated_at)
            VALUES (\(bind: tenantId), \(bind: id), 'running', \(bind: format), \(bind: background ? 1 : 0),
                    \(bind: report.total), 0, \(bind: try Self.json(report)), \(bind: createdBy), \(bind: now), \(bind: now))
            """).run()
    }

    /// Counts only: the per-row outcomes are written once, when the import ends, so progress
    /// writes (and the polls that read them) stay small.
    func progress(tenantId: String, id: String, report: ImportReport, now: Date, on db: any SQLDatabase) async throws {
        var counts = report
        counts.rows = []
        try await db.raw("""
            UPDATE lead_imports SET processed_rows = \(bind: report.processed), summary = \(bind: try Self.json(counts)),
                updated_at = \(bind: now)
            WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)
            """).run()
    }

    func finish(tenantId: String, id: String, status: LeadImportRecord.Status, report: ImportReport, error: String?,
                now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE lead_imports SET status = \(bind: status.rawValue), error = \(bind: error), updated_at = \(bind: now),
                finished_at = \(bind: now), summary = \(bind: try Self.json(report))
            WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id) AND status = 'running'
            """).run()
    }

    func find(tenantId: String, id: String, now: Date, on db: any SQLDatabase) async throws -> LeadImportRecord? {
        try await db.raw("SELECT * FROM lead_imports WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)")
            .first().map { try Self.decode($0, now: now) }
    }

    func list(tenantId: String, limit: Int, cursor: String?, now: Date, on db: any SQLDatabase) async throws -> [LeadImportRecord] {
        let query = db.select().column("*").from("lead_imports").where("tenant_id", .equal, tenantId)
        if let cursor { query.where("id", .lessThan, cursor) }
        return try await query.orderBy("id", .descending).limit(limit).all().map { try Self.decode($0, now: now) }
    }

    /// Marks imports whose process died as interrupted (run at start-up).
    func markStaleInterrupted(now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE lead_imports SET status = 'interrupted', error = 'The server stopped during the import.',
                finished_at = \(bind: now)
            WHERE status = 'running' AND updated_at < \(bind: now.addingTimeInterval(-Self.staleAfter))
            """).run()
    }

    static func json(_ report: ImportReport) throws -> String {
        String(decoding: try JSONEncoder.bookline.encode(report), as: UTF8.self)
    }

    static func decode(_ row: any SQLRow, now: Date) throws -> LeadImportRecord {
        let summary = try row.decode(column: "summary", as: String.self)
        let updatedAt = try row.decode(column: "updated_at", as: Date.self)
        var status = LeadImportRecord.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed
        var error = try row.decode(column: "error", as: String?.self)
        if status == .running, now.timeIntervalSince(updatedAt) > staleAfter {
            status = .interrupted
            error = "The import stopped making progress; the server running it probably stopped."
        }
        var fallback = ImportReport(total: try row.decode(column: "total_rows", as: Int.self), columns: .init())
        fallback.processed = try row.decode(column: "processed_rows", as: Int.self)
        return LeadImportRecord(
            tenantId: try row.decode(column: "tenant_id", as: String.self),
            id: try row.decode(column: "id", as: String.self),
            status: status,
            format: try row.decode(column: "format", as: String.self),
            background: try row.decode(column: "background", as: Int.self) != 0,
            report: (try? JSONDecoder.bookline.decode(ImportReport.self, from: Data(summary.utf8))) ?? fallback,
            error: error,
            createdBy: try row.decode(column: "created_by", as: String?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            updatedAt: updatedAt,
            finishedAt: try row.decode(column: "finished_at", as: Date?.self)
        )
    }
}
