@testable import Bookline
import BooklineCore
import Foundation
import HummingbirdTesting
import SQLKit
import Synchronization
import Testing

/// Counts runs per job id, so a test can prove each job ran exactly once.
final class RunLog: Sendable {
    let runs = Mutex<[String: Int]>([:])
    func record(_ id: String) { runs.withLock { $0[id, default: 0] += 1 } }
    var all: [String: Int] { runs.withLock { $0 } }
}

struct Flaky: Error {}

@Suite("Durable job queue: idempotency, retries, leases, concurrent workers, recurring jobs")
struct JobQueueTests {
    static let start = Date(timeIntervalSince1970: 1_790_000_000)

    func enqueue(_ services: AppServices, _ job: NewJob) async throws -> Job {
        try await services.database.transaction { db in try await services.jobs.enqueue(job, now: services.now(), on: db) }
    }

    func job(_ services: AppServices, _ id: String) async throws -> Job {
        try #require(try await services.jobs.store.find(id: id, on: services.database.sql))
    }

    @Test func anIdempotencyKeyQueuesOneJobAndOnlyDueJobsRun() async throws {
        let clock = TestClock(Self.start)
        try await withApp(now: clock.closure) { _, services in
            let log = RunLog()
            services.jobs.register(JobHandler(kind: "test.record") { job, _ in log.record(job.id) })
            let first = try await enqueue(services, NewJob(kind: "test.record", runAt: Self.start, idempotencyKey: "k-1"))
            let again = try await enqueue(services, NewJob(kind: "test.record", runAt: Self.start.addingTimeInterval(99), idempotencyKey: "k-1"))
            #expect(again.id == first.id && again.runAt == Self.start)
            let later = try await enqueue(services, NewJob(kind: "test.record", runAt: Self.start.addingTimeInterval(60)))
            let worker = JobWorker(services: services, concurrency: 4)
            #expect(try await worker.runOnce() == 1)
            #expect(log.all == [first.id: 1])
            #expect(try await job(services, first.id).status == .done)
            #expect(try await job(services, later.id).status == .pending)
            clock.advance(by: 60)
            #expect(try await worker.runOnce() == 1)
            #expect(try await worker.runOnce() == 0)
            #expect(log.all == [first.id: 1, later.id: 1])
        }
    }

    @Test func failuresRetryAfterOneTwoAndFourHoursThenPark() async throws {
        let clock = TestClock(Self.start)
        try await withApp(now: clock.closure) { _, services in
            let log = RunLog()
            services.jobs.register(JobHandler(kind: "test.flaky") { job, _ in log.record(job.id); throw Flaky() })
            let queued = try await enqueue(services, NewJob(kind: "test.flaky", tenantId: nil, runAt: Self.start))
            let worker = JobWorker(services: services, concurrency: 1)
            var runAts: [TimeInterval] = []
            for _ in 1...3 {
                #expect(try await worker.runOnce() == 1)
                let state = try await job(services, queued.id)
                #expect(state.status == .pending)
                #expect(state.lastError == "Flaky")
                runAts.append(state.runAt.timeIntervalSince(clock.now))
                #expect(try await worker.runOnce() == 0) // not due yet
                clock.advance(by: state.runAt.timeIntervalSince(clock.now))
            }
            #expect(runAts == [3600, 7200, 14_400])
            #expect(try await worker.runOnce() == 1)
            let parked = try await job(services, queued.id)
            #expect(parked.status == .failed)
            #expect(parked.attempts == 4)
            #expect(parked.finishedAt == clock.now)
            #expect(log.all[queued.id] == 4)
            clock.advance(by: 86_400)
            #expect(try await worker.runOnce() == 0)
            let kinds = try await services.database.sql.raw("SELECT error_type FROM error_logs ORDER BY created_at").all()
                .map { try $0.decode(column: "error_type", as: String.self) }
            #expect(kinds == ["job_retrying", "job_retrying", "job_retrying", "job_failed"])
        }
    }

