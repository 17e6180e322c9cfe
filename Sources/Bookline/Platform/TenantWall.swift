import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit

/// The tenant a request acts for. Tenant resolution binds it for the rest of the request; on
/// PostgreSQL every statement then runs with it as `app.tenant_id`, which row-level security
/// (migration 0018) checks: the second wall behind each store's own `tenant_id` filter.
/// Unbound (workers, staff routes, sign-in, webhooks before their tenant is known) is platform
/// work, which sees every row.
public enum TenantScope {
    @TaskLocal public static var current: String?
    /// Test-only: the stores' own `tenant_id = ?` filters are dropped from a tenant-scoped
    /// request's statements, so a test can prove row-level security alone keeps tenants apart.
    @TaskLocal public static var withoutAppFilterForTesting = false
}

/// PostgreSQL access that tells the server, on the same connection and just before each
/// statement or session, which tenant it acts for. The setting and the statement are pipelined
/// (both sent before either answer is awaited), so it costs no extra round trip.
struct TenantScopedPostgres: SQLDatabase {
    let database: any PostgresDatabase
    /// The pool's own SQL database, for the dialect and settings.
    let base: any SQLDatabase

    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { base.version }
    var dialect: any SQLDialect { base.dialect }
    var queryLogLevel: Logger.Level? { base.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        // Read here: the pool may run the closure below in another task.
        let tenant = TenantScope.current ?? ""
        let level = queryLogLevel
        let query: any SQLExpression = TenantScope.withoutAppFilterForTesting && !tenant.isEmpty ? WithoutTenantFilter(query) : query
        return database.withConnection { connection in
            let scoped = Self.scope(connection, to: tenant)
            let result = connection.sql(queryLogLevel: level).execute(sql: query, onRow)
            return ClosedConnectionWatch.guarding(scoped.and(result).map { _ in }, on: connection)
        }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        try await execute(sql: query, onRow).get()
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let tenant = TenantScope.current ?? ""
        let level = queryLogLevel
        let unfiltered = TenantScope.withoutAppFilterForTesting && !tenant.isEmpty
        let box = try await database.withConnection { connection in
            ClosedConnectionWatch.guarding(connection.eventLoop.makeFutureWithTask {
                try await Self.scope(connection, to: tenant).get()
                let session: any SQLDatabase = connection.sql(queryLogLevel: level)
                return UncheckedBox(value: try await closure(unfiltered ? WithoutTenantFilterDatabase(base: session) : session))
            }, on: connection)
        }.get()
        return box.value
    }

    /// Session-level (not `SET LOCAL`): single statements run outside transactions. Every use
    /// of a pooled connection sets it first, so no value outlives its statement or session.
    private static func scope(_ connection: PostgresConnection, to tenant: String) -> EventLoopFuture<Void> {
        var binds = PostgresBindings(capacity: 1)
        binds.append(tenant)
        return connection.query(
            PostgresQuery(unsafeSQL: "SELECT set_config('app.tenant_id', $1, false)", binds: binds),
            logger: connection.logger
        ).map { _ in }
    }
}

/// A statement with every `tenant_id = $n` comparison made `TRUE` (see
/// `TenantScope.withoutAppFilterForTesting`).
private struct WithoutTenantFilter: SQLExpression {
    let base: any SQLExpression
    init(_ base: any SQLExpression) { self.base = base }

    func serialize(to serializer: inout SQLSerializer) {
        var inner = SQLSerializer(database: serializer.database)
        base.serialize(to: &inner)
        serializer.sql += inner.sql.replacing(/(?:\b[a-z_]+\.)?tenant_id\s*=\s*\$\d+/, with: "TRUE")
        serializer.binds += inner.binds
    }
}

/// A session whose statements all go through `WithoutTenantFilter`.
private struct WithoutTenantFilterDatabase: SQLDatabase {
    let base: any SQLDatabase
    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { base.version }
    var dialect: any SQLDialect { base.dialect }
    var queryLogLevel: Logger.Level? { base.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        base.execute(sql: WithoutTenantFilter(query), onRow)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        try await base.execute(sql: WithoutTenantFilter(query), onRow)
    }
}

/// Carries a session's result out of the pool's future (the protocol's `R` is not `Sendable`).
private struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
}
