import BooklineCore
import Foundation
import SQLKit

/// The platform's own kinds of job and their schedule.
enum PlatformJobs {
    static let recurring: [RecurringJob] = [
        RecurringJob(name: "database-health", kind: "platform.database_health", every: 300, offset: 0),
        RecurringJob(name: "quality-monitor", kind: "platform.quality_monitor", every: 3600, offset: 0),
        RecurringJob(name: "cleanup", kind: "platform.cleanup", every: 3600, offset: 900),
        RecurringJob(name: "reminder-sweep", kind: "appointments.reminder_sweep", every: 300, offset: 60),
        // Daily, at quiet hours (UTC): retention at 02:30, the purge of deleted tenants at 03:00.
        RecurringJob(name: "retention", kind: "platform.retention", every: 86_400, offset: 9_000),
        RecurringJob(name: "tenant-purge", kind: "platform.tenant_purge", every: 86_400, offset: 10_800),
        RecurringJob(name: "backup-check", kind: "platform.backup_check", every: 86_400, offset: 21_600),
    ]

    /// Housekeeping retries soon; it runs again at its next occurrence anyway.
    static let housekeeping = JobPolicy(maxAttempts: 3, backoff: [60, 300], timeout: .seconds(120))

    static var handlers: [JobHandler] {
        [
            JobHandler(kind: "platform.noop", policy: JobPolicy(maxAttempts: 1, backoff: [], timeout: .seconds(5))) { _, _ in },
            JobHandler(kind: "platform.database_health", policy: housekeeping) { _, context in try await databaseHealth(context) },
            JobHandler(kind: "platform.quality_monitor", policy: housekeeping) { _, context in try await qualityMonitor(context) },
            JobHandler(kind: "platform.cleanup", policy: housekeeping) { _, context in try await cleanup(context) },
            JobHandler(kind: "appointments.reminder_sweep", policy: housekeeping) { _, context in try await AppointmentMessages.sweep(context) },
            JobHandler(kind: "platform.retention", policy: housekeeping) { _, context in
                let results = try await Retention(services: context.services).run(actor: .system("retention"))
                context.services.logger.info("[RETENTION] applied", metadata: ["tenants": "\(results.count)"])
            },
            JobHandler(kind: "platform.backup_check", policy: housekeeping) { _, context in try await backupCheck(context) },
            JobHandler(kind: "platform.tenant_purge", policy: housekeeping) { _, context in
                let purged = try await TenantLifecycle(services: context.services).purgeDue(actor: .system("tenant-purge"))
                context.services.logger.info("[PURGE] deleted tenants purged", metadata: ["tenants": "\(purged.count)"])
            },
        ]
    }

    /// With backups configured, no backup younger than 48 hours is a critical error (and so an
    /// alert to ADMIN_EMAIL and Slack): losing the database then would lose days.
    static func backupCheck(_ context: JobContext) async throws {
        guard let freshness = context.services.backups.freshness else { return }
        guard freshness.status != .ok else { return }
        let age = freshness.ageSeconds.map { "the newest is \($0 / 3600) hours old" } ?? "there is none"
        await context.services.errors.record(ErrorReport(
            service: "backup", errorType: "backup_stale",
            message: "no backup younger than \(freshness.maxAgeSeconds / 3600) hours: \(age)", severity: .critical
        ))
    }

    /// A database answering slowly is worth a warning before it stops answering at all.
    static func databaseHealth(_ context: JobContext) async throws {
        let state = await context.services.databaseHealth.probe()
        if let milliseconds = state.responseTimeMs, milliseconds > 1000 {
            await context.services.errors.record(ErrorReport(
                service: "database", errorType: "database_slow", message: "probe took \(Int(milliseconds)) ms", severity: .warning
            ))
        }
    }

    /// Per tenant, over the last hour: delivery failures above 20% of at least 10 messages,
    /// and more than 50 recorded errors, each become a warning (and so count toward alerts).
    static func qualityMonitor(_ context: JobContext) async throws {
        let services = context.services
        let since = services.now().addingTimeInterval(-3600)
        let db = services.database.sql
        let delivery = try await db.raw("""
            SELECT tenant_id, COUNT(*) AS total,
                   SUM(CASE WHEN status IN ('failed', 'undelivered') THEN 1 ELSE 0 END) AS failed
            FROM messages WHERE direction = 'outbound' AND updated_at >= \(bind: since)
              AND status IN ('sent', 'delivered', 'failed', 'undelivered')
            GROUP BY tenant_id
            """).all()
        for row in delivery {
            let tenantId = try row.decode(column: "tenant_id", as: String.self)
            let total = try row.decode(column: "total", as: Int.self), failed = try row.decode(column: "failed", as: Int.self)
            guard total >= 10, failed * 5 > total else { continue }
            await services.errors.record(ErrorReport(
                tenantId: tenantId, service: "quality", errorType: "delivery_failure_rate",
                message: "\(failed) of \(total) messages failed in the last hour", severity: .warning
            ))
        }
        let errors = try await db.raw("""
            SELECT tenant_id, COUNT(*) AS n FROM error_logs
            WHERE created_at >= \(bind: since) AND tenant_id IS NOT NULL GROUP BY tenant_id
            """).all()
        for row in errors {
            let count = try row.decode(column: "n", as: Int.self)
            guard count > 50 else { continue }
            await services.errors.record(ErrorReport(
                tenantId: try row.decode(column: "tenant_id", as: String.self), service: "quality", errorType: "tenant_error_rate",
                message: "\(count) errors in the last hour", severity: .warning
            ))
        }
    }

    /// Expired idempotency records and subject exports, week-old finished jobs, spent rate-limit
    /// hits and refresh tokens a week past expiry.
    static func cleanup(_ context: JobContext) async throws {
        let services = context.services
        let now = services.now()
        let removed = try await services.database.transaction { db -> [String: Int] in
            var removed: [String: Int] = [:]
            removed["idempotency_keys"] = try await db.raw("DELETE FROM idempotency_keys WHERE expires_at < \(bind: now) RETURNING scope")
                .all().count
            removed["jobs"] = try await JobStore(engine: services.database.engine)
                .deleteFinished(before: now.addingTimeInterval(-7 * 86_400), on: db)
            removed["rate_limit_hits"] = try await db.raw("""
                DELETE FROM rate_limit_hits WHERE at < \(bind: now.timeIntervalSince1970 - 3600) RETURNING bucket
                """).all().count
            removed["subject_exports"] = try await db.raw("DELETE FROM subject_exports WHERE expires_at < \(bind: now) RETURNING id")
                .all().count
            removed["refresh_tokens"] = try await db.raw("""
                DELETE FROM refresh_tokens WHERE expires_at < \(bind: now.addingTimeInterval(-7 * 86_400)) RETURNING id
                """).all().count
            return removed
        }
        services.logger.info("[JOBS] cleanup", metadata: removed.reduce(into: [:]) { $0[$1.key] = "\($1.value)" })
    }
}
