import BooklineCore
import Foundation
import Hummingbird

/// `GET /health`: overall status, database, messaging, service configuration (never secrets)
/// and, when `BOOKLINE_BACKUP_DIR` is set, the age of the newest backup.
/// 200 when ok or degraded, 503 when critical, so load balancers drop a broken instance.
struct HealthRoutes {
    let config: AppConfig
    let monitor: DatabaseHealthMonitor
    let startedAt: ContinuousClock.Instant
    let backups: BackupService

    struct Report: Encodable {
        struct Memory: Encodable { let rss_bytes: Int? }
        struct DatabaseBlock: Encodable {
            let engine: String
            let status: HealthStatus
            let response_time_ms: Double?
            let consecutive_failures: Int
            let last_checked_at: Date?
            let migrations_applied: Int?
            /// PostgreSQL: "enforced" or "bypassed" (see `DatabaseHealthMonitor.State`).
            let row_level_security: String?
        }
        struct Channel: Encodable {
            let configured: Bool
            let mode: String
        }
        struct Messaging: Encodable {
            let sms: Channel
            let email: Channel
        }
        struct Configured: Encodable { let configured: Bool }
        /// Present only when backups are configured; degraded when none is younger than the limit.
        struct BackupBlock: Encodable {
            let status: HealthStatus
            let last_backup_at: Date?
            let age_seconds: Int?
            let max_age_seconds: Int
        }
        struct Services: Encodable {
            let voice_ai: Configured
            let encryption: Configured
        }

        let status: HealthStatus
        let version: String
        let uptime_seconds: Int
        let memory: Memory
        let database: DatabaseBlock
        let messaging: Messaging
        let services: Services
        let backup: BackupBlock?
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("health", use: health)
        router.get("livez") { _, _ in "ok" }
    }

    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> Response {
        var state = monitor.current
        if state.lastCheckedAt == nil { state = await monitor.probe() }
        let freshness = backups.freshness
        let report = Report(
            status: max(state.status, freshness?.status ?? .ok),
            version: BooklineVersion.current,
            uptime_seconds: Int((ContinuousClock.now - startedAt).components.seconds),
            memory: .init(rss_bytes: ProcessMemory.residentBytes()),
            database: .init(
                engine: config.engineName, status: state.status, response_time_ms: state.responseTimeMs,
                consecutive_failures: state.consecutiveFailures, last_checked_at: state.lastCheckedAt,
                migrations_applied: state.migrationsApplied,
                row_level_security: state.rowLevelSecurity
            ),
            messaging: .init(
                sms: .init(configured: config.twilioConfigured, mode: config.twilioConfigured ? "live" : "simulation"),
                email: .init(configured: config.smtpConfigured, mode: config.smtpConfigured ? "live" : "simulation")
            ),
            services: .init(
                voice_ai: .init(configured: config.voiceAIConfigured),
                encryption: .init(configured: config.masterKey != nil)
            ),
            backup: freshness.map {
                .init(status: $0.status, last_backup_at: $0.lastBackupAt, age_seconds: $0.ageSeconds, max_age_seconds: $0.maxAgeSeconds)
            }
        )
        var response = try report.response(from: request, context: context)
        response.status = state.status == .critical ? .serviceUnavailable : .ok
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

extension HealthRoutes.Report: ResponseEncodable {}

enum ProcessMemory {
    /// Resident set size from /proc/self/statm (Linux); nil elsewhere.
    static func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
