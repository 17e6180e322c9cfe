import BooklineCore
import Foundation
import Logging
import Metrics
import SQLKit
import Synchronization

/// The registered kinds of job and the way into the queue. A job of a kind no handler knows is
/// parked as failed with that reason (never silently dropped); an admin can retry it later.
public final class JobQueue: Sendable {
    private let registry: Mutex<[String: JobHandler]>
    let store: JobStore

    init(handlers: [JobHandler], engine: Database.Engine) {
        registry = Mutex(Dictionary(handlers.map { ($0.kind, $0) }, uniquingKeysWith: { _, last in last }))
        store = JobStore(engine: engine)
    }

    /// Adds (or replaces) the handler of a kind; features register theirs at start-up.
    public func register(_ handler: JobHandler) {
        registry.withLock { $0[handler.kind] = handler }
    }

    func handler(for kind: String) -> JobHandler? { registry.withLock { $0[kind] } }

    func policy(for kind: String) -> JobPolicy { handler(for: kind)?.policy ?? .standard }

    /// Adds a job in its own transaction.
    @discardableResult
    public func enqueue(_ new: NewJob, now: Date, database: Database) async throws -> Job {
        try await database.transaction { db in try await self.enqueue(new, now: now, on: db) }
    }

    /// Adds a job in the caller's transaction; an idempotency key already used returns that job.
    @discardableResult
    public func enqueue(_ new: NewJob, now: Date, on db: any SQLDatabase) async throws -> Job {
        let (job, created) = try await store.enqueue(new, maxAttempts: policy(for: new.kind).maxAttempts, now: now, on: db)
        if created { Counter(label: "bookline_jobs_enqueued_total", dimensions: [("kind", new.kind)]).increment() }
        return job
    }
}

extension AppServices {
    /// `bookline jobs list`: counts by kind and status, and the wait of the oldest due job in seconds.
    public func jobSummary() async throws -> (counts: [(kind: String, status: String, count: Int)], oldestDueSeconds: Int) {
        let now = now()
        let counts = try await jobs.store.counts(on: database.sql).map { (kind: $0.kind, status: $0.status, count: $0.count) }
        let oldest = try await jobs.store.oldestDue(now: now, on: database.sql)
        return (counts, oldest.map { max(0, Int(now.timeIntervalSince($0))) } ?? 0)
    }
}

/// Claims due jobs and runs them, `concurrency` at a time, each under its kind's timeout.
/// Failures retry after the kind's backoff until its attempts are used up, then the job is
/// parked as failed with the reason. Every instance (and `bookline worker`) runs one.
public struct JobWorker: Sendable {
    public let id: String
    let services: AppServices
    let queue: JobQueue
    let concurrency: Int
    /// How long a claimed job is ours (BOOKLINE_JOB_LEASE_SECONDS, default 300); it must exceed
    /// every kind's timeout, so a live worker always finishes (or abandons) a job before it expires.
    var lease: TimeInterval { services.config.jobLeaseSeconds }

    public init(services: AppServices, concurrency: Int, id: String? = nil) {
        self.services = services
        self.queue = services.jobs
        self.concurrency = max(1, concurrency)
        self.id = id ?? "\(ProcessInfo.processInfo.hostName.prefix(40)):\(ProcessInfo.processInfo.processIdentifier):\(Identifier.make().suffix(6))"
    }

    /// Claims and runs one batch of up to `concurrency` jobs; returns how many it ran.
    @discardableResult
    public func runOnce() async throws -> Int {
        let claimed = try await claim(limit: concurrency)
        await withTaskGroup(of: Void.self) { group in
            for job in claimed { group.addTask { await run(job) } }
        }
        return claimed.count
    }

    func claim(limit: Int) async throws -> [Job] {
        let now = services.now()
        return try await services.database.transaction { [id] db in
            try await queue.store.claim(worker: id, now: now, leaseUntil: now.addingTimeInterval(lease), limit: limit, on: db)
        }
    }

    func run(_ job: Job) async {
        var job = job
        let handler = queue.handler(for: job.kind)
        let started = services.now()
        // Due → started: the scheduling latency the benchmark reports.
        Timer(label: "bookline_job_delay_seconds", dimensions: [("kind", job.kind)], preferredDisplayUnit: .seconds)
            .recordNanoseconds(Int64(max(0, started.timeIntervalSince(job.runAt)) * 1e9))
        do {
            guard let handler else { throw PermanentJobFailure("no handler for kind \(job.kind)") }
            if job.attempts > job.maxAttempts { throw PermanentJobFailure("lease expired on every one of \(job.maxAttempts) attempts") }
            let context = JobContext(services: services, workerId: id)
            try await withTimeout(handler.policy.timeout) { [job] in try await handler.run(job, context) }
            job.status = .done
            job.lastError = nil
        } catch {
            let permanent = error as? PermanentJobFailure
            let problem = (error as? Problem).map { "\($0.title): \($0.detail ?? "")" }
            let reason = permanent?.reason ?? problem ?? (error is TimeoutError ? "timed out" : TransientError.kind(of: error))
            job.lastError = String(reason.prefix(500))
            if permanent == nil, job.attempts < job.maxAttempts {
                job.status = .pending
                job.runAt = services.now().addingTimeInterval(queue.policy(for: job.kind).delay(afterAttempt: job.attempts))
            } else {
                job.status = .failed
            }
            await services.errors.record(ErrorReport(
                tenantId: job.tenantId, service: "jobs", errorType: "job_\(job.status == .failed ? "failed" : "retrying")",
                message: "\(job.kind) job \(job.id) attempt \(job.attempts): \(job.lastError ?? "")",
                severity: job.status == .failed ? .error : .warning, context: ["kind": job.kind, "job_id": job.id]
            ))
        }
        job.updatedAt = services.now()
        if job.status != .pending { job.finishedAt = job.updatedAt }
        Counter(label: "bookline_jobs_total", dimensions: [("kind", job.kind), ("status", job.status.rawValue)]).increment()
        do {
            let recorded = try await services.database.transaction { [job, id] db in
                try await queue.store.finish(job, worker: id, on: db)
            }
            if !recorded {
                services.logger.warning("[JOBS] result ignored: job was cancelled or taken by another worker", metadata: ["job_id": "\(job.id)"])
            }
        } catch {
            // The lease will expire and another run will record it.
            services.logger.error("[JOBS] could not record a result", metadata: ["job_id": "\(job.id)", "error": "\(TransientError.kind(of: error))"])
        }
    }
}
