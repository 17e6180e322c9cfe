import BooklineCore
import Foundation
import Logging
import NIOPosix
import SQLKit
import SQLiteKit

/// Backups of the whole database with a manifest, restore into an empty database, and the
/// checks around them. The CLI (`bookline backup`, `restore`, `backup verify`), `/health` and
/// a recurring freshness job all go through this type, e.g. from a job handler:
/// `try await services.backups.backup(from: services.database)` or `services.backups.freshness`.
public struct BackupService: Sendable {
    public let config: AppConfig
    /// The binary's migrations folder: a backup from a newer schema is refused.
    public let migrations: URL
    public let logger: Logger
    public let now: @Sendable () -> Date

    public init(config: AppConfig, migrations: URL, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.config = config
        self.migrations = migrations
        self.logger = logger
        self.now = now
    }

    /// One finished backup: its manifest, where it is, and the old backups retention removed.
    public struct Result: Sendable {
        public let manifest: BackupManifest
        public let file: URL
        public let deleted: [URL]
    }

    /// `/health`'s view of the newest backup.
    public struct Freshness: Sendable, Equatable {
        public let status: HealthStatus
        public let lastBackupAt: Date?
        public let ageSeconds: Int?
        public let maxAgeSeconds: Int
    }

    /// The configured folder, or the one given.
    public func directory(_ given: URL? = nil) throws -> URL {
        if let given { return given }
        guard let configured = config.backup.directory else { throw BackupError.noDirectory }
        return URL(fileURLWithPath: configured)
    }

    /// The newest backup in `directory` (default: `BOOKLINE_BACKUP_DIR`), nil when there is none.
    public func latestManifest(in directory: URL? = nil) throws -> StoredBackup? {
        BackupManifest.list(in: try self.directory(directory)).first
    }

    /// How old the newest backup is; nil when backups are not configured. No backup at all,
    /// or none younger than `maxAge`, is degraded.
    public var freshness: Freshness? {
        guard let folder = config.backup.directory else { return nil }
        let maxAge = Int(config.backup.maxAge)
        guard let latest = BackupManifest.list(in: URL(fileURLWithPath: folder)).first else {
            return Freshness(status: .degraded, lastBackupAt: nil, ageSeconds: nil, maxAgeSeconds: maxAge)
        }
        let age = max(0, Int(now().timeIntervalSince(latest.manifest.createdAt)))
        return Freshness(status: age <= maxAge ? .ok : .degraded, lastBackupAt: latest.manifest.createdAt,
                         ageSeconds: age, maxAgeSeconds: maxAge)
    }

    /// Backs `database` up into `directory` (default: `BOOKLINE_BACKUP_DIR`), writes the manifest,
    /// then deletes all but the newest `BOOKLINE_BACKUP_KEEP` backups there.
    public func backup(from database: Database, to directory: URL? = nil) async throws -> Result {
        let folder = try self.directory(directory)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let createdAt = now()
        let base = uniqueBaseName(in: folder, at: createdAt, extension: database.engine == .sqlite ? "sqlite" : "pgdump")
        // Written under a hidden partial name and renamed when complete, so a crash never
        // leaves a file that looks like a backup; the manifest comes last.
        let partial = folder.appendingPathComponent(".\(base).partial")
        defer { try? FileManager.default.removeItem(at: partial) }

        var manifest = BackupManifest(
            createdAt: createdAt, engine: database.engine.rawValue, schemaVersion: nil, schema: nil, file: base,
            sizeBytes: 0, sha256: "", encrypted: false, keyId: nil, tables: [:], booklineVersion: BooklineVersion.current
        )
        switch database.engine {
        case .sqlite:
            // VACUUM INTO writes a consistent copy from one read transaction while writers go on.
            try await database.sql.raw("VACUUM INTO \(bind: partial.path)").run()
            (manifest.tables, manifest.schemaVersion) = try await Self.withSQLiteFile(partial.path, logger: logger) { db in
                (try await Self.rowCounts(on: db, engine: .sqlite), try await Self.latestMigration(on: db))
            }
        case .postgres:
            guard case .postgres(let url) = config.storage else { throw BackupError.engineMismatch(backup: "postgres", target: "sqlite") }
            let (schema, tables, version) = try await dumpPostgres(database, tools: PostgresTools(url: url), into: partial)
            manifest.schema = schema
            manifest.tables = tables
            manifest.schemaVersion = version
        }

        let file = folder.appendingPathComponent(base + (config.backup.key == nil ? "" : ".enc"))
        if let key = config.backup.key {
            let sealed = folder.appendingPathComponent(".\(base).enc.partial")
            defer { try? FileManager.default.removeItem(at: sealed) }
            try BackupCipher.encrypt(partial, to: sealed, key: key)
            try FileManager.default.moveItem(at: sealed, to: file)
            manifest.encrypted = true
            manifest.keyId = BackupCipher.keyId(key)
        } else {
            try FileManager.default.moveItem(at: partial, to: file)
        }
        // It holds every tenant's data: readable by the owner only, whatever the umask.
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        manifest.file = file.lastPathComponent
        let digest = try FileDigest.sha256(of: file)
        manifest.sha256 = digest.hex
        manifest.sizeBytes = digest.size
        let manifestURL = BackupManifest.manifestURL(for: file)
        let encoded = try manifest.encoded()
        try encoded.write(to: manifestURL, options: .atomic)
        // Read back, so callers hold exactly what a later restore reads (times in milliseconds).
        manifest = try BackupManifest.decode(encoded)

        let deleted = prune(folder, keep: config.backup.keep)
        logger.info("backup written", metadata: ["file": "\(file.lastPathComponent)", "bytes": "\(digest.size)", "deleted": "\(deleted.count)"])
        return Result(manifest: manifest, file: file, deleted: deleted)
    }