    @Test func permanentFailuresTimeoutsAndUnknownKindsPark() async throws {
        try await withApp { _, services in
            services.jobs.register(JobHandler(kind: "test.refuse") { _, _ in throw PermanentJobFailure("lead has no phone") })
            services.jobs.register(JobHandler(kind: "test.slow", policy: JobPolicy(maxAttempts: 1, backoff: [], timeout: .milliseconds(50))) { _, _ in
                try await Task.sleep(for: .seconds(5))
            })
            let refused = try await enqueue(services, NewJob(kind: "test.refuse", runAt: services.now()))
            let slow = try await enqueue(services, NewJob(kind: "test.slow", runAt: services.now()))
            let unknown = try await enqueue(services, NewJob(kind: "test.nobody", runAt: services.now()))
            #expect(try await JobWorker(services: services, concurrency: 4).runOnce() == 3)
            #expect(try await job(services, refused.id).lastError == "lead has no phone")
            #expect(try await job(services, slow.id).lastError == "timed out")
            #expect(try await job(services, unknown.id).lastError == "no handler for kind test.nobody")
            for id in [refused.id, slow.id, unknown.id] { #expect(try await job(services, id).status == .failed) }
        }
    }

    @Test func aDeadWorkersJobIsTakenAgainWhenItsLeaseExpires() async throws {
        let clock = TestClock(Self.start)
        try await withApp(now: clock.closure) { _, services in
            let log = RunLog()
            services.jobs.register(JobHandler(kind: "test.record") { job, _ in log.record(job.id) })
            let queued = try await enqueue(services, NewJob(kind: "test.record", runAt: Self.start))
            let dead = JobWorker(services: services, concurrency: 1, id: "dead-worker")
            let taken = try await dead.claim(limit: 1) // and then it "dies" without finishing
            #expect(taken.map(\.id) == [queued.id])
            let survivor = JobWorker(services: services, concurrency: 1, id: "survivor")
            #expect(try await survivor.runOnce() == 0) // leased
            clock.advance(by: services.config.jobLeaseSeconds + 1)
            #expect(try await survivor.runOnce() == 1)
            let state = try await job(services, queued.id)
            #expect(state.status == .done && state.attempts == 2)
            // The dead worker's late result is ignored.
            var late = taken[0]
            late.status = .failed
            #expect(try await services.jobs.store.finish(late, worker: "dead-worker", on: services.database.sql) == false)
            #expect(try await job(services, queued.id).status == .done)
            #expect(log.all == [queued.id: 1])
        }
    }

    /// A claim takes at most its limit, however many jobs are due. (On PostgreSQL a claim through
    /// `IN (subquery … SKIP LOCKED)` once took all 20 due jobs for a worker of concurrency 4,
    /// depending on the plan; smoke's killed-worker check on a used database showed it.)
    @Test func aClaimTakesNoMoreThanItsLimit() async throws {
        try await withApp { _, services in
            let now = services.now()
            try await services.database.transaction { db in
                for index in 0..<40 {
                    try await services.jobs.enqueue(NewJob(kind: "test.record", runAt: now, idempotencyKey: "limit-\(index)"), now: now, on: db)
                }
            }
            let worker = JobWorker(services: services, concurrency: 4, id: "limited")
            #expect(try await worker.claim(limit: 4).count == 4)
            let running = try await services.database.sql.raw("SELECT COUNT(*) AS n FROM jobs WHERE status = 'running'").first()?
                .decode(column: "n", as: Int.self)
            #expect(running == 4)
        }
    }

    @Test func twoWorkersNeverRunTheSameJob() async throws {
        try await withApp { _, services in
            let log = RunLog()
            services.jobs.register(JobHandler(kind: "test.record") { job, _ in
                log.record(job.id)
                try await Task.sleep(for: .milliseconds(Int.random(in: 0...3)))
            })
            let now = services.now()
            try await services.database.transaction { db in
                for index in 0..<200 {
                    try await services.jobs.enqueue(NewJob(kind: "test.record", runAt: now, idempotencyKey: "two-\(index)"), now: now, on: db)
                }
            }
            let workers = (0..<2).map { JobWorker(services: services, concurrency: 8, id: "worker-\($0)") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in workers {
                    group.addTask { while try await worker.runOnce() > 0 {} }
                }
                try await group.waitForAll()
            }
            #expect(log.all.count == 200)
            #expect(log.all.values.allSatisfy { $0 == 1 })
            let counts = try await services.jobs.store.counts(on: services.database.sql)
            #expect(counts == [JobStore.Count(kind: "test.record", status: "done", count: 200)])
        }
    }

    @Test func eachRecurringOccurrenceIsOneJobAcrossInstances() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_790_000_123)) // 14:15:23 UTC
        try await withApp(now: clock.closure) { _, services in
            let job = RecurringJob(name: "sweep", kind: "platform.noop", every: 300, offset: 0)
            #expect(job.occurrence(at: clock.now) == Date(timeIntervalSince1970: 1_790_000_100)) // 14:15:00
            let daily = RecurringJob(name: "daily", kind: "platform.noop", every: 86_400, offset: 3 * 3600)
            #expect(daily.occurrence(at: clock.now) == Date(timeIntervalSince1970: 1_789_959_600)) // 03:00 that day
            let instances = (0..<2).map { _ in RecurringScheduler(services: services, jobs: [job, daily]) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for scheduler in instances { group.addTask { try await scheduler.tick(now: clock.now) } }
                try await group.waitForAll()
            }
            #expect(try await services.countJobs() == 2)
            clock.advance(by: 120) // same occurrences
            try await instances[0].tick(now: clock.now)
            #expect(try await services.countJobs() == 2)
            clock.advance(by: 300) // the next five-minute occurrence
            try await instances[1].tick(now: clock.now)
            #expect(try await services.countJobs() == 3)
        }
    }
}

