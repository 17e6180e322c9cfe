import ArgumentParser
import Bookline
import Foundation
import Logging

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Back up the database with a manifest, or check the latest backup.",
        subcommands: [Create.self, Verify.self],
        defaultSubcommand: Create.self
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Write a backup and its manifest, then keep the newest BOOKLINE_BACKUP_KEEP (the default)."
        )

        @Option(help: "Folder to write to (default: BOOKLINE_BACKUP_DIR).")
        var to: String?

        func run() async throws {
            try await Backup.run { service, config in
                let database = try await Database.open(config, logger: service.logger)
                do {
                    let start = ContinuousClock.now
                    let result = try await service.backup(from: database, to: to.map { URL(fileURLWithPath: $0) })
                    await database.close()
                    let manifest = result.manifest
                    print("backup: \(result.file.path) (\(manifest.sizeBytes) bytes\(manifest.encrypted ? ", encrypted" : ""), "
                        + "\(manifest.tables.values.reduce(0, +)) rows in \(manifest.tables.count) tables, schema \(manifest.schemaVersion ?? "none")) "
                        + "in \(Backup.seconds(since: start))")
                    if !result.deleted.isEmpty { print("deleted \(result.deleted.count) older backup(s)") }
                } catch {
                    await database.close()
                    throw error
                }
                return true
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore the latest backup into a scratch database and compare row counts with its manifest (exit 1 on mismatch)."
        )

        @Option(help: "Folder holding the backups (default: BOOKLINE_BACKUP_DIR).")
        var from: String?

        func run() async throws {
            try await Backup.run { service, _ in
                let start = ContinuousClock.now
                let report = try await service.verify(in: from.map { URL(fileURLWithPath: $0) })
                let manifest = report.backup.manifest
                print("backup \(report.backup.fileURL.path)")
                print("  created \(manifest.createdAt.ISO8601Format()), schema \(manifest.schemaVersion ?? "none"), checksum ok")
                print("  \("table".padding(toLength: 28, withPad: " ", startingAt: 0)) \("manifest".leftPadded(10)) \("restored".leftPadded(10))")
                for table in Set(manifest.tables.keys).union(report.counts.keys).sorted() {
                    let expected = manifest.tables[table].map(String.init) ?? "-"
                    let found = report.counts[table].map(String.init) ?? "-"
                    let flag = report.mismatches.contains(table) ? "  MISMATCH" : ""
                    print("  \(table.padding(toLength: 28, withPad: " ", startingAt: 0)) \(expected.leftPadded(10)) \(found.leftPadded(10))\(flag)")
                }
                if report.passed {
                    print("ok: \(report.counts.count) tables match the manifest (\(Backup.seconds(since: start)))")
                } else {
                    print("MISMATCH: \(report.mismatches.joined(separator: ", "))")
                }
                return report.passed
            }
        }
    }

    /// Runs `body` with a backup service; errors become one line, a false result exit 1.
    static func run(_ body: (BackupService, AppConfig) async throws -> Bool) async throws {
        let config = try Startup.config()
        var logger = Logger(label: "bookline")
        logger.logLevel = max(config.logLevel, .warning)
        let paths = ResourcePaths.locate(configured: config.resourceRoot)
        let passed: Bool
        do {
            passed = try await body(BackupService(config: config, migrations: paths.migrations, logger: logger), config)
        } catch {
            Startup.fail(Startup.describe(error))
        }
        if !passed { throw ExitCode(1) }
    }

    static func seconds(since start: ContinuousClock.Instant) -> String {
        let elapsed = ContinuousClock.now - start
        let value = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return String(format: "%.2f s", value)
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup into an empty database (checksum, schema and key checked first; stop the server)."
    )

    @Option(help: "The backup file (its manifest must sit next to it).")
    var from: String

    func run() async throws {
        try await Backup.run { service, _ in
            let start = ContinuousClock.now
            let manifest = try await service.restore(from: URL(fileURLWithPath: from))
            print("restored \(manifest.file) (created \(manifest.createdAt.ISO8601Format()), schema \(manifest.schemaVersion ?? "none"), "
                + "\(manifest.tables.values.reduce(0, +)) rows in \(manifest.tables.count) tables) in \(Backup.seconds(since: start))")
            return true
        }
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