    /// Deletes backup + manifest pairs beyond the newest `keep`; returns the backups removed.
    func prune(_ folder: URL, keep: Int) -> [URL] {
        BackupManifest.list(in: folder).dropFirst(keep).map { stored in
            try? FileManager.default.removeItem(at: stored.fileURL)
            try? FileManager.default.removeItem(at: stored.manifestURL)
            return stored.fileURL
        }
    }

    /// `bookline-20261125T214400.123Z.sqlite`: sortable, and never an existing name.
    private func uniqueBaseName(in folder: URL, at date: Date, extension ext: String) -> String {
        let stamp = date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true).dateSeparator(.omitted).timeSeparator(.omitted))
        var name = "bookline-\(stamp).\(ext)"
        var attempt = 1
        while FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path)
            || FileManager.default.fileExists(atPath: folder.appendingPathComponent(name + ".enc").path) {
            attempt += 1
            // Sorts after the first name of that instant, so newest-first order holds.
            name = "bookline-\(stamp)_\(String(format: "%03d", attempt)).\(ext)"
        }
        return name
    }

    /// pg_dump of the connection's schema, from a snapshot the row counts are taken in too, so
    /// the manifest describes exactly what the dump holds while the server keeps writing.
    private func dumpPostgres(_ database: Database, tools: PostgresTools, into file: URL) async throws -> (String, [String: Int], String?) {
        _ = try PostgresTools.locate("pg_dump")
        return try await database.sql.withSession { session in
            try await session.raw("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").run()
            do {
                let row = try await session.raw("SELECT pg_export_snapshot() AS snapshot, current_schema() AS schema").first()
                let snapshot = try row?.decode(column: "snapshot", as: String.self) ?? ""
                let schema = try row?.decode(column: "schema", as: String.self) ?? "public"
                let tables = try await Self.rowCounts(on: session, engine: .postgres)
                let version = try await Self.latestMigration(on: session)
                // Row-level security stays on (pg_dump refuses a table it applies to otherwise);
                // with no tenant set, the policies let this session read every row.
                try await tools.run("pg_dump", [
                    "--enable-row-security", "--format=custom", "--schema=\"\(schema)\"", "--snapshot=\(snapshot)", "--file=\(file.path)", "--dbname=\(tools.database)",
                ])
                try await session.raw("COMMIT").run()
                return (schema, tables, version)
            } catch {
                try? await session.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// Rows per table: every table of the SQLite file, or of the connection's PostgreSQL schema.
    static func rowCounts(on db: any SQLDatabase, engine: Database.Engine) async throws -> [String: Int] {
        let names: SQLQueryString = engine == .sqlite
            ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            : "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
        var counts: [String: Int] = [:]
        for row in try await db.raw(names).all() {
            let table = try row.decode(column: "name", as: String.self)
            let count = try await db.raw("SELECT COUNT(*) AS n FROM \(ident: table)").first()
            counts[table] = try count?.decode(column: "n", as: Int.self) ?? 0
        }
        return counts
    }

    /// The latest applied migration (by number), nil before any.
    static func latestMigration(on db: any SQLDatabase) async throws -> String? {
        let names = try await db.raw("SELECT name FROM schema_migrations").all().map { try $0.decode(column: "name", as: String.self) }
        return names.max { (migrationNumber($0), $0) < (migrationNumber($1), $1) }
    }

    static func migrationNumber(_ name: String) -> Int {
        Int(name.prefix { $0.isASCII && $0.isNumber }) ?? 0
    }

    /// One plain SQLite connection to a file outside the pool (a backup, a scratch copy, a
    /// restore target), closed before returning so the file can be moved or deleted.
    static func withSQLiteFile<T: Sendable>(_ path: String, logger: Logger, _ body: (any SQLDatabase) async throws -> T) async throws -> T {
        let connection = try await SQLiteConnection.open(
            storage: .file(path: path), threadPool: .singleton, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any()
        )
        do {
            let result = try await body(connection.sql())
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

extension AppServices {
    /// Backups with this application's configuration and clock.
    public var backups: BackupService {
        BackupService(config: config, migrations: paths.migrations, logger: logger, now: now)
    }
}
