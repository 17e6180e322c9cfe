import BooklineCore
import Foundation
import Logging
import SQLKit

extension BackupService {
    /// The outcome of `backup verify`: the backup checked, the rows found after restoring it
    /// into a scratch database, and the tables whose counts differ from the manifest.
    public struct Verification: Sendable {
        public let backup: StoredBackup
        public let counts: [String: Int]
        public let mismatches: [String]
        public var passed: Bool { mismatches.isEmpty }
    }

    /// Checks a backup before anything is touched: manifest present, size and SHA-256 as
    /// recorded, same engine, a schema this binary knows, and the key when it is encrypted.
    /// `file` may name the backup or its manifest.
    public func check(_ file: URL) throws -> StoredBackup {
        var file = file
        if file.lastPathComponent.hasSuffix(BackupManifest.suffix) {
            file = file.deletingLastPathComponent().appendingPathComponent(String(file.lastPathComponent.dropLast(BackupManifest.suffix.count)))
        }
        guard FileManager.default.fileExists(atPath: file.path) else { throw BackupError.fileMissing(file.path) }
        let manifest = try BackupManifest.read(for: file)
        let digest = try FileDigest.sha256(of: file)
        guard digest.size == manifest.sizeBytes else {
            throw BackupError.sizeMismatch(file: file.lastPathComponent, expected: manifest.sizeBytes, actual: digest.size)
        }
        guard digest.hex == manifest.sha256 else { throw BackupError.checksumMismatch(file.lastPathComponent) }
        guard manifest.engine == config.engineName else { throw BackupError.engineMismatch(backup: manifest.engine, target: config.engineName) }
        let known = try knownLatestMigration()
        if let number = manifest.schemaNumber, number > Self.migrationNumber(known ?? "") {
            throw BackupError.schemaTooNew(backup: manifest.schemaVersion ?? "?", known: known ?? "none")
        }
        if manifest.encrypted {
            guard let key = config.backup.key else { throw BackupError.keyMissing }
            if let id = manifest.keyId, id != BackupCipher.keyId(key) { throw BackupError.wrongKey(backupKeyId: id) }
        }
        return StoredBackup(manifest: manifest, fileURL: file)
    }

    /// Restores `file` into the configured database, which must hold no rows (applied
    /// migrations aside): SQLite by replacing `BOOKLINE_DB`, PostgreSQL with pg_restore.
    /// Stop the server first.
    @discardableResult
    public func restore(from file: URL) async throws -> BackupManifest {
        let stored = try check(file)
        switch config.storage {
        case .sqlite(let path):
            try await restoreSQLite(stored, into: URL(fileURLWithPath: path))
        case .postgres(let url):
            try await restorePostgres(stored, url: url)
        }
        logger.info("backup restored", metadata: ["file": "\(stored.manifest.file)"])
        return stored.manifest
    }

