import ArgumentParser
import Bookline
import Foundation
import Logging
#if canImport(CMalloc)
import CMalloc
#endif

@main
struct BooklineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bookline",
        abstract: "Bookline: the control plane for AI-assisted booking businesses.",
        discussion: "Configuration comes from environment variables; see README.md or .env.example.",
        version: BooklineVersion.current,
        subcommands: [Serve.self, Migrate.self, Admin.self, Keys.self, Leads.self, Tenants.self, RetentionCommand.self, Report.self, Audit.self, Backup.self, Restore.self, Worker.self, Jobs.self, Bench.self, Version.self],
        defaultSubcommand: Serve.self
    )

    static func main() async {
        EventLoopExecutor.install()
        await main(nil)
    }
}

/// Shared start-up: parse the environment, set up logging, and turn any failure into one
/// clear line on stderr and a non-zero exit, never a stack trace.
enum Startup {
    static func config(host: String? = nil, port: Int? = nil) throws -> AppConfig {
        limitMallocArenas()
        do {
            var config = try AppConfig.load()
            if let host { config.host = host }
            if let port { config.port = port }
            bootstrapLogging(level: config.logLevel)
            return config
        } catch {
            fail(error.description)
        }
    }

    /// Builds the application's services (migrating first) for a one-off CLI command.
    static func withServices(_ body: (AppServices) async throws -> Void) async throws {
        let config = try Self.config()
        var logger = Logger(label: "bookline")
        logger.logLevel = max(config.logLevel, .warning)
        let services: AppServices
        do {
            services = try await AppServices.make(config: config, logger: logger)
        } catch {
            fail(describe(error))
        }
        do {
            try await body(services)
            await services.database.close()
        } catch {
            await services.database.close()
            fail(describe(error))
        }
    }

    /// glibc gives each thread that allocates its own arena (up to 8 per core); with the event
    /// loops, the SQLite pool and the concurrency pool that fragments memory, and a 100k-row
    /// import grew the server by ~240 MB instead of ~140 MB. One arena per core is plenty.
    static func limitMallocArenas() {
        #if canImport(CMalloc)
        _ = mallopt(M_ARENA_MAX, Int32(max(2, ProcessInfo.processInfo.activeProcessorCount)))
        #endif
    }

    static func bootstrapLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            BooklineLogHandler(label: label, level: level)
        }
    }

    static func fail(_ message: String) -> Never {
        let line = message.replacingOccurrences(of: "\n", with: " ")
        FileHandle.standardError.write(Data("bookline: \(line)\n".utf8))
        Foundation.exit(1)
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as ConfigError: error.description
        case let error as MigrationError: error.description
        case let error as DatabaseUnavailable: "\(error.description) (is the database running and DATABASE_URL right?)"
        case let error as CustomStringConvertible: error.description
        default: String(describing: error)
        }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version and linked libraries.")

    func run() {
        print("bookline \(BooklineVersion.current)")
        for (name, version) in SystemLibraries.versions {
            print("  \(name) \(version)")
        }
    }
}
