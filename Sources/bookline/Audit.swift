import ArgumentParser
import Bookline
import Foundation

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the audit log.",
        subcommands: [Verify.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the hash chains and report the first broken link (exit 1 when broken)."
        )

        @Option(help: "Only this tenant's chain (a tenant id, or platform).")
        var tenant: String?

        func run() async throws {
            var broken = false
            try await Startup.withServices { services in
                let result = try await AuditReader(database: services.database).verify(tenantId: tenant)
                if let link = result.broken {
                    print("BROKEN: chain \(link.chain), row \(link.id) (seq \(link.seq)): \(link.reason)")
                    broken = true
                } else {
                    print("ok: \(result.rows) rows in \(result.chains) chains verified")
                }
            }
            if broken { throw ExitCode(1) }
        }
    }
}
