import BooklineCore
import Foundation
import Hummingbird

/// `/api/admin/jobs`: the queue's counts by kind and status, the oldest due job's wait, a
/// filtered list, and retry / cancel of single jobs. Platform admins only; changes are audited.
struct JobAdminRoutes {
    let services: AppServices
    var store: JobStore { services.jobs.store }

    struct JobView: ResponseEncodable {
        let id: String
        let tenantId: String?
        let kind: String
        let payload: [String: String]
        let status: String
        let runAt: Date
        let attempts: Int
        let maxAttempts: Int
        let lastError: String?
        let lockedBy: String?
        let lockedUntil: Date?
        let idempotencyKey: String?
        let createdAt: Date
        let startedAt: Date?
        let finishedAt: Date?

        init(_ job: Job) {
            id = job.id
            tenantId = job.tenantId
            kind = job.kind
            payload = job.payload
            status = job.status.rawValue
            runAt = job.runAt
            attempts = job.attempts
            maxAttempts = job.maxAttempts
            lastError = job.lastError
            lockedBy = job.lockedBy
            lockedUntil = job.lockedUntil
            idempotencyKey = job.idempotencyKey
            createdAt = job.createdAt
            startedAt = job.startedAt
            finishedAt = job.finishedAt
        }
    }

    struct Overview: ResponseEncodable {
        let counts: [JobStore.Count]
        /// Seconds the longest-waiting due job has waited; 0 when none is waiting.
        let oldestPendingAgeSeconds: Int
        let items: [JobView]
        let nextCursor: String?
    }

    struct CancelBody: Decodable {
        var reason: String?
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("jobs", use: overview)
        group.post("jobs/{id}/retry", use: retry)
        group.post("jobs/{id}/cancel", use: cancel)
    }

    @Sendable func overview(_ request: Request, context: AppRequestContext) async throws -> Overview {
        let query = request.uri.queryParameters
        var errors: [Problem.FieldError] = []
        var filter = JobStore.Filter()
        if let text = query["status"] {
            if let status = JobStatus(rawValue: String(text)) { filter.status = status } else {
                errors.append(.init(field: "status", message: "must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        if let kind = query["kind"] {
            if (1...100).contains(kind.count) { filter.kind = String(kind) } else { errors.append(.init(field: "kind", message: "must be 1 to 100 characters")) }
        }
        if let tenantId = query["tenantId"] {
            if Identifier.isValid(tenantId) { filter.tenantId = String(tenantId) } else { errors.append(.init(field: "tenantId", message: "must be a tenant id")) }
        }
        let paging = PageQuery(query, errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let db = services.database.sql
        let now = services.now()
        let rows = try await store.list(filter, limit: paging.limit + 1, cursor: paging.cursor, on: db)
        let page = paging.page(rows, id: \.id)
        let oldest = try await store.oldestDue(now: now, on: db)
        return Overview(
            counts: try await store.counts(on: db),
            oldestPendingAgeSeconds: oldest.map { max(0, Int(now.timeIntervalSince($0))) } ?? 0,
            items: page.items.map(JobView.init), nextCursor: page.nextCursor
        )
    }

    @Sendable func retry(_ request: Request, context: AppRequestContext) async throws -> JobView {
        let id = try context.parameters.require("id")
        let now = services.now()
        let job = try await services.database.transaction { db -> Job in
            guard Identifier.isValid(id), let existing = try await store.find(id: id, on: db) else { throw Problem.notFound("No job with this id.") }
            guard let job = try await store.retry(id: id, now: now, on: db) else {
                throw Problem(status: .conflict, slug: "job-not-retryable", title: "Job cannot be retried",
                              detail: "Only failed or cancelled jobs can be retried; this one is \(existing.status.rawValue).")
            }
            try await services.audit.append(AuditEntry(
                tenantId: nil, actor: context.auditActor(request, principal: context.auth?.principal), action: "job.retried",
                targetType: "job", targetId: id, details: ["kind": job.kind]
            ), on: db, now: now)
            return job
        }
        return JobView(job)
    }

    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> JobView {
        let id = try context.parameters.require("id")
        let body = request.headers[.contentLength] == "0" || request.headers[.contentType] == nil
            ? CancelBody() : try await request.decodeJSON(as: CancelBody.self, context: context)
        let reason = String((body.reason ?? "cancelled by an admin").prefix(500))
        let now = services.now()
        let job = try await services.database.transaction { db -> Job in
            guard Identifier.isValid(id), let existing = try await store.find(id: id, on: db) else { throw Problem.notFound("No job with this id.") }
            guard let job = try await store.cancel(id: id, reason: reason, now: now, on: db) else {
                throw Problem(status: .conflict, slug: "job-not-cancellable", title: "Job cannot be cancelled",
                              detail: "Only pending, running or failed jobs can be cancelled; this one is \(existing.status.rawValue).")
            }
            try await services.audit.append(AuditEntry(
                tenantId: nil, actor: context.auditActor(request, principal: context.auth?.principal), action: "job.cancelled",
                targetType: "job", targetId: id, details: ["kind": job.kind, "reason": reason]
            ), on: db, now: now)
            return job
        }
        return JobView(job)
    }
}
