@preconcurrency import AsyncKit
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit

/// The one storage handle: SQLKit over SQLite or PostgreSQL, so queries are written once.
public final class Database: Sendable {
    public enum Engine: String, Sendable { case sqlite, postgres }

    public let engine: Engine
    /// Pooled access for single statements.
    public let sql: any SQLDatabase
    private let closePool: @Sendable () async throws -> Void
    /// SQLite allows one writer at a time; queueing write transactions here (instead of in
    /// SQLite's busy handler, which sleeps on a pool thread) keeps them fair and cheap.
    private let writeLock: AsyncLock?
    /// SQLite's write transactions run on this connection, never waiting behind reads.
    private let writer: SQLiteWriter?
    /// Wakes event streams on this instance after a transaction that wrote events commits.
    public let eventBus = EventBus()
    /// For what the handle itself reports (a cache invalidation it could not broadcast).
    let logger: Logger

    init(engine: Engine, sql: any SQLDatabase, logger: Logger, writer: SQLiteWriter? = nil,
         closePool: @escaping @Sendable () async throws -> Void) {
        self.engine = engine
        self.sql = sql
        self.logger = logger
        self.closePool = closePool
        self.writeLock = engine == .sqlite ? AsyncLock() : nil
        self.writer = writer
    }

    /// Opens the configured database. SQLite files (and their folder) are created on first use.
    public static func open(_ config: AppConfig, logger: Logger) async throws -> Database {
        switch config.storage {
        case .sqlite(let path):
            return try await openSQLite(path: path, poolSize: config.databasePoolSize, logger: logger)
        case .postgres(let url):
            return try openPostgres(url: url, schema: config.postgresSchema, poolSize: config.databasePoolSize, logger: logger)
        }
    }

    /// Runs `body` on one connection inside a transaction: committed when it returns,
    /// rolled back when it throws. SQLite takes the write lock up front (`BEGIN IMMEDIATE`)
    /// so two writers wait on the busy timeout instead of failing with SQLITE_BUSY mid-way.
    public func transaction<T: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        let begin: SQLQueryString = engine == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN"
        let events = CommittedEvents()
        // Bound inside the session's closure: the pool may run it in another task, which would
        // not see a task-local bound out here.
        let tracked: @Sendable (any SQLDatabase) async throws -> T = { db in
            try await CommittedEvents.$current.withValue(events) { try await body(db) }
        }
        let result: T
        if let writeLock, let writer {
            result = try await writeLock.withLock { try await self.run(begin, on: try await writer.database(), tracked) }
        } else if let writeLock {
            result = try await writeLock.withLock { try await self.run(begin, tracked) }
        } else {
            result = try await run(begin, tracked)
        }
        for tenantId in events.all { eventBus.publish(tenantId: tenantId) }
        return result
    }

    /// Runs a large aggregate read. On PostgreSQL it gets its own read-only transaction with
    /// JIT off: compiling the plan costs more (100-170 ms) than these queries take to run.
    public func aggregateRead<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        guard engine == .postgres else { return try await body(sql) }
        return try await sql.withSession { session in
            try await self.run("BEGIN READ ONLY", on: session) { db in
                try await db.raw("SET LOCAL jit = off").run()
                return try await body(db)
            }
        }
    }

    /// Runs many reads against one consistent snapshot (a whole tenant export): a read-only
    /// repeatable-read transaction on PostgreSQL, a deferred read transaction on SQLite (WAL
    /// keeps its snapshot from the first read while writers go on).
    public func snapshotRead<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let begin: SQLQueryString = engine == .postgres ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN DEFERRED"
        return try await run(begin, body)
    }

    private func run<T: Sendable>(
        _ begin: SQLQueryString,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        try await sql.withSession { session in try await self.run(begin, on: session, body) }
    }

    private func run<T: Sendable>(
        _ begin: SQLQueryString,
        on session: any SQLDatabase,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        try await session.raw(begin).run()
        do {
            let result = try await body(session)
            try await session.raw("COMMIT").run()
            return result
        } catch {
            try? await session.raw("ROLLBACK").run()
            throw error
        }
    }

    /// Closes every pooled connection; called once on shutdown.
    public func close() async {
        try? await closePool()
    }

    /// The pool logs every failed connect at error level; `withRetry` and the health probe
    /// already report those once, with context, so the pool only speaks when it is critical.
    private static func poolLogger(_ logger: Logger) -> Logger {
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .critical)
        return quiet
    }

    private static func openSQLite(path: String, poolSize: Int, logger: Logger) async throws -> Database {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Its own blocking pool, one thread per connection plus one: a connection waiting on
        // SQLite's busy timeout blocks its thread, and must never starve the lock holder.
        let connections = poolSize * MultiThreadedEventLoopGroup.singleton.makeIterator().reduce(0) { count, _ in count + 1 }
        let threads = NIOThreadPool(numberOfThreads: connections + 1)
        threads.start()
        let source = SQLiteSource(path: url.path, threadPool: threads)
        // WAL is a property of the file, so set it once; readers then never block the writer.
        let setup = try await source.open(logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
        _ = try await setup.query("PRAGMA journal_mode = WAL")
        try await setup.close()

        let pool = EventLoopGroupConnectionPool(
            source: source,
            maxConnectionsPerEventLoop: poolSize,
            pruneInterval: .seconds(60),
            logger: poolLogger(logger),
            on: MultiThreadedEventLoopGroup.singleton
        )
        let database = PooledSQLiteDatabase(pool: pool, logger: poolLogger(logger))
        let writer = SQLiteWriter(path: url.path, logger: poolLogger(logger))
        return Database(engine: .sqlite, sql: database.sql(), logger: logger, writer: writer, closePool: {
            await writer.close()
            try await pool.shutdownAsync()
            // A connection still leased when the pool shuts down is closed on these threads when
            // it comes back; stopping them at once left such a connection open (and SQLiteNIO
            // traps on an unclosed connection). They stop a little later instead.
            Task.detached {
                try? await Task.sleep(for: .seconds(10))
                try? await threads.shutdownGracefully()
            }
        })
    }

    private static func openPostgres(url: String, schema: String?, poolSize: Int, logger: Logger) throws -> Database {
        var configuration = try SQLPostgresConfiguration(url: url)
        if let schema { configuration.searchPath = [schema] }
        configuration.coreConfiguration.options.connectTimeout = .seconds(5)
        let pool = EventLoopGroupConnectionPool(
            source: PostgresConnectionSource(sqlConfiguration: configuration),
            maxConnectionsPerEventLoop: poolSize,
            requestTimeout: .seconds(10),
            pruneInterval: .seconds(60),
            logger: poolLogger(logger),
            on: MultiThreadedEventLoopGroup.singleton
        )
        let database = pool.database(logger: poolLogger(logger))
        return Database(
            engine: .postgres,
            sql: TenantScopedPostgres(database: database, base: database.sql()),
            logger: logger,
            closePool: { try await pool.shutdownAsync() }
        )
    }
}
