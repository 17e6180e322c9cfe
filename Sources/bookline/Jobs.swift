import ArgumentParser
import Bookline
import Foundation

struct Jobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Look at and add to the job queue.",
        subcommands: [List.self, Enqueue.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Jobs by kind and status, and how long the oldest due job has waited.")

        func run() async throws {
            try await Startup.withServices { services in
                let summary = try await services.jobSummary()
                for count in summary.counts {
                    print("\(count.kind.padding(toLength: 32, withPad: " ", startingAt: 0)) \(count.status.padding(toLength: 10, withPad: " ", startingAt: 0)) \(count.count)")
                }
                print("oldest due job waiting: \(summary.oldestDueSeconds) s")
            }
        }
    }

    struct Enqueue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a job of a registered kind, due now.")

        @Option(help: "The job's kind, e.g. platform.cleanup.")
        var kind: String

        @Option(help: "A JSON object of strings.")
        var payload: String = "{}"

        @Option(help: "An idempotency key: queueing the same key again does nothing.")
        var key: String?

        func run() async throws {
            guard let fields = try? JSONDecoder().decode([String: String].self, from: Data(payload.utf8)) else {
                Startup.fail("--payload must be a JSON object of strings")
            }
            try await Startup.withServices { services in
                let job = try await services.jobs.enqueue(NewJob(kind: kind, payload: fields, runAt: services.now(), idempotencyKey: key),
                                                          now: services.now(), database: services.database)
                print(job.id)
            }
        }
    }
}
