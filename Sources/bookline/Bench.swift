import ArgumentParser
import Bookline
import Foundation

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks against the configured database (use a throwaway one: they add data).",
        subcommands: [Analytics.self, Jobs.self, Export.self]
    )

    struct Analytics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seed a new tenant with N calls over a range of days and time the analytics summary over all of them.",
            discussion: "The target: 1,000,000 calls of one tenant summarised in under 300 ms on PostgreSQL."
        )

        @Option(help: "Calls to seed.")
        var calls: Int = 1_000_000

        @Option(help: "Days the calls (and the summary) span.")
        var days: Int = 365

        @Option(help: "Timed runs of the summary.")
        var runs: Int = 20

        func run() async throws {
            guard calls > 0, (1...366).contains(days), runs > 0 else { Startup.fail("--calls and --runs must be positive; --days 1 to 366") }
            try await Startup.withServices { services in
                let result = try await AnalyticsBenchmark(services: services).run(calls: calls, days: days, runs: runs)
                print(result.summary)
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seed a new tenant with N calls and stream its whole export as JSON and as a zip.",
            discussion: "Reports time, rows per second and the rise in resident memory while streaming (it should stay flat)."
        )

        @Option(help: "Calls to seed.")
        var calls: Int = 1_000_000

        func run() async throws {
            guard calls > 0 else { Startup.fail("--calls must be positive") }
            try await Startup.withServices { services in
                print(try await ExportBenchmark(services: services).run(calls: calls).summary)
            }
        }
    }

    struct Jobs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drain N due no-op jobs with W workers (jobs/s), then measure due -> started latency at half that rate.",
            discussion: "The target: 10,000 jobs; scheduling latency p99 under 1 s."
        )

        @Option(help: "Jobs to run in each phase.")
        var jobs: Int = 10_000

        @Option(help: "Workers (each claims on its own, as separate instances would).")
        var workers: Int = 1

        @Option(help: "Jobs each worker runs at once.")
        var concurrency: Int = 8

        func run() async throws {
            guard jobs > 0, (1...16).contains(workers), (1...64).contains(concurrency) else {
                Startup.fail("--jobs must be positive, --workers 1 to 16, --concurrency 1 to 64")
            }
            try await Startup.withServices { services in
                print(try await JobBenchmark(services: services).run(jobs: jobs, workers: workers, concurrency: concurrency).summary)
            }
        }
    }
}
