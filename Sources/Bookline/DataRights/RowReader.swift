import Foundation
import SQLKit

/// Reads any registered table's rows as JSON objects, page by page in key order, so exports
/// hold one page in memory whatever the table's size. Secret and derived columns are never
/// selected.
struct RowReader: Sendable {
    static let pageSize = 1000

    let table: DataRegistry.Table

    /// Every exported row of the tenant (or, with `filter`, the rows it matches), in pages.
    func read(
        tenantId: String, filter: SQLQueryString? = nil, on db: any SQLDatabase,
        _ page: ([[String: JSONValue]]) async throws -> Void
    ) async throws {
        guard let tenantColumn = table.tenantColumn else { return }
        let columns = table.exportedColumns
        let selected = columns.map { "\"\($0.name)\"" }.joined(separator: ", ")
        var after: [KeyValue]?
        repeat {
            var query = SQLQueryString("SELECT \(unsafeRaw: selected) FROM \(ident: table.name) WHERE \(ident: tenantColumn) = \(bind: tenantId)")
            if let filter { query = query + " AND (" + filter + ")" }
            let keys = table.exportKey
            if !keys.isEmpty {
                if let after {
                    query.appendLiteral(" AND (\(keys.map { "\"\($0)\"" }.joined(separator: ", "))) > (")
                    for (index, value) in after.enumerated() {
                        if index > 0 { query.appendLiteral(", ") }
                        value.bind(into: &query)
                    }
                    query.appendLiteral(")")
                }
                query.appendLiteral(" ORDER BY \(keys.map { "\"\($0)\"" }.joined(separator: ", ")) LIMIT \(Self.pageSize)")
            }
            let rows = try await db.raw(query).all()
            guard !rows.isEmpty else { return }
            try await page(try rows.map { row in try object(row, columns: columns) })
            guard !keys.isEmpty, rows.count == Self.pageSize, let last = rows.last else { return }
            after = try keys.map { name in try KeyValue(row: last, column: table.column(name)!) }
        } while true
    }

    func object(_ row: any SQLRow, columns: [DataRegistry.Column]) throws -> [String: JSONValue] {
        var object: [String: JSONValue] = [:]
        for column in columns { object[column.name] = try Self.value(row, column) }
        return object
    }

    static func value(_ row: any SQLRow, _ column: DataRegistry.Column) throws -> JSONValue {
        switch column.type {
        case .text:
            return try row.decode(column: column.name, as: String?.self).map(JSONValue.string) ?? .null
        case .integer:
            return try row.decode(column: column.name, as: Int?.self).map(JSONValue.integer) ?? .null
        case .real:
            return try row.decode(column: column.name, as: Double?.self).map(JSONValue.number) ?? .null
        case .time:
            return try row.decode(column: column.name, as: Date?.self).map { .string(ISOTime.string($0)) } ?? .null
        case .json:
            guard let text = try row.decode(column: column.name, as: String?.self) else { return .null }
            // Most JSON columns hold an empty object or list; those need no parser.
            if text == "{}" { return .object([:]) }
            if text == "[]" { return .array([]) }
            return (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
        }
    }

    /// A key column's value from the last row of a page, bound into the next page's query.
    enum KeyValue {
        case text(String), integer(Int), time(Date)

        init(row: any SQLRow, column: DataRegistry.Column) throws {
            switch column.type {
            case .integer: self = .integer(try row.decode(column: column.name, as: Int.self))
            case .time: self = .time(try row.decode(column: column.name, as: Date.self))
            default: self = .text(try row.decode(column: column.name, as: String.self))
            }
        }

        func bind(into query: inout SQLQueryString) {
            switch self {
            case .text(let value): query.appendInterpolation(bind: value)
            case .integer(let value): query.appendInterpolation(bind: value)
            case .time(let value): query.appendInterpolation(bind: value)
            }
        }
    }
}

extension JSONValue {
    /// One compact line of JSON with sorted keys (export files are diffable and hashable).
    var jsonLine: Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        JSONWriter.append(self, to: &bytes)
        return Data(bytes)
    }
}
