import AsyncKit
import BooklineCore
import Logging
import NIOCore
import PostgresNIO
import SQLiteNIO

/// Retries `operation` while it fails with a transient database error (busy SQLite file, lost
/// PostgreSQL connection, serialization failure, deadlock), waiting with exponential backoff and
/// full jitter. Other errors pass through at once. After the last attempt it throws
/// `DatabaseUnavailable`, which names the operation and never carries SQL or credentials.
public func withRetry<T: Sendable>(
    _ operation: String,
    backoff: Backoff = Backoff(),
    logger: Logger,
    _ body: @Sendable () async throws -> T
) async throws -> T {
    var attempt = 0
    while true {
        do {
            return try await body()
        } catch where TransientError.isTransient(error) {
            attempt += 1
            guard attempt < backoff.maxAttempts else {
                logger.error("database operation failed after retries", metadata: [
                    "operation": "\(operation)", "attempts": "\(attempt)", "error": "\(TransientError.kind(of: error))",
                ])
                throw DatabaseUnavailable(operation: operation, attempts: attempt)
            }
            var generator = SystemRandomNumberGenerator()
            let delay = backoff.delay(forAttempt: attempt - 1, using: &generator)
            logger.warning("transient database error, retrying", metadata: [
                "operation": "\(operation)", "attempt": "\(attempt)", "delay_ms": "\(Int(delay * 1000))",
                "error": "\(TransientError.kind(of: error))",
            ])
            try await Task.sleep(for: .seconds(delay))
        }
    }
}

public struct DatabaseUnavailable: Error, CustomStringConvertible {
    public let operation: String
    public let attempts: Int
    public var description: String { "database unavailable: \(operation) failed \(attempts) times" }
}

enum TransientError {
    /// PostgreSQL SQLSTATEs worth retrying: serialization failure, deadlock, admin shutdown,
    /// cannot connect now, and the whole connection-exception class (08xxx).
    private static let retryableStates: Set<String> = ["40001", "40P01", "57P01", "57P03"]

    static func isTransient(_ error: any Error) -> Bool {
        switch error {
        case let error as SQLiteError:
            return error.reason == .busy || error.reason == .locked
                || error.reason == .busyTimeout || error.reason == .lockedBySharedCache
        case let error as PSQLError:
            switch error.code {
            case .connectionError, .serverClosedConnection, .uncleanShutdown:
                return true
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                return retryableStates.contains(state) || state.hasPrefix("08")
            default:
                return false
            }
        case is ConnectionPoolTimeoutError, is ChannelError, is IOError:
            return true
        default:
            return false
        }
    }

    /// The database could not write for lack of space: SQLite's FULL (or a failed write, which
    /// is how a full disk shows up in the WAL), PostgreSQL's disk_full and out_of_memory class.
    static func isStorageFull(_ error: any Error) -> Bool {
        switch error {
        case let error as SQLiteError:
            return error.reason == .full || error.reason == .ioErrorFailedWrite || error.reason == .ioErrorFailedTruncate
        case let error as PSQLError:
            let state = error.serverInfo?[.sqlState] ?? ""
            return state == "53100" || state == "53200"
        default:
            return false
        }
    }

    /// A short, secret-free label for logs.
    static func kind(of error: any Error) -> String {
        switch error {
        case let error as SQLiteError: "sqlite.\(error.reason)"
        case let error as PSQLError where error.code == .connectionError:
            // The underlying NIO error names host, port and errno; never credentials.
            "postgres.connectionError(\(error.underlying.map { String(describing: $0) } ?? "unknown"))"
        case let error as PSQLError: "postgres.\(error.code)\(error.serverInfo?[.sqlState].map { "(\($0))" } ?? "")"
        default: String(describing: type(of: error))
        }
    }
}
