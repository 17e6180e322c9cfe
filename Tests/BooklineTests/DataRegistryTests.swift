import Bookline
import Foundation
import SQLKit
import Testing

@Suite("Data registry: every table and column is classified for export and erasure")
struct DataRegistryTests {
    /// The migrated schema, as the engine reports it: table -> column -> declared type.
    static func schema(_ services: AppServices) async throws -> [String: [String: String]] {
        let db = services.database.sql
        var schema: [String: [String: String]] = [:]
        if services.database.engine == .postgres {
            let rows = try await db.raw("""
                SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()
                """).all()
            for row in rows {
                schema[try row.decode(column: "table_name", as: String.self), default: [:]][try row.decode(column: "column_name", as: String.self)] =
                    try row.decode(column: "data_type", as: String.self).lowercased()
            }
        } else {
            let tables = try await db.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all()
                .map { try $0.decode(column: "name", as: String.self) }
            for table in tables {
                for column in try await db.raw("SELECT name, type FROM pragma_table_info(\(bind: table))").all() {
                    schema[table, default: [:]][try column.decode(column: "name", as: String.self)] =
                        try column.decode(column: "type", as: String.self).lowercased()
                }
            }
        }
        return schema
    }

    static func compatible(_ type: DataRegistry.ColumnType, _ declared: String) -> Bool {
        switch type {
        case .text, .json: declared == "text"
        case .integer: ["integer", "bigint"].contains(declared)
        case .real: ["double precision", "real"].contains(declared)
        case .time: ["timestamptz", "timestamp with time zone"].contains(declared)
        }
    }

    @Test func registryMatchesTheMigratedSchema() async throws {
        try await withApp { _, services in
            let schema = try await Self.schema(services)
            #expect(!schema.isEmpty)
            for (table, columns) in schema {
                guard let entry = DataRegistry.table(table) else {
                    Issue.record("table \(table) is not in DataRegistry: classify it (export, erasure, personal columns)")
                    continue
                }
                for (column, declared) in columns {
                    guard let registered = entry.column(column) else {
                        Issue.record("column \(table).\(column) is not in DataRegistry")
                        continue
                    }
                    #expect(Self.compatible(registered.type, declared), "\(table).\(column): registry says \(registered.type), schema \(declared)")
                }
                for column in entry.columns where columns[column.name] == nil {
                    Issue.record("DataRegistry lists \(table).\(column.name), which the schema does not have")
                }
                if columns["tenant_id"] != nil {
                    #expect(entry.tenantColumn != nil, "\(table) has tenant_id but the registry calls it a platform table")
                }
            }
            for table in DataRegistry.tables where schema[table.name] == nil {
                Issue.record("DataRegistry lists table \(table.name), which the schema does not have")
            }
        }
    }

    @Test func secretsAreNeverExportedAndKeysAreUnique() {
        for table in DataRegistry.tables {
            for column in table.columns where ["hash", "sealed", "password"].contains(where: column.name.contains) {
                // Hash-chain columns and the suppression list's keyed hash are data, not secrets.
                guard !["prev_hash", "hash", "phone_hash", "request_hash", "smtp_password_last4", "password_changed_at"].contains(column.name) else { continue }
                #expect(column.handling == .secret, "\(table.name).\(column.name) looks secret but is exported")
            }
            for key in table.exportKey { #expect(table.column(key) != nil, "\(table.name) export key \(key) is not a column") }
        }
    }
}
