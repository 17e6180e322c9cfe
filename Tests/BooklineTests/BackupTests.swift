@testable import Bookline
import BooklineCore
import Foundation
import HummingbirdTesting
import Testing

/// Backups on the engine under test (SQLite, or PostgreSQL with BOOKLINE_TEST_DATABASE_URL):
/// pg_dump / pg_restore missing makes these fail with the tool's name, never skip.
@Suite("Backups")
struct BackupTests {
    @Test func backupWipeRestoreKeepsEveryRowAndTheAuditChain() async throws {
        try await withSeededBackup { _, services, folder, result in
            let live = try await BackupService.rowCounts(on: services.database.sql, engine: services.database.engine)
            #expect(result.manifest.tables == live)
            #expect(live["tenants"] == 2)
            #expect(live["leads"] == 3)
            #expect((live["audit_log"] ?? 0) > 0)
            #expect(result.manifest.engine == TestDatabase.engine.rawValue)
            #expect(result.manifest.schemaVersion == (try services.backups.knownLatestMigration()))
            #expect(result.manifest.sha256.count == 64)
            #expect(result.manifest.sizeBytes == Int64(try Data(contentsOf: result.file).count))
            #expect(!result.manifest.encrypted)

            let target = try await emptied(services)
            let restored = try await service(target, services).restore(from: result.file)
            #expect(restored == result.manifest)
            try await withDatabase(target) { database in
                #expect(try await BackupService.rowCounts(on: database.sql, engine: database.engine) == live)
                let audit = try await AuditReader(database: database).verify()
                #expect(audit.broken == nil)
                #expect(audit.rows == live["audit_log"])
            }
            let verification = try await service(target, services).verify(in: folder)
            #expect(verification.passed)
            #expect(verification.counts == live)
        }
    }

