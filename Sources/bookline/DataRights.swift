import ArgumentParser
import Bookline
import Foundation

struct Tenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tenant lifecycle.",
        subcommands: [Purge.self]
    )

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove every row of deleted tenants whose grace period has ended (BOOKLINE_TENANT_GRACE_DAYS)."
        )

        @Option(help: "Only this deleted tenant (by id).")
        var tenant: String?

        @Flag(help: "With --tenant: purge now, before the grace period ends.")
        var ignoreGracePeriod = false

        func run() async throws {
            try await Startup.withServices { services in
                let purged = try await services.purgeDeletedTenants(tenantId: tenant, ignoringGracePeriod: ignoreGracePeriod)
                if purged.isEmpty { print("no deleted tenant is due for purging") }
                for (id, counts) in purged.sorted(by: { $0.key < $1.key }) {
                    let rows = counts.values.reduce(0, +)
                    print("purged \(id): \(rows) rows (" + counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")")
                }
            }
        }
    }
}

struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Per-tenant data retention.",
        subcommands: [Run.self]
    )

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete uncontacted leads and messages older than each tenant's retention (audited)."
        )

        func run() async throws {
            try await Startup.withServices { services in
                let results = try await services.applyRetention()
                if results.isEmpty { print("nothing past retention") }
                for result in results {
                    print("\(result.tenantId): \(result.leads) uncontacted leads, \(result.messages) messages removed")
                }
            }
        }
    }
}
