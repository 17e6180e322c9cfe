import ArgumentParser
import Bookline
import Foundation

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a tenant's reports.",
        subcommands: [Weekly.self]
    )

    struct Weekly: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "This week against last week (Monday to Sunday in the tenant's time zone).",
            discussion: "The same figures as GET /api/analytics/weekly; --format html prints the email-ready page."
        )

        @Option(help: "The tenant's slug (see GET /api/tenant).")
        var tenant: String

        @Option(help: "Any day of the week to report, YYYY-MM-DD (default: today).")
        var date: String?

        @Option(help: "text, json or html.")
        var format: String = "text"

        func run() async throws {
            guard ["text", "json", "html"].contains(format) else { Startup.fail("--format must be text, json or html") }
            try await Startup.withServices { services in
                guard let found = try await services.tenants.find(slug: tenant) else { Startup.fail("no tenant with slug \(tenant)") }
                do {
                    print(try await services.weeklyReport(tenant: found, date: date, format: format))
                } catch let problem as Problem {
                    Startup.fail(problem.detail ?? problem.title)
                }
            }
        }
    }
}