extension AppServices {
    func countJobs() async throws -> Int {
        try await database.sql.raw("SELECT COUNT(*) AS n FROM jobs").first()?.decode(column: "n", as: Int.self) ?? -1
    }
}

@Suite("Admin job API")
struct JobAdminTests {
    @Test func adminsSeeCountsRetryAndCancel() async throws {
        try await withApp { client, services in
            services.jobs.register(JobHandler(kind: "test.fail") { _, _ in throw PermanentJobFailure("no") })
            let now = services.now()
            let (failed, pending) = try await services.database.transaction { db in
                (try await services.jobs.enqueue(NewJob(kind: "test.fail", runAt: now), now: now, on: db),
                 try await services.jobs.enqueue(NewJob(kind: "platform.noop", runAt: now.addingTimeInterval(3600)), now: now, on: db))
            }
            _ = try await JobWorker(services: services, concurrency: 2).runOnce()
            let admin = try await services.makePlatformUser(role: .platformAdmin)
            let token = try await login(client, email: admin.email, password: admin.password)

            let overview = try await client.request(.get, "/api/admin/jobs", key: token).json()
            let counts = (overview["counts"] as? [[String: Any]] ?? []).map { "\($0["kind"]!)/\($0["status"]!)=\($0["count"]!)" }
            #expect(counts == ["platform.noop/pending=1", "test.fail/failed=1"])
            #expect(overview["oldestPendingAgeSeconds"] as? Int == 0)
            let failedOnly = try await client.request(.get, "/api/admin/jobs?status=failed", key: token).json()
            #expect((failedOnly["items"] as? [[String: Any]])?.map { $0["lastError"] as? String } == ["no"])

            let retried = try await client.request(.post, "/api/admin/jobs/\(failed.id)/retry", key: token)
            #expect(try retried.json()["status"] as? String == "pending")
            #expect(try retried.json()["attempts"] as? Int == 0)
            let again = try await client.request(.post, "/api/admin/jobs/\(failed.id)/retry", key: token)
            #expect(again.status == .conflict)
            #expect(try again.problem()["detail"] as? String == "Only failed or cancelled jobs can be retried; this one is pending.")

            let cancelled = try await client.request(.post, "/api/admin/jobs/\(pending.id)/cancel", key: token, json: #"{"reason": "not needed"}"#)
            #expect(try cancelled.json()["status"] as? String == "cancelled")
            #expect(try cancelled.json()["lastError"] as? String == "not needed")
            #expect(try await client.request(.post, "/api/admin/jobs/\(pending.id)/cancel", key: token).status == .conflict)
            #expect(try await client.request(.post, "/api/admin/jobs/01937f4e-0000-7000-8000-000000000000/retry", key: token).status == .notFound)
            #expect(try await client.request(.get, "/api/admin/jobs?status=lost", key: token).status == .unprocessableContent)
            let actions = try await services.database.sql.raw("SELECT action FROM audit_log WHERE action LIKE 'job.%' ORDER BY seq").all()
                .map { try $0.decode(column: "action", as: String.self) }
            #expect(actions == ["job.retried", "job.cancelled"])

            let tenant = try await services.makeTenant()
            #expect(try await client.request(.get, "/api/admin/jobs", key: tenant.key).status == .forbidden)
            #expect(try await client.request(.get, "/api/admin/jobs").status == .unauthorized)
        }
    }
}
