import BooklineCore
import Foundation
import SQLKit

/// SQL for `jobs`. Claiming is one atomic statement: `UPDATE … RETURNING` over the due rows,
/// which on PostgreSQL are picked `FOR UPDATE SKIP LOCKED`, so two workers never take one job.
public struct JobStore: Sendable {
    let engine: Database.Engine

    /// Inserts the job unless its idempotency key is taken; returns the job with that key either way.
    func enqueue(_ new: NewJob, maxAttempts: Int, now: Date, on db: any SQLDatabase) async throws -> (job: Job, created: Bool) {
        let id = Identifier.make(now: now)
        let payload = String(decoding: try JSONEncoder.bookline.encode(new.payload), as: UTF8.self)
        let inserted = try await db.raw("""
            INSERT INTO jobs (id, tenant_id, kind, payload, status, run_at, attempts, max_attempts, idempotency_key,
                              created_at, updated_at)
            VALUES (\(bind: id), \(bind: new.tenantId), \(bind: new.kind), \(bind: payload), 'pending', \(bind: new.runAt), 0,
                    \(bind: maxAttempts), \(bind: new.idempotencyKey), \(bind: now), \(bind: now))
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING *
            """).first().map(Self.decode)
        if let inserted { return (inserted, true) }
        guard let key = new.idempotencyKey, let existing = try await find(idempotencyKey: key, on: db) else {
            throw Problem(status: .conflict, slug: "job-conflict", title: "Job not created", detail: "The job could not be queued.")
        }
        return (existing, false)
    }

    func find(id: String, on db: any SQLDatabase) async throws -> Job? {
        try await db.raw("SELECT * FROM jobs WHERE id = \(bind: id)").first().map(Self.decode)
    }

    func find(idempotencyKey: String, on db: any SQLDatabase) async throws -> Job? {
        try await db.raw("SELECT * FROM jobs WHERE idempotency_key = \(bind: idempotencyKey)").first().map(Self.decode)
    }

    /// Takes up to `limit` due jobs for `worker` until `leaseUntil`: running ones whose worker's
    /// lease ran out (it died or hung) first, then pending ones whose time has come. Two
    /// statements rather than one `OR`, so each walks the (status, run_at) index instead of the table.
    func claim(worker: String, now: Date, leaseUntil: Date, limit: Int, on db: any SQLDatabase) async throws -> [Job] {
        let expired = try await claim(worker: worker, now: now, leaseUntil: leaseUntil, limit: limit,
                                      where: "status = 'running' AND locked_until < \(bind: now)", on: db)
        guard expired.count < limit else { return expired }
        let due = try await claim(worker: worker, now: now, leaseUntil: leaseUntil, limit: limit - expired.count,
                                  where: "status = 'pending' AND run_at <= \(bind: now)", on: db)
        return (expired + due).sorted { $0.runAt < $1.runAt }
    }

    private func claim(worker: String, now: Date, leaseUntil: Date, limit: Int, where condition: SQLQueryString,
                       on db: any SQLDatabase) async throws -> [Job] {
        guard engine == .postgres else {
            return try await db.raw("""
                UPDATE jobs SET status = 'running', locked_by = \(bind: worker), locked_until = \(bind: leaseUntil),
                    attempts = attempts + 1, started_at = \(bind: now), updated_at = \(bind: now)
                WHERE id IN (SELECT id FROM jobs WHERE \(condition) ORDER BY run_at LIMIT \(literal: limit))
                RETURNING *
                """).all().map(Self.decode)
        }
        // The rows are picked once, in a CTE. As `WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP
        // LOCKED)` PostgreSQL may run the subquery again for each row it updates, and with SKIP
        // LOCKED each run finds other rows: a worker of concurrency 4 claimed all 20 due jobs.
        return try await db.raw("""
            WITH picked AS (SELECT id FROM jobs WHERE \(condition) ORDER BY run_at LIMIT \(literal: limit) FOR UPDATE SKIP LOCKED)
            UPDATE jobs SET status = 'running', locked_by = \(bind: worker), locked_until = \(bind: leaseUntil),
                attempts = attempts + 1, started_at = \(bind: now), updated_at = \(bind: now)
            FROM picked WHERE jobs.id = picked.id
            RETURNING jobs.*
            """).all().map(Self.decode)
    }

    /// Records how a run ended, unless another worker has taken the job since (its lease expired).
    @discardableResult
    func finish(_ job: Job, worker: String, on db: any SQLDatabase) async throws -> Bool {
        let rows = try await db.raw("""
            UPDATE jobs SET status = \(bind: job.status.rawValue), run_at = \(bind: job.runAt), last_error = \(bind: job.lastError),
                locked_by = NULL, locked_until = NULL, finished_at = \(bind: job.finishedAt), updated_at = \(bind: job.updatedAt)
            WHERE id = \(bind: job.id) AND locked_by = \(bind: worker) AND status = 'running'
            RETURNING id
            """).all()
        return !rows.isEmpty
    }

