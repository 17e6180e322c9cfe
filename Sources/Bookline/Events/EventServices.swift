import Foundation
import Logging
import PostgresKit
import PostgresNIO
import ServiceLifecycle

/// On PostgreSQL, every instance LISTENs on two channels over one connection: `EventLog`
/// NOTIFYs the events channel (at commit) with the tenant id, so a stream on any instance wakes
/// for an event written on any other; and changes to cached look-ups (a revoked key, a
/// suspended tenant, a new opt-out) arrive on the cache channel and are forgotten here.
struct PostgresEventListener: Service, CustomStringConvertible {
    static let channel = "bookline_events"

    /// The URL holds the password: it is never kept as text (service descriptions are logged).
    let configuration: PostgresConnection.Configuration
    let bus: EventBus
    /// Forgets one cached entry another instance changed.
    let forget: @Sendable (CacheInvalidation) -> Void
    /// Forgets every cached entry: after a reconnect, notifications sent meanwhile are lost.
    let forgetAll: @Sendable () -> Void
    let logger: Logger

    init(url: String, bus: EventBus, logger: Logger,
         forget: @escaping @Sendable (CacheInvalidation) -> Void = { _ in }, forgetAll: @escaping @Sendable () -> Void = {}) throws {
        configuration = try SQLPostgresConfiguration(url: url).coreConfiguration
        self.bus = bus
        self.forget = forget
        self.forgetAll = forgetAll
        self.logger = logger
    }

    var description: String { "PostgresEventListener(channels: \(Self.channel), \(CacheInvalidation.channel))" }

    func run() async throws {
        var attempt = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
                defer { Task { try? await connection.close() } }
                if attempt > 0 { forgetAll() }
                attempt = 0
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await connection.listen(on: Self.channel) { notifications in
                            for try await notification in notifications.cancelOnGracefulShutdown() {
                                bus.publish(tenantId: notification.payload)
                            }
                        }
                    }
                    group.addTask {
                        try await connection.listen(on: CacheInvalidation.channel) { notifications in
                            for try await notification in notifications.cancelOnGracefulShutdown() {
                                if let target = CacheInvalidation(payload: notification.payload) { forget(target) }
                            }
                        }
                    }
                    // Either listen ending (shutdown or a lost connection) ends both.
                    try await group.next()
                    group.cancelAll()
                }
            } catch {
                guard !Task.isCancelled && !Task.isShuttingDownGracefully else { break }
                attempt += 1
                logger.warning("event listener reconnecting", metadata: ["attempt": "\(attempt)", "error": "\(TransientError.kind(of: error))"])
                // A shutdown during the back-off must not wait it out.
                let pause = Duration.seconds(min(30, attempt))
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            }
        }
    }
}

/// Ends every event stream on graceful shutdown, so open streams never hold shutdown up. It
/// must hear of the shutdown before the HTTP server does (see `buildServingGroup`).
struct EventStreamShutdownService: Service {
    let bus: EventBus

    func run() async throws {
        try? await gracefulShutdown()
        bus.close()
    }
}
