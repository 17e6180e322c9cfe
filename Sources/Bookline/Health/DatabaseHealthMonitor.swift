import BooklineCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Probes the database and remembers the outcome: after `rule.criticalAfter` failures in a
/// row the database (and so /health) is critical.
public final class DatabaseHealthMonitor: Sendable {
    public struct State: Sendable, Equatable {
        public var status: HealthStatus = .ok
        public var consecutiveFailures = 0
        public var responseTimeMs: Double?
        public var lastCheckedAt: Date?
        public var migrationsApplied: Int?
        /// PostgreSQL only: "enforced", or "bypassed" when Bookline connects as a superuser or a
        /// BYPASSRLS role (tenants are then kept apart by the application's filters alone).
        public var rowLevelSecurity: String?
    }

    private let database: Database
    private let rule: DatabaseHealthRule
    private let timeout: Duration
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    public init(database: Database, rule: DatabaseHealthRule = .init(), timeout: Duration = .seconds(2),
                logger: Logger, now: @escaping @Sendable () -> Date) {
        self.database = database
        self.rule = rule
        self.timeout = timeout
        self.logger = logger
        self.now = now
    }

    public var current: State { state.withLock { $0 } }

    /// Runs `SELECT 1` (bounded by the timeout), then counts applied migrations.
    @discardableResult
    public func probe() async -> State {
        let start = ContinuousClock.now
        let succeeded: Bool
        do {
            try await withTimeout(timeout) { [database] in
                _ = try await database.sql.raw("SELECT 1 AS ok").first()
            }
            succeeded = true
        } catch {
            succeeded = false
            logger.warning("[DB HEALTH] probe failed", metadata: ["error": "\(TransientError.kind(of: error))"])
        }
        let elapsed = ContinuousClock.now - start
        let milliseconds = (Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        let migrations = succeeded ? try? await Migrator.appliedCount(in: database) : nil
        let rowLevelSecurity = succeeded ? await rowLevelSecurityState() : nil
        let checkedAt = now()

        let (previous, updated) = state.withLock { state -> (State, State) in
            let previous = state
            state.consecutiveFailures = succeeded ? 0 : state.consecutiveFailures + 1
            state.status = rule.status(consecutiveFailures: state.consecutiveFailures)
            state.responseTimeMs = succeeded ? (milliseconds * 100).rounded() / 100 : nil
            state.lastCheckedAt = checkedAt
            if let migrations { state.migrationsApplied = migrations }
            if let rowLevelSecurity { state.rowLevelSecurity = rowLevelSecurity }
            return (previous, state)
        }
        if updated.rowLevelSecurity == "bypassed", previous.rowLevelSecurity != "bypassed" {
            logger.warning("[DB HEALTH] row-level security is bypassed: connect as a role that is neither superuser nor BYPASSRLS")
        }
        if updated.status != previous.status {
            let message: Logger.Message = "[DB HEALTH] database is \(updated.status.rawValue) after \(updated.consecutiveFailures) consecutive failures"
            if updated.status == .critical { logger.critical(message) } else { logger.notice(message) }
        }
        return updated
    }
}

extension DatabaseHealthMonitor {
    private func rowLevelSecurityState() async -> String? {
        guard database.engine == .postgres else { return nil }
        let bypass = try? await database.sql.raw("""
            SELECT rolsuper OR rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user
            """).first()?.decode(column: "bypass", as: Bool.self)
        return bypass.map { $0 ? "bypassed" : "enforced" }
    }
}

/// Probes the database now and then every `interval` until shutdown.
struct DatabaseProbeService: Service {
    let monitor: DatabaseHealthMonitor
    let errors: ErrorMonitor
    let interval: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let before = monitor.current.status
                let after = await monitor.probe()
                if after.status == .critical, before != .critical {
                    // Stored in the log (the database is down) and alerted at once.
                    await errors.record(ErrorReport(
                        service: "database", errorType: "database_unreachable",
                        message: "database probe failed \(after.consecutiveFailures) times in a row", severity: .critical
                    ))
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}

/// Keeps the pools open until every other service (the HTTP server first) has stopped.
struct DatabaseLifecycleService: Service {
    let database: Database

    func run() async throws {
        try? await gracefulShutdown()
        await database.close()
    }
}

struct TimeoutError: Error {}

/// Runs `body`, throwing `TimeoutError` if it takes longer than `limit`.
func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeoutError()
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw TimeoutError() }
        return first
    }
}
