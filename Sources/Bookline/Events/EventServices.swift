import Foundation
import Logging
import PostgresKit
import PostgresNIO
import ServiceLifecycle

/// On PostgreSQL, every instance LISTENs on one channel; `EventLog` NOTIFYs it (at commit) with
/// the tenant id, so a stream on any instance wakes for an event written on any other.
struct PostgresEventListener: Service, CustomStringConvertible {
    static let channel = "bookline_events"

    /// The URL holds the password: it is never kept as text (service descriptions are logged).
    let configuration: PostgresConnection.Configuration
    let bus: EventBus
    let logger: Logger

    init(url: String, bus: EventBus, logger: Logger) throws {
        configuration = try SQLPostgresConfiguration(url: url).coreConfiguration
        self.bus = bus
        self.logger = logger
    }

    var description: String { "PostgresEventListener(channel: \(Self.channel))" }

    func run() async throws {
        var attempt = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
                attempt = 0
                defer { Task { try? await connection.close() } }
                try await connection.listen(on: Self.channel) { notifications in
                    for try await notification in notifications.cancelOnGracefulShutdown() {
                        bus.publish(tenantId: notification.payload)
                    }
                }
            } catch {
                guard !Task.isCancelled && !Task.isShuttingDownGracefully else { break }
                attempt += 1
                logger.warning("event listener reconnecting", metadata: ["attempt": "\(attempt)", "error": "\(TransientError.kind(of: error))"])
                try? await Task.sleep(for: .seconds(min(30, attempt)))
            }
        }
    }
}

/// Ends every event stream when the server shuts down gracefully, so open streams never hold
/// shutdown up.
struct EventStreamShutdownService: Service {
    let bus: EventBus

    func run() async throws {
        try? await gracefulShutdown()
        bus.close()
    }
}