    /// Restores the newest backup in `directory` into a scratch database (a temporary SQLite
    /// file, or a PostgreSQL database created and dropped for the check) and compares row
    /// counts with its manifest. The configured database is only read from.
    public func verify(in directory: URL? = nil) async throws -> Verification {
        let folder = try self.directory(directory)
        guard let latest = BackupManifest.list(in: folder).first else { throw BackupError.noBackups(folder.path) }
        let stored = try check(latest.fileURL)
        let counts: [String: Int]
        switch config.storage {
        case .sqlite:
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bookline-verify-\(UUID().uuidString).sqlite")
            defer { for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: scratch.path + suffix) } }
            try materialize(stored, to: scratch)
            counts = try await Self.withSQLiteFile(scratch.path, logger: logger) { db in try await Self.rowCounts(on: db, engine: .sqlite) }
        case .postgres(let url):
            counts = try await verifyPostgres(stored, url: url)
        }
        let tables = Set(counts.keys).union(stored.manifest.tables.keys)
        let mismatches = tables.filter { counts[$0] != stored.manifest.tables[$0] }.sorted()
        return Verification(backup: stored, counts: counts, mismatches: mismatches)
    }

    /// The newest migration in the binary's migrations folder.
    func knownLatestMigration() throws -> String? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: migrations.path) else {
            throw MigrationError.missingDirectory(migrations.path)
        }
        // PostgreSQL-only files are never applied to SQLite, so they are not its latest version.
        let applicable = names.filter { $0.hasSuffix(".sql") && (config.engineName == "postgres" || !$0.hasSuffix(".postgres.sql")) }
        return applicable.max { (Self.migrationNumber($0), $0) < (Self.migrationNumber($1), $1) }
    }

    /// Tables holding rows; `schema_migrations` alone does not make a database non-empty
    /// (a database prepared with `bookline migrate` is a fine target).
    static func tablesWithRows(on db: any SQLDatabase, engine: Database.Engine) async throws -> [String] {
        try await rowCounts(on: db, engine: engine).filter { $0.value > 0 && $0.key != "schema_migrations" }.keys.sorted()
    }

    /// Writes the backup's plain bytes to `destination`, decrypting when it is encrypted.
    private func materialize(_ stored: StoredBackup, to destination: URL) throws {
        if stored.manifest.encrypted {
            guard let key = config.backup.key else { throw BackupError.keyMissing }
            try BackupCipher.decrypt(stored.fileURL, to: destination, key: key, keyId: stored.manifest.keyId)
        } else {
            try FileManager.default.copyItem(at: stored.fileURL, to: destination)
        }
    }

    private func restoreSQLite(_ stored: StoredBackup, into target: URL) async throws {
        let files = FileManager.default
        try files.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        if files.fileExists(atPath: target.path) {
            let busy = try await Self.withSQLiteFile(target.path, logger: logger) { db in try await Self.tablesWithRows(on: db, engine: .sqlite) }
            guard busy.isEmpty else { throw BackupError.targetNotEmpty(busy) }
        }
        // Staged beside the target, then renamed over it: the swap is atomic.
        let staged = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).restore-\(UUID().uuidString.prefix(8))")
        defer { try? files.removeItem(at: staged) }
        try materialize(stored, to: staged)
        // The old file's WAL and shared-memory index must never be replayed onto the new file.
        for suffix in ["-wal", "-shm", "-journal"] { try? files.removeItem(atPath: target.path + suffix) }
        guard rename(staged.path, target.path) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target.path])
        }
    }

    private func restorePostgres(_ stored: StoredBackup, url: String) async throws {
        _ = try PostgresTools.locate("pg_restore")
        let database = try await Database.open(config, logger: logger)
        let existing: String?
        let busy: [String]
        do {
            // NULL when the search path's schema does not exist (yet).
            existing = try await database.sql.raw("SELECT current_schema() AS schema").first()?.decode(column: "schema", as: String?.self)
            busy = existing == nil ? [] : try await Self.tablesWithRows(on: database.sql, engine: .postgres)
            await database.close()
        } catch {
            await database.close()
            throw error
        }
        guard busy.isEmpty else { throw BackupError.targetNotEmpty(busy) }
        let target = existing ?? config.postgresSchema ?? "public"
        if let dumped = stored.manifest.schema, dumped != target { throw BackupError.schemaMismatch(backup: dumped, target: target) }
        try await withPlainDump(stored) { dump in
            try await pgRestore(dump, tools: PostgresTools(url: url), schemaExists: existing != nil)
        }
    }

    /// Scratch database `bookline_verify_<random>` on the same server (needs CREATEDB), dropped afterwards.
    private func verifyPostgres(_ stored: StoredBackup, url: String) async throws -> [String: Int] {
        _ = try PostgresTools.locate("pg_restore")
        let name = "bookline_verify_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let schema = stored.manifest.schema ?? "public"
        let admin = try await Database.open(config, logger: logger)
        do {
            try await admin.sql.raw("CREATE DATABASE \(ident: name)").run()
        } catch {
            await admin.close()
            throw error
        }
        do {
            try await withPlainDump(stored) { dump in
                // A new database has `public` (from template1); any other schema comes from the dump.
                try await pgRestore(dump, tools: PostgresTools(url: url).on(database: name), schemaExists: schema == "public")
            }
            var scratchConfig = config
            var parts = URLComponents(string: url)
            parts?.path = "/" + name
            scratchConfig.storage = .postgres(url: parts?.string ?? url)
            scratchConfig.postgresSchema = schema
            scratchConfig.databasePoolSize = 1
            let scratch = try await Database.open(scratchConfig, logger: logger)
            let counts: [String: Int]
            do {
                counts = try await Self.rowCounts(on: scratch.sql, engine: .postgres)
                await scratch.close()
            } catch {
                await scratch.close()
                throw error
            }
            try await admin.sql.raw("DROP DATABASE IF EXISTS \(ident: name) WITH (FORCE)").run()
            await admin.close()
            return counts
        } catch {
            try? await admin.sql.raw("DROP DATABASE IF EXISTS \(ident: name) WITH (FORCE)").run()
            await admin.close()
            throw error
        }
    }

    /// The dump as pg_restore reads it: the file itself, or a decrypted temporary copy.
    private func withPlainDump(_ stored: StoredBackup, _ body: (URL) async throws -> Void) async throws {
        guard stored.manifest.encrypted else { return try await body(stored.fileURL) }
        let plain = FileManager.default.temporaryDirectory.appendingPathComponent("bookline-restore-\(UUID().uuidString).pgdump")
        defer { try? FileManager.default.removeItem(at: plain) }
        try materialize(stored, to: plain)
        try await body(plain)
    }

    /// pg_restore in one transaction. Objects from the dump replace any (empty) ones already
    /// there; the schema's own entry is left out when the schema exists, so it is not dropped.
    private func pgRestore(_ dump: URL, tools: PostgresTools, schemaExists: Bool) async throws {
        let list = FileManager.default.temporaryDirectory.appendingPathComponent("bookline-restore-\(UUID().uuidString).list")
        defer { try? FileManager.default.removeItem(at: list) }
        try await tools.run("pg_restore", ["--list", "--file=\(list.path)", dump.path])
        if schemaExists {
            let entries = try String(contentsOf: list, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.contains(" SCHEMA - ") && !$0.contains(" COMMENT - SCHEMA ") }
            try entries.joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
        }
        try await tools.run("pg_restore", [
            "--dbname=\(tools.database)", "--enable-row-security", "--no-owner", "--no-acl", "--clean", "--if-exists",
            "--exit-on-error", "--single-transaction", "--use-list=\(list.path)", dump.path,
        ])
    }
}
