import Logging
import ServiceLifecycle
import Synchronization

/// Runs a service and logs when it stopped, so a slow shutdown names the part that held it up:
/// a service group signals its services one by one in reverse order, each after the one before
/// has stopped. `waitedMs` is the time from the first signal to this service's own, `tookMs` the
/// time it then took to stop.
struct TimedShutdown: Service, CustomStringConvertible {
    /// When the first service in the process heard of the shutdown.
    private static let began = Mutex<ContinuousClock.Instant?>(nil)

    let name: String
    let base: any Service
    let logger: Logger

    var description: String { name }

    func run() async throws {
        let clock = ContinuousClock()
        let signalled = Mutex<ContinuousClock.Instant?>(nil)
        defer {
            if let signal = signalled.withLock({ $0 }), let first = Self.began.withLock({ $0 }) {
                let took = clock.now - signal
                logger.log(level: took > .seconds(5) ? .warning : .info, "service stopped", metadata: [
                    "service": "\(name)",
                    "waitedMs": "\(Self.milliseconds(signal - first))",
                    "tookMs": "\(Self.milliseconds(took))",
                ])
            }
        }
        try await withGracefulShutdownHandler {
            try await base.run()
        } onGracefulShutdown: {
            let now = clock.now
            signalled.withLock { $0 = now }
            Self.began.withLock { $0 = $0 ?? now }
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

extension Service {
    /// This service, logging its stop time on graceful shutdown.
    func timed(_ name: String, logger: Logger) -> TimedShutdown {
        TimedShutdown(name: name, base: self, logger: logger)
    }
}
