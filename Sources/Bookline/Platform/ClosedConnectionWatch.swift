import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// Fails a statement or session whose PostgreSQL connection has closed under it.
///
/// PostgresNIO (1.33) hands a statement to its channel with `write(_, promise: nil)`. When the
/// connection closed a moment earlier (the server shutting down, say), the write fails and the
/// statement's own promise is never completed: the request waited forever, and a graceful
/// shutdown waited with it. While an operation is pending, this looks at its connection every
/// `interval`; once the connection is closed, the operation fails as a lost connection (a 503
/// with Retry-After), and the pool drops the connection when it comes back.
enum ClosedConnectionWatch {
    static let interval = TimeAmount.seconds(2)

    static func guarding<Value: Sendable>(_ operation: EventLoopFuture<Value>, on connection: PostgresConnection,
                                          interval: TimeAmount = interval) -> EventLoopFuture<Value> {
        let loop = connection.eventLoop
        let promise = loop.makePromise(of: Value.self)
        let state = NIOLockedValueBox(Watch())

        @Sendable func watch() {
            let check = loop.scheduleTask(in: interval) {
                guard connection.isClosed else { return watch() }
                if state.withLockedValue({ $0.finish() }) { promise.fail(ChannelError.ioOnClosedChannel) }
            }
            state.withLockedValue { $0.check = check }
        }
        watch()
        operation.whenComplete { result in
            let (first, check) = state.withLockedValue { ($0.finish(), $0.check) }
            check?.cancel()
            if first { promise.completeWith(result) }
        }
        return promise.futureResult
    }

    private struct Watch {
        var done = false
        var check: Scheduled<Void>?

        /// True only for the first caller: the operation's result or the closed connection.
        mutating func finish() -> Bool {
            defer { done = true }
            return !done
        }
    }
}