    /// Admin: a failed or cancelled job runs again now, with a fresh set of attempts.
    func retry(id: String, now: Date, on db: any SQLDatabase) async throws -> Job? {
        try await db.raw("""
            UPDATE jobs SET status = 'pending', attempts = 0, run_at = \(bind: now), last_error = NULL, finished_at = NULL,
                updated_at = \(bind: now)
            WHERE id = \(bind: id) AND status IN ('failed', 'cancelled')
            RETURNING *
            """).first().map(Self.decode)
    }

    /// Cancels a job that has not finished; a running one stops counting (its result is ignored).
    func cancel(id: String, reason: String, now: Date, on db: any SQLDatabase) async throws -> Job? {
        try await db.raw("""
            UPDATE jobs SET status = 'cancelled', last_error = \(bind: reason), locked_by = NULL, locked_until = NULL,
                finished_at = \(bind: now), updated_at = \(bind: now)
            WHERE id = \(bind: id) AND status IN ('pending', 'running', 'failed')
            RETURNING *
            """).first().map(Self.decode)
    }

    /// Cancels every pending job with this key prefix (a cancelled appointment's reminders).
    @discardableResult
    func cancelPending(keyPrefix: String, reason: String, now: Date, on db: any SQLDatabase) async throws -> Int {
        try await db.raw("""
            UPDATE jobs SET status = 'cancelled', last_error = \(bind: reason), finished_at = \(bind: now), updated_at = \(bind: now)
            WHERE status = 'pending' AND idempotency_key LIKE \(bind: LeadStore.escapeLike(keyPrefix) + "%") ESCAPE '\\'
            RETURNING id
            """).all().count
    }

    struct Count: Sendable, Encodable, Equatable {
        let kind: String
        let status: String
        let count: Int
    }

    func counts(on db: any SQLDatabase) async throws -> [Count] {
        try await db.raw("SELECT kind, status, COUNT(*) AS n FROM jobs GROUP BY kind, status ORDER BY kind, status").all().map {
            Count(kind: try $0.decode(column: "kind", as: String.self), status: try $0.decode(column: "status", as: String.self),
                  count: try $0.decode(column: "n", as: Int.self))
        }
    }

    /// The run time of the longest-waiting due job (nil when none is waiting).
    func oldestDue(now: Date, on db: any SQLDatabase) async throws -> Date? {
        try await db.raw("SELECT MIN(run_at) AS oldest FROM jobs WHERE status = 'pending' AND run_at <= \(bind: now)")
            .first()?.decode(column: "oldest", as: Date?.self)
    }

    struct Filter: Sendable {
        var status: JobStatus?
        var kind: String?
        var tenantId: String?
    }

    func list(_ filter: Filter, limit: Int, cursor: String?, on db: any SQLDatabase) async throws -> [Job] {
        let query = db.select().column("*").from("jobs")
        if let status = filter.status { query.where("status", .equal, status.rawValue) }
        if let kind = filter.kind { query.where("kind", .equal, kind) }
        if let tenantId = filter.tenantId { query.where("tenant_id", .equal, tenantId) }
        if let cursor { query.where("id", .lessThan, cursor) }
        return try await query.orderBy("id", .descending).limit(limit).all().map(Self.decode)
    }

    /// Cleanup: finished jobs older than `before` (their idempotency keys go with them, so only
    /// keys that cannot recur are ever removed: occurrences and ids are in the past).
    func deleteFinished(before: Date, on db: any SQLDatabase) async throws -> Int {
        try await db.raw("""
            DELETE FROM jobs WHERE status IN ('done', 'cancelled') AND finished_at < \(bind: before) RETURNING id
            """).all().count
    }

    static func decode(_ row: any SQLRow) throws -> Job {
        let payload = try row.decode(column: "payload", as: String.self)
        return Job(
            id: try row.decode(column: "id", as: String.self),
            tenantId: try row.decode(column: "tenant_id", as: String?.self),
            kind: try row.decode(column: "kind", as: String.self),
            payload: (try? JSONDecoder().decode([String: String].self, from: Data(payload.utf8))) ?? [:],
            status: JobStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
            runAt: try row.decode(column: "run_at", as: Date.self),
            attempts: try row.decode(column: "attempts", as: Int.self),
            maxAttempts: try row.decode(column: "max_attempts", as: Int.self),
            lastError: try row.decode(column: "last_error", as: String?.self),
            lockedBy: try row.decode(column: "locked_by", as: String?.self),
            lockedUntil: try row.decode(column: "locked_until", as: Date?.self),
            idempotencyKey: try row.decode(column: "idempotency_key", as: String?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            updatedAt: try row.decode(column: "updated_at", as: Date.self),
            startedAt: try row.decode(column: "started_at", as: Date?.self),
            finishedAt: try row.decode(column: "finished_at", as: Date?.self)
        )
    }
}
