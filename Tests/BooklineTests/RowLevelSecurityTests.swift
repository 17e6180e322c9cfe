@testable import Bookline
import Foundation
import SQLKit
import Testing

/// Row-level security alone keeps tenants apart on PostgreSQL: these statements carry no
/// tenant filter of their own (they name the other tenant's id outright), and a session acting
/// for tenant B still reads, changes and deletes none of tenant A's rows in any registered table.
@Suite("Row-level security (PostgreSQL)")
struct RowLevelSecurityTests {
    @Test(.enabled(if: TestDatabase.engine == .postgres, "row-level security is PostgreSQL's"))
    func aTenantScopedSessionReachesNoOtherTenantsRowsInAnyTable() async throws {
        let clock = TestClock(DataSubjectFixture.now)
        try await withApp(now: clock.closure) { client, services in
            let db = services.database.sql
            let bypass = try await db.raw("SELECT rolsuper OR rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user")
                .first()?.decode(column: "bypass", as: Bool.self)
            try #require(bypass == false, "connect the tests as an ordinary role: a superuser bypasses row-level security")

            let a = try await DataSubjectFixture.seed(client, services).tenant.id
            let b = try await services.makeTenant("Other Salon").id
            let tables = DataRegistry.tenantTables
            func count(_ table: DataRegistry.Table, _ tenant: String) async throws -> Int {
                try await db.raw("SELECT COUNT(*) AS n FROM \(ident: table.name) WHERE \(ident: table.tenantColumn!) = \(bind: Self.value(table, tenant))")
                    .first()?.decode(column: "n", as: Int.self) ?? 0
            }
            var unscoped: [String: Int] = [:]
            for table in tables { unscoped[table.name] = try await count(table, a) }
            #expect(unscoped.values.filter { $0 > 0 }.count >= 12, "A's data spans the schema: \(unscoped)")

            try await TenantScope.$current.withValue(b) {
                for table in tables {
                    let seen = try await count(table, a)
                    #expect(seen == 0, "B reads none of A's \(table.name)")
                    let column = table.tenantColumn!
                    let value = Self.value(table, a)
                    let changed = try await db.raw("""
                        UPDATE \(ident: table.name) SET \(ident: column) = \(ident: column) WHERE \(ident: column) = \(bind: value) RETURNING 1 AS one
                        """).all().count
                    #expect(changed == 0, "B updates none of A's \(table.name)")
                    let deleted = try await db.raw("DELETE FROM \(ident: table.name) WHERE \(ident: column) = \(bind: value) RETURNING 1 AS one")
                        .all().count
                    #expect(deleted == 0, "B deletes none of A's \(table.name)")
                }
                await #expect(throws: (any Error).self, "B cannot write a row as A") {
                    try await db.raw("INSERT INTO closed_dates (tenant_id, date) VALUES (\(bind: a), '2026-12-25')").run()
                }
                let mine = try await db.raw("INSERT INTO closed_dates (tenant_id, date) VALUES (\(bind: b), '2026-12-26') RETURNING tenant_id")
                    .first()?.decode(column: "tenant_id", as: String.self)
                #expect(mine == b, "B still writes its own rows")
            }
            try await TenantScope.$current.withValue(a) {
                for table in tables {
                    let seen = try await count(table, a)
                    #expect(seen == unscoped[table.name], "A sees all of its own \(table.name)")
                }
            }
        }
    }

    /// The switch the isolation matrix runs under really removes the stores' tenant filters
    /// (else "RLS alone" would prove nothing): B asking for A's leads by tenant id gets its own.
    @Test(.enabled(if: TestDatabase.engine == .postgres, "row-level security is PostgreSQL's"))
    func theTestSwitchDropsTheApplicationsTenantFilter() async throws {
        try await withApp { client, services in
            let a = try await services.makeTenant("A Dental")
            let b = try await services.makeTenant("B Dental")
            _ = try await client.createLead(#"{"phone": "07400100001"}"#, key: a.key)
            _ = try await client.createLead(#"{"phone": "07400100002"}"#, key: b.key)
            func leads(of tenant: String) async throws -> [String] {
                try await services.database.sql.raw("SELECT tenant_id FROM leads WHERE tenant_id = \(bind: tenant)").all()
                    .map { try $0.decode(column: "tenant_id", as: String.self) }
            }
            try await TenantScope.$current.withValue(b.id) {
                let filtered = try await leads(of: a.id)
                #expect(filtered.isEmpty, "filter and wall")
                let unfiltered = try await TenantScope.$withoutAppFilterForTesting.withValue(true) { try await leads(of: a.id) }
                #expect(unfiltered == [b.id], "the filter is gone; the wall shows B's own rows only")
            }
        }
    }

    /// How a table names its tenant: idempotency keys are scoped `tenant:ID`.
    static func value(_ table: DataRegistry.Table, _ tenant: String) -> String {
        table.name == "idempotency_keys" ? "tenant:\(tenant)" : tenant
    }
}
