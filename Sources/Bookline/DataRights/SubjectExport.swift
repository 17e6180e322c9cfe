import BooklineCore
import Foundation
import Hummingbird
import SQLKit

/// GDPR Art. 15/20: every row about one person in one tenant, as one machine-readable document
/// with a manifest of its sources. Small ones are answered at once; large ones run as a
/// `compliance.subject_export` job whose sealed result `GET /api/compliance/subject-exports/{id}` returns.
struct SubjectExport: Sendable {
    static let format = "bookline.subject-export.v1"
    static let kind = "compliance.subject_export"
    /// How long a finished document is kept for download.
    static let lifetime: TimeInterval = 7 * 86400

    let services: AppServices

    /// Rows about the subject, per table (only tables with any).
    func counts(_ subject: DataSubject, tenantId: String) async throws -> [String: Int] {
        let engine = services.database.engine
        let hasher = services.optOuts.hasher
        return try await services.database.snapshotRead { db in
            let scope = try await SubjectScope.resolve(subject, tenantId: tenantId, engine: engine, hasher: hasher, on: db)
            var counts: [String: Int] = [:]
            for table in DataRegistry.exportedTables {
                guard let filter = scope.filter(for: table.name), let column = table.tenantColumn else { continue }
                let count = try await db.raw("SELECT COUNT(*) AS n FROM \(ident: table.name) WHERE \(ident: column) = \(bind: tenantId) AND (" + filter + ")")
                    .first()?.decode(column: "n", as: Int.self) ?? 0
                if count > 0 { counts[table.name] = count }
            }
            return counts
        }
    }

    /// The document: `{format, tenantId, subject, generatedAt, manifest: [{table, rows}], data: {table: [rows]}}`.
    func document(_ subject: DataSubject, tenantId: String) async throws -> JSONValue {
        let engine = services.database.engine
        let hasher = services.optOuts.hasher
        let now = services.now()
        return try await services.database.snapshotRead { db in
            let scope = try await SubjectScope.resolve(subject, tenantId: tenantId, engine: engine, hasher: hasher, on: db)
            var data: [String: JSONValue] = [:]
            var manifest: [JSONValue] = []
            for table in DataRegistry.exportedTables {
                guard let filter = scope.filter(for: table.name) else { continue }
                var rows: [JSONValue] = []
                try await RowReader(table: table).read(tenantId: tenantId, filter: filter, on: db) { page in
                    rows.append(contentsOf: page.map(JSONValue.object))
                }
                guard !rows.isEmpty else { continue }
                data[table.name] = .array(rows)
                manifest.append(.object(["table": .string(table.name), "rows": .integer(rows.count)]))
            }
            var subjectValue: [String: JSONValue] = [:]
            if let phone = subject.phone { subjectValue["phone"] = .string(phone) }
            if let email = subject.email { subjectValue["email"] = .string(email) }
            return .object([
                "format": .string(Self.format), "tenantId": .string(tenantId), "subject": .object(subjectValue),
                "generatedAt": .string(ISOTime.string(now)), "manifest": .array(manifest), "data": .object(data),
            ])
        }
    }

    /// Records a pending export (subject sealed) and queues its job.
    func start(_ subject: DataSubject, tenantId: String, requestedBy: String?) async throws -> String {
        let now = services.now()
        let id = Identifier.make(now: now)
        let sealed = try services.box.seal(try JSONEncoder.bookline.encode(subject))
        let jobs = services.jobs
        try await services.database.transaction { db in
            try await db.raw("""
                INSERT INTO subject_exports (tenant_id, id, status, subject_sealed, requested_by, created_at, expires_at)
                VALUES (\(bind: tenantId), \(bind: id), 'pending', \(bind: sealed), \(bind: requestedBy), \(bind: now),
                        \(bind: now.addingTimeInterval(Self.lifetime)))
                """).run()
            _ = try await jobs.enqueue(NewJob(kind: Self.kind, tenantId: tenantId, payload: ["exportId": id], runAt: now,
                                              idempotencyKey: "subject-export:\(id)"), now: now, on: db)
        }
        return id
    }

    static let handler = JobHandler(kind: kind, policy: JobPolicy(maxAttempts: 3, backoff: [60, 300], timeout: .seconds(600))) { job, context in
        guard let tenantId = job.tenantId, let id = job.payload["exportId"] else { throw PermanentJobFailure("no export id") }
        try await SubjectExport(services: context.services).run(id: id, tenantId: tenantId)
    }

    func run(id: String, tenantId: String) async throws {
        let db = services.database.sql
        guard let row = try await db.raw("""
            SELECT subject_sealed FROM subject_exports WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id) AND status = 'pending'
            """).first() else { return }
        let subject = try JSONDecoder().decode(DataSubject.self, from: services.box.open(try row.decode(column: "subject_sealed", as: String.self)))
        let document = try await document(subject, tenantId: tenantId)
        let sealed = try services.box.seal(document.jsonLine)
        try await db.raw("""
            UPDATE subject_exports SET status = 'completed', document_sealed = \(bind: sealed), finished_at = \(bind: services.now())
            WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)
            """).run()
    }

    struct Status: Sendable, ResponseEncodable {
        let id: String
        let tenantId: String
        let status: String
        let createdAt: Date
        let finishedAt: Date?
        let expiresAt: Date
        let document: JSONValue?
    }

    func status(id: String) async throws -> Status? {
        guard let row = try await services.database.sql.raw("""
            SELECT tenant_id, id, status, document_sealed, created_at, finished_at, expires_at FROM subject_exports
            WHERE id = \(bind: id) AND expires_at > \(bind: services.now())
            """).first() else { return nil }
        let document = try row.decode(column: "document_sealed", as: String?.self).map {
            try JSONDecoder().decode(JSONValue.self, from: services.box.open($0))
        }
        return Status(id: id, tenantId: try row.decode(column: "tenant_id", as: String.self),
                      status: try row.decode(column: "status", as: String.self),
                      createdAt: try row.decode(column: "created_at", as: Date.self),
                      finishedAt: try row.decode(column: "finished_at", as: Date?.self),
                      expiresAt: try row.decode(column: "expires_at", as: Date.self), document: document)
    }
}
