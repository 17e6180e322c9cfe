import ArgumentParser
import Bookline
import Foundation
import Logging

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply or list database migrations.",
        subcommands: [Apply.self, Status.self],
        defaultSubcommand: Apply.self
    )

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply pending migrations (the default).")

        func run() async throws {
            try await Migrate.withMigrator { migrator in
                let applied = try await migrator.migrate()
                print(applied.isEmpty ? "Database is up to date." : "Applied \(applied.count): \(applied.joined(separator: ", "))")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List migrations and whether each is applied.")

        func run() async throws {
            let problems = try await Migrate.withMigrator { migrator in
                let entries = try await migrator.status()
                for entry in entries {
                    let when = entry.appliedAt.map { " \($0.ISO8601Format())" } ?? ""
                    print("\(entry.state.rawValue.padding(toLength: 12, withPad: " ", startingAt: 0)) \(entry.name)\(when)")
                }
                return entries.filter { $0.state == .changed || $0.state == .missingFile }.count
            }
            if problems > 0 { throw ExitCode(1) }
        }
    }

    static func withMigrator<T: Sendable>(_ body: (Migrator) async throws -> T) async throws -> T {
        var config = try Startup.config()
        config.migrateOnStart = false
        let logger = Logger(label: "bookline.migrate")
        let paths = ResourcePaths.locate(configured: config.resourceRoot)
        let database: Database
        do {
            database = try await Database.open(config, logger: logger)
        } catch {
            Startup.fail(Startup.describe(error))
        }
        do {
            let result = try await body(Migrator(database: database, directory: paths.migrations, logger: logger))
            await database.close()
            return result
        } catch let exit as ExitCode {
            await database.close()
            throw exit
        } catch {
            await database.close()
            Startup.fail(Startup.describe(error))
        }
    }
}
