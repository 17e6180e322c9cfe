@testable import Bookline
import BooklineCore
import Foundation
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Daily platform jobs: retention, tenant purge, backup freshness")
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
}
