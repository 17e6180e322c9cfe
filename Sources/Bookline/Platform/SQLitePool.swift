@preconcurrency import AsyncKit
import Logging
import NIOCore
import NIOPosix
import SQLiteKit

/// Opens SQLite connections with the settings every connection needs: foreign keys on,
/// a busy timeout so concurrent writers wait instead of failing, and NORMAL sync (safe with WAL).
/// Large write batches (imports) need room: a 32 MB page cache so dirty pages are not spilled
/// mid-transaction, statement journals in memory (multi-row INSERTs keep one), and checkpoints
/// every 10,000 WAL pages so a page rewritten by several batches is copied back once.
struct SQLiteSource: ConnectionPoolSource {
    let path: String
    let threadPool: NIOThreadPool
    static let busyTimeoutMilliseconds = 5000

    func makeConnection(logger: Logger, on eventLoop: any EventLoop) -> EventLoopFuture<SQLiteConnection> {
        eventLoop.makeFutureWithTask { try await open(logger: logger, on: eventLoop) }
    }

    func open(logger: Logger, on eventLoop: any EventLoop) async throws -> SQLiteConnection {
        let connection = try await SQLiteConnection.open(
            storage: .file(path: path), threadPool: threadPool, logger: logger, on: eventLoop
        )
        do {
            _ = try await connection.query("PRAGMA busy_timeout = \(Self.busyTimeoutMilliseconds)")
            _ = try await connection.query("PRAGMA foreign_keys = ON")
            _ = try await connection.query("PRAGMA synchronous = NORMAL")
            _ = try await connection.query("PRAGMA cache_size = -32768")
            _ = try await connection.query("PRAGMA temp_store = MEMORY")
            _ = try await connection.query("PRAGMA wal_autocheckpoint = 10000")
            return connection
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

/// sqlite-kit has no pooled database, so this adapts an AsyncKit pool to `SQLiteDatabase`.
/// Its `sql().withSession` then pins one connection, which transactions need.
struct PooledSQLiteDatabase: SQLiteDatabase {
    let pool: EventLoopGroupConnectionPool<SQLiteSource>
    let logger: Logger

    var eventLoop: any EventLoop { pool.eventLoopGroup.any() }

    func query(
        _ query: String,
        _ binds: [SQLiteData],
        logger: Logger,
        _ onRow: @escaping @Sendable (SQLiteRow) -> Void
    ) -> EventLoopFuture<Void> {
        pool.withConnection(logger: logger) { $0.query(query, binds, logger: logger, onRow) }
    }

    func withConnection<T>(
        _ closure: @escaping @Sendable (SQLiteConnection) -> EventLoopFuture<T>
    ) -> EventLoopFuture<T> {
        pool.withConnection(logger: logger, closure)
    }
}
