import Bookline
import Foundation
import SQLKit
import Testing

@Suite("Migrations on the test engine")
struct MigrationTests {
    /// A migrations folder with the given files, removed afterwards.
    func withFolder<T>(_ files: [String: String], _ body: (URL) async throws -> T) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, sql) in files {
            try sql.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return try await body(folder)
    }

    func withDatabase<T>(_ body: (Database) async throws -> T) async throws -> T {
        try await TestDatabase.withFresh { config in
            let database = try await Database.open(config, logger: quietLogger)
            do {
                let result = try await body(database)
                await database.close()
                return result
            } catch {
                await database.close()
                throw error
            }
        }
    }

    func tableExists(_ name: String, in database: Database) async -> Bool {
        (try? await database.sql.raw("SELECT COUNT(*) AS n FROM \(ident: name)").first()) != nil
    }

    @Test func realMigrationsApplyOnAnEmptyDatabaseAndAreIdempotent() async throws {
        try await withDatabase { database in
            let migrator = Migrator(database: database, directory: projectRoot.appendingPathComponent("migrations"), logger: quietLogger)
            let first = try await migrator.migrate()
            #expect(first.first == "0001_tenants.sql")
            #expect(first.contains("0002_tenants_settings_json.postgres.sql") == (database.engine == .postgres))
            #expect(await tableExists("tenants", in: database))

            let second = try await migrator.migrate()
            #expect(second.isEmpty)
            #expect(try await Migrator.appliedCount(in: database) == first.count)
            let states = try await migrator.status().map(\.state)
            #expect(states.allSatisfy { $0 == .applied })
        }
    }

    @Test func postgresOnlyFilesRunOnlyOnPostgres() async throws {
        try await withFolder([
            "0001_a.sql": "CREATE TABLE a (id TEXT PRIMARY KEY);",
            "0002_b.postgres.sql": "CREATE TABLE b (id TEXT PRIMARY KEY);",
            "0003_c.sql": "CREATE TABLE c (id TEXT PRIMARY KEY, note TEXT DEFAULT 'x;y');\nINSERT INTO c (id) VALUES ('1');",
        ]) { folder in
            try await withDatabase { database in
                let applied = try await Migrator(database: database, directory: folder, logger: quietLogger).migrate()
                if database.engine == .postgres {
                    #expect(applied == ["0001_a.sql", "0002_b.postgres.sql", "0003_c.sql"])
                } else {
                    #expect(applied == ["0001_a.sql", "0003_c.sql"])
                }
                #expect(await tableExists("b", in: database) == (database.engine == .postgres))
                let note = try await database.sql.raw("SELECT note FROM c").first()?.decode(column: "note", as: String.self)
                #expect(note == "x;y")
            }
        }
    }

    @Test func aChangedAppliedMigrationIsRefused() async throws {
        try await withFolder(["0001_a.sql": "CREATE TABLE a (id TEXT PRIMARY KEY);"]) { folder in
            try await withDatabase { database in
                let migrator = Migrator(database: database, directory: folder, logger: quietLogger)
                try await migrator.migrate()
                try "CREATE TABLE a (id TEXT PRIMARY KEY, extra TEXT);"
                    .write(to: folder.appendingPathComponent("0001_a.sql"), atomically: true, encoding: .utf8)

                await #expect(throws: MigrationError.changedAfterApply("0001_a.sql")) {
                    try await migrator.migrate()
                }
                let error = MigrationError.changedAfterApply("0001_a.sql")
                #expect(error.description.contains("0001_a.sql was changed after it was applied"))
                #expect(try await migrator.status().map(\.state) == [.changed])
            }
        }
    }

    @Test func aFailingMigrationRollsBackAndIsNotRecorded() async throws {
        try await withFolder([
            "0001_ok.sql": "CREATE TABLE ok (id TEXT PRIMARY KEY);",
            "0002_bad.sql": "CREATE TABLE half (id TEXT PRIMARY KEY);\nINSERT INTO missing_table VALUES (1);",
        ]) { folder in
            try await withDatabase { database in
                let migrator = Migrator(database: database, directory: folder, logger: quietLogger)
                do {
                    try await migrator.migrate()
                    Issue.record("expected the migration to fail")
                } catch let error as MigrationError {
                    guard case .failed(let name, let statement, _) = error else {
                        Issue.record("unexpected \(error)")
                        return
                    }
                    #expect(name == "0002_bad.sql")
                    #expect(statement == 2)
                }
                #expect(await tableExists("ok", in: database))
                #expect(await !tableExists("half", in: database))
                #expect(try await migrator.status().map(\.state) == [.applied, .pending])
            }
        }
    }

    @Test func aMissingFolderIsAClearError() async throws {
        try await withDatabase { database in
            let folder = URL(fileURLWithPath: "/nonexistent/migrations")
            await #expect(throws: MigrationError.missingDirectory("/nonexistent/migrations")) {
                try await Migrator(database: database, directory: folder, logger: quietLogger).migrate()
            }
        }
    }

    @Test func transactionsRollBackOnError() async throws {
        try await withDatabase { database in
            try await database.sql.raw("CREATE TABLE t (id TEXT PRIMARY KEY)").run()
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await database.transaction { db in
                    try await db.raw("INSERT INTO t (id) VALUES ('1')").run()
                    throw Abort()
                }
            }
            try await database.transaction { db in
                try await db.raw("INSERT INTO t (id) VALUES ('2')").run()
            }
            let ids = try await database.sql.raw("SELECT id FROM t").all().map { try $0.decode(column: "id", as: String.self) }
            #expect(ids == ["2"])
        }
    }
}
