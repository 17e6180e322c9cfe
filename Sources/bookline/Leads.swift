import ArgumentParser
import Bookline
import Foundation

struct Leads: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with a tenant's leads.",
        subcommands: [Import.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import leads from a CSV or JSON file (the same rules as POST /api/leads/import).",
            discussion: "Shows a progress bar on a terminal. The tenant's tier limits the rows per file."
        )

        @Option(help: "The tenant's slug (see GET /api/tenant).")
        var tenant: String

        @Argument(help: "A .csv file (header row) or a .json file (an array of leads).")
        var file: String

        @Flag(name: .customLong("dry-run"), help: "Report what would happen without writing anything.")
        var dryRun = false

        @Option(help: "CSV column separator: comma, semicolon or tab.")
        var delimiter: String = "comma"

        func run() async throws {
            let separators: [String: Character] = ["comma": ",", "semicolon": ";", "tab": "\t"]
            guard let separator = separators[delimiter] else { Startup.fail("--delimiter must be comma, semicolon or tab") }
            guard let data = FileManager.default.contents(atPath: file) else { Startup.fail("cannot read \(file)") }
            try await Startup.withServices { services in
                guard let tenant = try await services.tenants.find(slug: tenant) else {
                    Startup.fail("no tenant with slug \(self.tenant)")
                }
                let limit = services.tiers.tier(tenant.tier).maxLeadsPerImport
                let parsed: ImportFile
                do {
                    parsed = file.lowercased().hasSuffix(".json")
                        ? try ImportFile.json(data, maxRows: limit, tier: tenant.tier)
                        : try ImportFile.csv(data, delimiter: separator, maxRows: limit, tier: tenant.tier)
                } catch let problem as Problem {
                    Startup.fail(problem.detail ?? problem.title)
                }
                let now = services.now()
                let actor = AuditActor.system("cli")
                let policy = try await services.leads.duplicatePolicy(tenantId: tenant.id)
                let id = dryRun ? nil : try await services.importer.begin(tenantId: tenant.id, file: parsed, background: false,
                                                                           actor: actor, now: now)
                let job = LeadImporter.Job(tenantId: tenant.id, importId: id, file: parsed, policy: policy, actor: actor, now: now)
                let bar = ProgressBar(total: parsed.rows.count)
                let started = ContinuousClock.now
                let report = try await services.importer.run(job, clock: services.now) { bar.show($0.processed) }
                bar.finish()
                let elapsed = ContinuousClock.now - started
                print("\(dryRun ? "Dry run of" : "Imported") \(file) into \(tenant.slug)\(id.map { " (import \($0))" } ?? "") in \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow))):")
                for outcome in ImportOutcome.allCases {
                    print("  \(outcome.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)) \(report.count(outcome))")
                }
                let problems = report.rows.filter { $0.outcome != .imported && $0.outcome != .updated }.prefix(20)
                for row in problems {
                    print("  row \(row.row): \(row.outcome.rawValue)\(row.reason.map { " (\($0))" } ?? "")")
                }
            }
        }
    }
}

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
final class ProgressBar: @unchecked Sendable {
    private let total: Int
    private let enabled = isatty(STDERR_FILENO) == 1
    private let lock = NSLock()

    init(total: Int) {
        self.total = max(total, 1)
    }

    func show(_ done: Int) {
        guard enabled else { return }
        let width = 30
        let filled = min(width, done * width / total)
        let line = "\r[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(done * 100 / total)% \(done)/\(total) rows"
        lock.withLock { FileHandle.standardError.write(Data(line.utf8)) }
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
