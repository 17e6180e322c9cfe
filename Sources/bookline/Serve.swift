import ArgumentParser
import Bookline
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP server (migrates the database first unless BOOKLINE_MIGRATE_ON_START=false)."
    )

    @Option(help: "Address to listen on (overrides BOOKLINE_HOST).")
    var host: String?

    @Option(help: "Port to listen on (overrides BOOKLINE_PORT).")
    var port: Int?

    func run() async throws {
        if let port, !(0...65535).contains(port) { Startup.fail("--port must be from 0 to 65535") }
        let config = try Startup.config(host: host, port: port)
        let logger = Logger(label: "bookline")
        let group: ServiceGroup
        do {
            group = try await buildServingGroup(config: config, logger: logger) { url in
                let banner = """
                    Bookline \(BooklineVersion.current) is running at \(url)
                      onboarding: \(url)/onboard
                      dashboard:  \(url)/dashboard
                      admin:      \(url)/admin (and /compliance; staff accounts from `bookline admin create`)
                      API docs:   \(url)/docs
                      health:     \(url)/health
                    Database: \(config.engineName)\(config.engineName == "sqlite" ? " (\(sqlitePath(config)))" : ""). Press Ctrl+C to stop.

                    """
                FileHandle.standardOutput.write(Data(banner.utf8))
            }
        } catch {
            Startup.fail(Startup.describe(error))
        }
        do {
            try await group.run()
        } catch {
            Startup.fail(Startup.describe(error))
        }
    }

    private func sqlitePath(_ config: AppConfig) -> String {
        if case .sqlite(let path) = config.storage { return path }
        return ""
    }
}
