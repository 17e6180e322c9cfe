import ArgumentParser
import Bookline
import BooklineCore
import Foundation
import Logging

struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage platform accounts (admins and compliance staff).",
        subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a platform admin or compliance user.",
            discussion: "The password is read from standard input when it is piped; otherwise one is generated and printed once."
        )

        @Option(help: "Email address to sign in with.")
        var email: String

        @Option(help: "admin or compliance.")
        var role: String = "admin"

        func run() async throws {
            guard let role = Role(rawValue: role, platform: true) else { Startup.fail("--role must be admin or compliance") }
            guard case .success(let address) = EmailAddress.parse(email) else { Startup.fail("--email is not a valid email address") }
            var password: String
            var generated = false
            if isatty(STDIN_FILENO) == 0, let line = readLine(strippingNewline: true), !line.isEmpty {
                password = line
            } else {
                password = APIKeyFormat.generate(.live).key.dropFirst(8).prefix(24).description
                generated = true
            }
            if let problem = PasswordPolicy.check(password, context: [String(address.normalized.prefix { $0 != "@" })]) {
                Startup.fail("the password from standard input is not acceptable (\(problem.rawValue)); use at least \(PasswordPolicy.minimumLength) characters")
            }
            let finalPassword = password
            try await Startup.withServices { services in
                guard try await services.users.find(email: address) == nil else {
                    Startup.fail("a user with email \(address.normalized) already exists")
                }
                let hash = try await services.hasher.hash(finalPassword)
                let now = services.now()
                let user = try await services.database.transaction { db in
                    let user = try await services.users.create(
                        tenantId: nil, email: address, passwordHash: hash, role: role, verified: true, now: now, on: db
                    )
                    try await services.audit.append(AuditEntry(
                        tenantId: nil, actor: .system("cli"), action: "platform_user.created", targetType: "user",
                        targetId: user.id, details: ["role": role.rawValue, "email": address.normalized]
                    ), on: db, now: now)
                    return user
                }
                print("Created \(role.rawValue) \(user.email) (id \(user.id)).")
                if generated {
                    print("Password (shown once): \(finalPassword)")
                }
            }
            password = ""
        }
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage JWT signing keys and the master key.",
        subcommands: [Rotate.self, Reseal.self]
    )

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new signing key; tokens signed with the old one stay valid until they expire."
        )

        func run() async throws {
            try await Startup.withServices { services in
                let kid = try await services.tokens.rotate()
                print("New signing key \(kid) is now used for new tokens; /.well-known/jwks.json lists it.")
            }
        }
    }

    struct Reseal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every stored secret from BOOKLINE_OLD_MASTER_KEY to BOOKLINE_MASTER_KEY, in one transaction.",
            discussion: "Stop every instance (or run during maintenance) and back up first; then restart them all with the new key. See docs/RUNBOOK.md, \"The master key\"."
        )

        func run() async throws {
            let config = try Startup.config()
            let old: Data
            do {
                guard let key = try AppConfig.masterKey("BOOKLINE_OLD_MASTER_KEY") else {
                    throw ConfigError("BOOKLINE_OLD_MASTER_KEY", "is required: the master key the database is sealed with now", got: nil)
                }
                old = key
            } catch {
                Startup.fail(Startup.describe(error))
            }
            guard let new = config.masterKey else {
                Startup.fail(ConfigError("BOOKLINE_MASTER_KEY", "is required: the new master key (try: openssl rand -base64 32)", got: nil).description)
            }
            var logger = Logger(label: "bookline")
            logger.logLevel = max(config.logLevel, .warning)
            let database: Database
            do {
                database = try await Database.open(config, logger: logger)
            } catch {
                Startup.fail(Startup.describe(error))
            }
            do {
                if config.migrateOnStart {
                    let paths = ResourcePaths.locate(configured: config.resourceRoot)
                    _ = try await Migrator(database: database, directory: paths.migrations, logger: logger).migrate()
                }
                let counts = try await MasterKeyReseal.run(database: database, old: old, new: new)
                await database.close()
                for count in counts {
                    print("\(count.table).\(count.column): \(count.rows) re-sealed")
                }
                print("Done: \(counts.reduce(0) { $0 + $1.rows }) values re-sealed. Restart every instance with the new BOOKLINE_MASTER_KEY.")
            } catch {
                await database.close()
                Startup.fail(Startup.describe(error))
            }
        }
    }
}
