import BooklineCore
import Foundation
import Logging
import SQLKit

/// Applies `migrations/NNNN_name.sql` files in order, each in its own transaction, and records
/// them in `schema_migrations` with a checksum. A file changed after it was applied is refused.
public struct Migrator: Sendable {
    public struct Entry: Sendable, Equatable {
        public enum State: String, Sendable { case applied, pending, changed, missingFile = "missing-file" }
        public let name: String
        public let state: State
        public let appliedAt: Date?
    }

    let database: Database
    let directory: URL
    let logger: Logger
    let now: @Sendable () -> Date

    public init(database: Database, directory: URL, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.database = database
        self.directory = directory
        self.logger = logger
        self.now = now
    }

    /// Applies every pending migration and returns the names applied, in order.
    @discardableResult
    public func migrate() async throws -> [String] {
        let files = try loadFiles()
        try await ensureTable()
        let applied = try await appliedChecksums()
        try refuseChanged(files: files, applied: applied)

        var names: [String] = []
        for file in files where applied[file.name] == nil {
            if try await apply(file) {
                logger.info("applied migration", metadata: ["migration": "\(file.name)"])
                names.append(file.name)
            }
        }
        return names
    }

    /// Every file and every recorded migration, with its state.
    public func status() async throws -> [Entry] {
        let files = try loadFiles()
        try await ensureTable()
        let rows = try await database.sql.raw("SELECT name, checksum, applied_at FROM schema_migrations").all()
        var recorded: [String: (checksum: String, appliedAt: Date)] = [:]
        for row in rows {
            recorded[try row.decode(column: "name", as: String.self)] = (
                try row.decode(column: "checksum", as: String.self),
                try row.decode(column: "applied_at", as: Date.self)
            )
        }
        var entries = files.map { file -> Entry in
            guard let record = recorded[file.name] else { return Entry(name: file.name, state: .pending, appliedAt: nil) }
            let state: Entry.State = record.checksum == file.checksum ? .applied : .changed
            return Entry(name: file.name, state: state, appliedAt: record.appliedAt)
        }
        let known = Set(files.map(\.name))
        for (name, record) in recorded where !known.contains(name) {
            entries.append(Entry(name: name, state: .missingFile, appliedAt: record.appliedAt))
        }
        return entries.sorted { $0.name < $1.name }
    }

    /// Number of applied migrations (for /health).
    public static func appliedCount(in database: Database) async throws -> Int {
        let row = try await database.sql.raw("SELECT COUNT(*) AS n FROM schema_migrations").first()
        return try row?.decode(column: "n", as: Int.self) ?? 0
    }

    func loadFiles() throws -> [MigrationFile] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationError.missingDirectory(directory.path)
        }
        let files = try names.filter { $0.hasSuffix(".sql") }.map { name in
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            return try MigrationFile(name: name, sql: text)
        }
        return try MigrationFile.ordered(files).filter { $0.scope == .all || database.engine == .postgres }
    }

    private func ensureTable() async throws {
        try await database.transaction { db in
            try await lock(db)
            try await db.raw("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    name TEXT PRIMARY KEY,
                    version TEXT NOT NULL,
                    checksum TEXT NOT NULL,
                    applied_at TIMESTAMPTZ NOT NULL
                )
                """).run()
        }
    }

    private func appliedChecksums() async throws -> [String: String] {
        let rows = try await database.sql.raw("SELECT name, checksum FROM schema_migrations").all()
        var result: [String: String] = [:]
        for row in rows {
            result[try row.decode(column: "name", as: String.self)] = try row.decode(column: "checksum", as: String.self)
        }
        return result
    }

    private func refuseChanged(files: [MigrationFile], applied: [String: String]) throws {
        for file in files {
            if let checksum = applied[file.name], checksum != file.checksum {
                throw MigrationError.changedAfterApply(file.name)
            }
        }
    }

    /// Applies one file; false when another instance applied it first.
    private func apply(_ file: MigrationFile) async throws -> Bool {
        let statements = SQLScript.statements(in: file.sql)
        let appliedAt = now()
        return try await database.transaction { db in
            try await lock(db)
            let already = try await db.raw("SELECT name FROM schema_migrations WHERE name = \(bind: file.name)").first()
            guard already == nil else { return false }
            for (index, statement) in statements.enumerated() {
                do {
                    try await db.raw(SQLQueryString(statement)).run()
                } catch {
                    throw MigrationError.failed(file.name, statement: index + 1, reason: String(reflecting: error))
                }
            }
            try await db.raw("""
                INSERT INTO schema_migrations (name, version, checksum, applied_at)
                VALUES (\(bind: file.name), \(bind: file.version), \(bind: file.checksum), \(bind: appliedAt))
                """).run()
            return true
        }
    }

    /// Serialises migrators of several instances sharing one PostgreSQL (SQLite's
    /// `BEGIN IMMEDIATE` already serialises writers).
    private func lock(_ db: any SQLDatabase) async throws {
        guard database.engine == .postgres else { return }
        try await db.raw("SELECT pg_advisory_xact_lock(72610001)").run()
    }
}

public enum MigrationError: Error, CustomStringConvertible, Equatable {
    case missingDirectory(String)
    case changedAfterApply(String)
    case failed(String, statement: Int, reason: String)

    public var description: String {
        switch self {
        case .missingDirectory(let path):
            "migrations folder not found at \(path) (set BOOKLINE_HOME to the folder holding migrations/)"
        case .changedAfterApply(let name):
            "migration \(name) was changed after it was applied; add a new migration instead of editing an applied one"
        case .failed(let name, let statement, let reason):
            "migration \(name) failed at statement \(statement): \(reason)"
        }
    }
}