    @Test func corruptedBackupIsRefused() async throws {
        try await withSeededBackup { _, services, folder, result in
            var bytes = try Data(contentsOf: result.file)
            bytes[bytes.count / 2] ^= 0x01
            try bytes.write(to: result.file)
            let target = try await emptied(services)
            await #expect(throws: BackupError.checksumMismatch(result.file.lastPathComponent)) {
                try await service(target, services).restore(from: result.file)
            }
            await #expect(throws: BackupError.checksumMismatch(result.file.lastPathComponent)) {
                try await service(target, services).verify(in: folder)
            }
        }
    }

    @Test func truncatedBackupIsRefused() async throws {
        try await withSeededBackup { _, services, _, result in
            let bytes = try Data(contentsOf: result.file)
            try bytes.prefix(bytes.count / 2).write(to: result.file)
            let target = try await emptied(services)
            await #expect(throws: BackupError.sizeMismatch(file: result.file.lastPathComponent, expected: Int64(bytes.count), actual: Int64(bytes.count / 2))) {
                try await service(target, services).restore(from: result.file)
            }
        }
    }

    @Test func aBackupWithoutItsManifestIsRefused() async throws {
        try await withSeededBackup { _, services, folder, result in
            let renamed = folder.appendingPathComponent("renamed.sqlite")
            try FileManager.default.copyItem(at: result.file, to: renamed)
            let target = try await emptied(services)
            await #expect(throws: BackupError.manifestMissing(BackupManifest.manifestURL(for: renamed).path)) {
                try await service(target, services).restore(from: renamed)
            }
            await #expect(throws: BackupError.fileMissing(folder.appendingPathComponent("nope.sqlite").path)) {
                try await service(target, services).restore(from: folder.appendingPathComponent("nope.sqlite"))
            }
        }
    }

    @Test func newerSchemaIsRefused() async throws {
        try await withSeededBackup { _, services, _, result in
            var manifest = result.manifest
            manifest.schemaVersion = "9999_from_the_future.sql"
            try manifest.encoded().write(to: BackupManifest.manifestURL(for: result.file))
            let target = try await emptied(services)
            let error = await #expect(throws: BackupError.self) { try await service(target, services).restore(from: result.file) }
            guard case .schemaTooNew(let backup, _) = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(backup == "9999_from_the_future.sql")
            #expect(error?.description.contains("newer than this binary knows") == true)
        }
    }

    @Test func restoreIntoANonEmptyDatabaseIsRefused() async throws {
        try await withSeededBackup { _, services, _, result in
            let error = await #expect(throws: BackupError.self) { try await services.backups.restore(from: result.file) }
            guard case .targetNotEmpty(let tables) = error else { Issue.record("got \(String(describing: error))"); return }
            #expect(tables.contains("tenants") && tables.contains("leads"))
            // Nothing was touched.
            let counts = try await BackupService.rowCounts(on: services.database.sql, engine: services.database.engine)
            #expect(counts == result.manifest.tables)
        }
    }

    @Test func encryptedBackupRoundTripsAndAWrongKeyIsRefused() async throws {
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
        try await withSeededBackup(configure: { $0.backup.key = key }) { _, services, _, result in
            #expect(result.manifest.encrypted)
            #expect(result.file.lastPathComponent.hasSuffix(".enc"))
            #expect(result.manifest.keyId == BackupCipher.keyId(key))
            let stored = try Data(contentsOf: result.file)
            #expect(stored.prefix(8) == Data("BKLBAK01".utf8))
            #expect(stored.range(of: Data("SQLite format 3".utf8)) == nil && stored.range(of: Data("PGDMP".utf8)) == nil)

            var target = try await emptied(services)
            target.backup.key = nil
            await #expect(throws: BackupError.keyMissing) { try await service(target, services).restore(from: result.file) }
            target.backup.key = Data(repeating: 9, count: 32)
            await #expect(throws: BackupError.wrongKey(backupKeyId: result.manifest.keyId)) {
                try await service(target, services).restore(from: result.file)
            }
            // Without the key id in the manifest, AES-GCM itself refuses the wrong key.
            var anonymous = result.manifest
            anonymous.keyId = nil
            try anonymous.encoded().write(to: BackupManifest.manifestURL(for: result.file))
            await #expect(throws: BackupError.wrongKey(backupKeyId: nil)) {
                try await service(target, services).restore(from: result.file)
            }

            target.backup.key = key
            try await service(target, services).restore(from: result.file)
            try await withDatabase(target) { database in
                let counts = try await BackupService.rowCounts(on: database.sql, engine: database.engine)
                #expect(counts == result.manifest.tables)
            }
        }
    }

    @Test func retentionKeepsTheNewestN() async throws {
        let clock = TestClock()
        try await withApp(configure: { $0.backup.keep = 3 }, now: clock.closure) { _, services in
            let folder = temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            var files: [URL] = []
            for _ in 0..<5 {
                files.append(try await services.backups.backup(from: services.database, to: folder).file)
                clock.advance(by: 3600)
            }
            let left = BackupManifest.list(in: folder)
            #expect(left.map(\.fileURL.lastPathComponent) == files.suffix(3).reversed().map(\.lastPathComponent))
            let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            #expect(names.count == 6)
            for old in files.prefix(2) {
                #expect(!FileManager.default.fileExists(atPath: old.path))
                #expect(!FileManager.default.fileExists(atPath: BackupManifest.manifestURL(for: old).path))
            }
            // A manifest naming another file is ignored, so retention never deletes that file.
            let bystander = folder.appendingPathComponent("keep-me.txt")
            try Data("precious".utf8).write(to: bystander)
            var forged = left[0].manifest
            forged.file = "keep-me.txt"
            forged.createdAt = Date(timeIntervalSince1970: 0)
            try forged.encoded().write(to: folder.appendingPathComponent("bookline-forged.sqlite.manifest.json"))
            #expect(BackupManifest.list(in: folder).count == 3)

            // Two backups in the same instant get distinct names, newest listed first.
            let first = try await services.backups.backup(from: services.database, to: folder)
            let second = try await services.backups.backup(from: services.database, to: folder)
            #expect(first.file != second.file)
            #expect(BackupManifest.list(in: folder).first?.fileURL == second.file)
            #expect(FileManager.default.fileExists(atPath: bystander.path))
        }
    }

    @Test func encryptionStreamsChunksAndRefusesACutFile() throws {
        let folder = temporaryFolder()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = folder.appendingPathComponent("plain")
        let payload = Data((0..<(BackupCipher.chunkSize * 2 + 12345)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try payload.write(to: plain)
        let key = Data(repeating: 3, count: 32)
        let sealed = folder.appendingPathComponent("sealed")
        try BackupCipher.encrypt(plain, to: sealed, key: key)
        let opened = folder.appendingPathComponent("opened")
        try BackupCipher.decrypt(sealed, to: opened, key: key, keyId: nil)
        #expect(try Data(contentsOf: opened) == payload)

        // Cut after the first two chunks: every remaining chunk opens, but the final one is missing.
        let frame = 1 + 4 + 12 + BackupCipher.chunkSize + 16
        try Data(contentsOf: sealed).prefix(12 + 2 * frame).write(to: sealed)
        #expect(throws: BackupError.truncatedCiphertext) {
            try BackupCipher.decrypt(sealed, to: folder.appendingPathComponent("cut"), key: key, keyId: nil)
        }
    }

    @Test func aMissingPostgresToolIsNamed() throws {
        #expect(throws: BackupError.toolMissing("pg_dump_not_installed")) { try PostgresTools.locate("pg_dump_not_installed") }
        #expect(BackupError.toolMissing("pg_dump").description.contains("install postgresql-client"))
        if TestDatabase.engine == .postgres {
            // CI installs PostgreSQL: a missing pg_dump fails here instead of skipping the suite.
            #expect(throws: Never.self) { try PostgresTools.locate("pg_dump") }
            #expect(throws: Never.self) { try PostgresTools.locate("pg_restore") }
        }
    }

    @Test func configIsValidatedInOneLine() throws {
        #expect(try AppConfig.load(from: [:]).backup.directory == nil)
        let config = try AppConfig.load(from: [
            "BOOKLINE_BACKUP_DIR": "/var/backups/bookline", "BOOKLINE_BACKUP_KEEP": "14",
            "BOOKLINE_BACKUP_KEY": Data(repeating: 1, count: 32).base64EncodedString(),
        ])
        #expect(config.backup.directory == "/var/backups/bookline")
        #expect(config.backup.keep == 14)
        #expect(config.backup.key == Data(repeating: 1, count: 32))
        #expect(throws: ConfigError("BOOKLINE_BACKUP_KEEP", "must be a whole number from 1 to 1000", got: "0")) {
            try AppConfig.load(from: ["BOOKLINE_BACKUP_KEEP": "0"])
        }
        let secret = Data(repeating: 2, count: 16).base64EncodedString()
        do {
            _ = try AppConfig.load(from: ["BOOKLINE_BACKUP_KEY": secret])
            Issue.record("a 16-byte key was accepted")
        } catch {
            #expect(error.variable == "BOOKLINE_BACKUP_KEY")
            #expect(!error.description.contains(secret))
        }
    }
}

