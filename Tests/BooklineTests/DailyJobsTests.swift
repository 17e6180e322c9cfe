@testable import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Platform jobs: retention, tenant purge, backup freshness, quality monitor, cleanup")
struct DailyJobsTests {
    @Test func theDailyJobsAreScheduledOncePerDay() {
        let kinds = PlatformJobs.recurring.filter { $0.every == 86_400 }.map(\.kind)
        #expect(Set(kinds) == ["platform.retention", "platform.tenant_purge", "platform.backup_check"])
        let handled = Set(PlatformJobs.handlers.map(\.kind))
        for job in PlatformJobs.recurring { #expect(handled.contains(job.kind), "\(job.kind) has no handler") }
    }

    @Test func purgeAndRetentionRunAsJobs() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_699_956_800))
        try await withApp(now: clock.closure) { client, services in
            let kept = try await services.makeTenant("Kept")
            let doomed = try await services.makeTenant("Doomed")
            _ = try await client.createLead(#"{"phone": "07400100001"}"#, key: kept.key)
            _ = try await TenantLifecycle(services: services).delete(tenantId: doomed.id, reason: nil, actor: .system("test"))
            clock.advance(by: 800 * 86_400)
            let worker = JobWorker(services: services, concurrency: 4)
            for kind in ["platform.retention", "platform.tenant_purge"] {
                _ = try await services.jobs.enqueue(NewJob(kind: kind, runAt: clock.now), now: clock.now, database: services.database)
            }
            while try await worker.runOnce() > 0 {}
            #expect(try await services.countRows("leads", tenantId: kept.id) == 0)
            #expect(try await services.auditActions(tenantId: kept.id).last == "retention.applied")
            #expect(try await DataSubjectFixture.rowsWithTenant(doomed.id, in: services) == [:])
            let failed = try await services.database.sql.raw("SELECT COUNT(*) AS n FROM jobs WHERE status <> 'done'").first()?
                .decode(column: "n", as: Int.self)
            #expect(failed == 0)
        }
    }

    @Test func aStaleOrMissingBackupIsACriticalError() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bookline-backup-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await withApp(configure: { $0.backup.directory = folder.path }) { _, services in
            try await PlatformJobs.backupCheck(JobContext(services: services, workerId: "test"))
            let rows = try await services.database.sql.raw("SELECT severity, message FROM error_logs WHERE error_type = 'backup_stale'").all()
            #expect(rows.count == 1)
            #expect(try rows.first?.decode(column: "severity", as: String.self) == "critical")
            #expect(try rows.first?.decode(column: "message", as: String.self).contains("there is none") == true)

            // A fresh backup: nothing to report.
            _ = try await services.backups.backup(from: services.database)
            try await PlatformJobs.backupCheck(JobContext(services: services, workerId: "test"))
            #expect(try await services.database.sql.raw("SELECT COUNT(*) AS n FROM error_logs WHERE error_type = 'backup_stale'")
                .first()?.decode(column: "n", as: Int.self) == 1)
        }
        // Not configured: the check says nothing.
        try await withApp { _, services in
            try await PlatformJobs.backupCheck(JobContext(services: services, workerId: "test"))
            #expect(try await services.database.sql.raw("SELECT COUNT(*) AS n FROM error_logs").first()?.decode(column: "n", as: Int.self) == 0)
        }
    }

    /// The hourly quality monitor warns about each tenant whose outbound messages of the last
    /// hour (10 or more) failed more than 20% of the time, and each with over 50 errors in the
    /// hour; older rows, queued messages and tenants under the thresholds raise nothing.
    @Test func theQualityMonitorWarnsAboutFailingDeliveryAndManyErrors() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_699_956_800))
        try await withApp(now: clock.closure) { _, services in
            let db = services.database.sql
            let failing = try await services.makeTenant("Failing").id
            let healthy = try await services.makeTenant("Healthy").id
            let quiet = try await services.makeTenant("Quiet").id
            let noisy = try await services.makeTenant("Noisy").id
            func messages(_ tenant: String, _ status: String, _ count: Int, minutesAgo: Double = 10) async throws {
                let at = clock.now.addingTimeInterval(-minutesAgo * 60)
                for index in 0..<count {
                    try await db.raw("""
                        INSERT INTO messages (tenant_id, id, channel, direction, to_address, body, status, send_at, created_at, updated_at)
                        VALUES (\(bind: tenant), \(bind: Identifier.make(now: at)), 'sms', 'outbound', '+447400100123',
                                \(bind: "m\(index)"), \(bind: status), \(bind: at), \(bind: at), \(bind: at))
                        """).run()
                }
            }
            func errors(_ tenant: String, _ count: Int, minutesAgo: Double = 10) async throws {
                let at = clock.now.addingTimeInterval(-minutesAgo * 60)
                for _ in 0..<count {
                    try await ErrorLogStore().insert(ErrorReport(tenantId: tenant, service: "sms", errorType: "x", message: "m", severity: .warning),
                                                     id: Identifier.make(now: at), now: at, on: db)
                }
            }
            // 7 of 12 failed (58%); queued ones are not counted as sent.
            try await messages(failing, "failed", 4)
            try await messages(failing, "undelivered", 3)
            try await messages(failing, "delivered", 3)
            try await messages(failing, "sent", 2)
            try await messages(failing, "queued", 20)
            // 2 of 12 (17%) this hour; the 30 failures of 90 minutes ago are outside it.
            try await messages(healthy, "failed", 2)
            try await messages(healthy, "delivered", 10)
            try await messages(healthy, "failed", 30, minutesAgo: 90)
            // All failed, but 5 messages are too few to judge.
            try await messages(quiet, "failed", 5)
            // 51 errors this hour is too many; 50 (plus older ones) is not.
            try await errors(noisy, 51)
            try await errors(healthy, 50)
            try await errors(healthy, 20, minutesAgo: 61)

            try await PlatformJobs.qualityMonitor(JobContext(services: services, workerId: "test"))
            let rows = try await db.raw("""
                SELECT tenant_id, error_type, severity, message FROM error_logs WHERE service = 'quality' ORDER BY error_type
                """).all().map { row in
                    [try row.decode(column: "tenant_id", as: String.self), try row.decode(column: "error_type", as: String.self),
                     try row.decode(column: "severity", as: String.self), try row.decode(column: "message", as: String.self)]
                }
            #expect(rows == [
                [failing, "delivery_failure_rate", "warning", "7 of 12 messages failed in the last hour"],
                [noisy, "tenant_error_rate", "warning", "51 errors in the last hour"],
            ])
        }
    }

    /// The hourly cleanup drops idempotency records past their expiry and jobs finished over a
    /// week ago; a record still live, a job finished yesterday and an old job not yet run stay.
    @Test func cleanupRemovesExpiredIdempotencyRecordsAndOldFinishedJobs() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_699_956_800))
        try await withApp(now: clock.closure) { client, services in
            let db = services.database.sql
            let tenant = try await services.makeTenant()
            let worker = JobWorker(services: services, concurrency: 4)
            func idempotentWrite(_ key: String) async throws -> TestResponse {
                try await client.request(.post, "/api/keys", key: tenant.key, headers: [HTTPField.Name("Idempotency-Key")!: key],
                                         json: #"{"name": "\#(key)"}"#)
            }
            #expect(try await idempotentWrite("old-write").status == .created)
            let old = try await services.jobs.enqueue(NewJob(kind: "platform.noop", runAt: clock.now), now: clock.now, database: services.database)
            let later = try await services.jobs.enqueue(NewJob(kind: "platform.noop", runAt: clock.now.addingTimeInterval(30 * 86_400)),
                                                        now: clock.now, database: services.database)
            while try await worker.runOnce() > 0 {}

            clock.advance(by: 8 * 86_400)
            #expect(try await idempotentWrite("fresh-write").status == .created)
            let fresh = try await services.jobs.enqueue(NewJob(kind: "platform.noop", runAt: clock.now), now: clock.now, database: services.database)
            while try await worker.runOnce() > 0 {}
            func jobs() async throws -> [String: String] {
                try await db.raw("SELECT id, status FROM jobs WHERE id IN (\(binds: [old.id, later.id, fresh.id]))").all()
                    .reduce(into: [:]) { $0[try $1.decode(column: "id", as: String.self)] = try $1.decode(column: "status", as: String.self) }
            }
            #expect(try await jobs() == [old.id: "done", later.id: "pending", fresh.id: "done"])
            func keys() async throws -> [String] {
                try await db.raw("SELECT idempotency_key FROM idempotency_keys ORDER BY idempotency_key").all()
                    .map { try $0.decode(column: "idempotency_key", as: String.self) }
            }
            #expect(try await keys() == ["fresh-write", "old-write"], "the expired record is only skipped, not yet removed")

            try await PlatformJobs.cleanup(JobContext(services: services, workerId: "test"))
            #expect(try await keys() == ["fresh-write"])
            #expect(try await jobs() == [later.id: "pending", fresh.id: "done"])
            // The record kept still replays its answer.
            let replayed = try await idempotentWrite("fresh-write")
            #expect(replayed.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
        }
    }
}
