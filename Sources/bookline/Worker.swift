import ArgumentParser
import Bookline
import Foundation
import Logging
import ServiceLifecycle

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run job workers and the recurring schedule without the HTTP server.",
        discussion: "Any number may run beside `serve` against one PostgreSQL: each job is claimed by one of them. Ctrl+C / SIGTERM lets running jobs finish."
    )

    @Option(help: "Jobs run at once (default BOOKLINE_WORKER_CONCURRENCY, 4).")
    var concurrency: Int?

    func run() async throws {
        if let concurrency, !(1...64).contains(concurrency) { Startup.fail("--concurrency must be from 1 to 64") }
        let config = try Startup.config()
        var logger = Logger(label: "bookline")
        logger.logLevel = config.logLevel
        let services: AppServices
        do {
            services = try await AppServices.make(config: config, logger: logger)
        } catch {
            Startup.fail(Startup.describe(error))
        }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: services.workerService(concurrency: concurrency), successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        logger.info("worker running", metadata: ["concurrency": "\(concurrency ?? config.workerConcurrency)"])
        try await group.run()
        await services.database.close()
    }
}
