import Crypto
import Foundation

/// One numbered SQL file from `migrations/`: `NNNN_name.sql`, or `NNNN_name.postgres.sql`
/// for PostgreSQL-only statements (row-level security, partial indexes, ...).
public struct MigrationFile: Sendable, Equatable {
    public enum Scope: Sendable, Equatable { case all, postgresOnly }

    /// The numeric prefix as written, e.g. `0001`; files apply in this order.
    public let version: String
    /// The whole file name, e.g. `0001_tenants.sql`; the key in `schema_migrations`.
    public let name: String
    public let scope: Scope
    public let sql: String

    /// Hex SHA-256 of the file's bytes: an applied file that changes is refused.
    public var checksum: String {
        Hex.sha256(Data(sql.utf8))
    }

    public init(name: String, sql: String) throws(MigrationFileError) {
        guard name.hasSuffix(".sql") else { throw .notSQL(name) }
        let digits = name.prefix { $0.isASCII && $0.isNumber }
        let rest = name.dropFirst(digits.count)
        guard !digits.isEmpty, rest.hasPrefix("_"), rest.count > ".sql".count + 1 else {
            throw .badName(name)
        }
        self.version = String(digits)
        self.name = name
        self.scope = name.hasSuffix(".postgres.sql") ? .postgresOnly : .all
        self.sql = sql
    }

    /// Orders files by version and refuses two files sharing one version number.
    public static func ordered(_ files: [MigrationFile]) throws(MigrationFileError) -> [MigrationFile] {
        let sorted = files.sorted { (Int($0.version) ?? 0, $0.name) < (Int($1.version) ?? 0, $1.name) }
        for (lhs, rhs) in zip(sorted, sorted.dropFirst()) where Int(lhs.version) == Int(rhs.version) {
            throw .duplicateVersion(lhs.name, rhs.name)
        }
        return sorted
    }
}

public enum MigrationFileError: Error, Equatable, CustomStringConvertible {
    case notSQL(String)
    case badName(String)
    case duplicateVersion(String, String)

    public var description: String {
        switch self {
        case .notSQL(let name): "migration \(name) is not a .sql file"
        case .badName(let name): "migration \(name) must be named NNNN_name.sql"
        case .duplicateVersion(let a, let b): "migrations \(a) and \(b) share one version number"
        }
    }
}