@Suite("GET /health backup block")
struct BackupHealthTests {
    @Test func degradedWhenTheNewestBackupIsOlderThan48Hours() async throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let clock = TestClock()
        try await withApp(configure: { $0.backup.directory = folder.path }, now: clock.closure) { client, services in
            var body = try await client.request(.get, "/health").json()
            var backup = try #require(body["backup"] as? [String: Any])
            #expect(body["status"] as? String == "degraded")
            #expect(backup["status"] as? String == "degraded")
            #expect(backup["last_backup_at"] == nil || backup["last_backup_at"] is NSNull)
            #expect(backup["max_age_seconds"] as? Int == 48 * 3600)

            _ = try await services.backups.backup(from: services.database)
            clock.advance(by: 47 * 3600)
            let fresh = try await client.request(.get, "/health")
            #expect(fresh.status == .ok)
            body = try fresh.json()
            backup = try #require(body["backup"] as? [String: Any])
            #expect(body["status"] as? String == "ok")
            #expect(backup["status"] as? String == "ok")
            #expect(backup["age_seconds"] as? Int == 47 * 3600)
            #expect(backup["last_backup_at"] is String)

            clock.advance(by: 2 * 3600)
            let stale = try await client.request(.get, "/health")
            #expect(stale.status == .ok)
            body = try stale.json()
            backup = try #require(body["backup"] as? [String: Any])
            #expect(body["status"] as? String == "degraded")
            #expect(backup["status"] as? String == "degraded")
            #expect(backup["age_seconds"] as? Int == 49 * 3600)
            #expect(services.backups.freshness?.status == .degraded)
        }
    }

    @Test func notReportedWhenBackupsAreNotConfigured() async throws {
        try await withApp { client, services in
            let body = try await client.request(.get, "/health").json()
            #expect(body["backup"] == nil)
            #expect(body["status"] as? String == "ok")
            #expect(services.backups.freshness == nil)
        }
    }
}

// MARK: - Helpers

func temporaryFolder() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("bookline-backups-\(UUID().uuidString)")
}

/// A seeded application (two tenants, three leads, an admin) and one backup of it.
private func withSeededBackup(
    configure: @escaping (inout AppConfig) -> Void = { _ in },
    _ body: @escaping @Sendable (any TestClientProtocol, AppServices, URL, BackupService.Result) async throws -> Void
) async throws {
    try await withApp(configure: configure) { client, services in
        let first = try await services.makeTenant("Smile Dental")
        let second = try await services.makeTenant("Cut Above Salon")
        _ = try await client.createLead(#"{"name": "Ann Example", "phone": "+44 7400 100123"}"#, key: first.key)
        _ = try await client.createLead(#"{"name": "Bob Example", "phone": "+44 7400 100124"}"#, key: first.key)
        _ = try await client.createLead(#"{"name": "Cy Example", "phone": "+44 7400 100125"}"#, key: second.key)
        _ = try await services.makePlatformUser()
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try await services.backups.backup(from: services.database, to: folder)
        try await body(client, services, folder, result)
    }
}

/// The same engine with nothing in it: a new SQLite file, or the test's PostgreSQL schema
/// dropped and created again (a dump restores into the schema it came from).
private func emptied(_ services: AppServices) async throws -> AppConfig {
    var config = services.config
    switch config.storage {
    case .sqlite(let path):
        config.storage = .sqlite(path: URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("restored.sqlite").path)
    case .postgres:
        let schema = try #require(config.postgresSchema)
        try await services.database.sql.raw("DROP SCHEMA \(ident: schema) CASCADE").run()
        try await services.database.sql.raw("CREATE SCHEMA \(ident: schema)").run()
    }
    return config
}

private func service(_ config: AppConfig, _ services: AppServices) -> BackupService {
    BackupService(config: config, migrations: services.paths.migrations, logger: quietLogger)
}

private func withDatabase(_ config: AppConfig, _ body: (Database) async throws -> Void) async throws {
    let database = try await Database.open(config, logger: quietLogger)
    do {
        try await body(database)
        await database.close()
    } catch {
        await database.close()
        throw error
    }
}
