import Foundation

/// Runs PostgreSQL's client tools (pg_dump, pg_restore) against the configured database.
struct PostgresTools: Sendable {
    /// libpq settings from `DATABASE_URL`, passed through the environment so the password never
    /// shows in the process list.
    let environment: [String: String]
    let database: String

    init(url: String) {
        let parts = URLComponents(string: url)
        var env: [String: String] = [:]
        env["PGHOST"] = parts?.host
        env["PGPORT"] = String(parts?.port ?? 5432)
        env["PGUSER"] = parts?.user?.removingPercentEncoding
        env["PGPASSWORD"] = parts?.password?.removingPercentEncoding
        let database = String((parts?.path ?? "").drop { $0 == "/" })
        self.database = database.isEmpty ? (env["PGUSER"] ?? "postgres") : database
        env["PGDATABASE"] = self.database
        // The same TLS choice the server connection makes (libpq spells it sslmode).
        if let item = parts?.queryItems?.last(where: { ["sslmode", "tlsmode", "ssl", "tls"].contains($0.name.lowercased()) }),
           let value = item.value {
            env["PGSSLMODE"] = ["true": "require", "false": "disable"][value] ?? value
        }
        self.environment = env
    }

    /// The same server, another database (the scratch one `backup verify` restores into).
    func on(database: String) -> PostgresTools {
        var environment = self.environment
        environment["PGDATABASE"] = database
        return PostgresTools(environment: environment, database: database)
    }

    private init(environment: [String: String], database: String) {
        self.environment = environment
        self.database = database
    }

    /// `name` on PATH, else the newest in /usr/lib/postgresql/*/bin (Debian keeps them there).
    static func locate(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
            .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        for version in versions {
            let candidate = "/usr/lib/postgresql/\(version)/bin/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw BackupError.toolMissing(name)
    }

    /// Runs `tool` with `arguments`; a non-zero exit throws with the tool's first error line.
    func run(_ tool: String, _ arguments: [String]) async throws {
        let executable = try Self.locate(tool)
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("bookline-\(tool)-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        let errors = try FileHandle(forWritingTo: errorFile)
        defer { try? errors.close() }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // Other libpq settings (PGSSLROOTCERT, ~/.pgpass) still apply; the URL's parts win.
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: BackupError.toolFailed(tool: tool, status: -1, message: "could not start \(executable)"))
            }
        }
        guard status == 0 else {
            let text = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
            let line = text.split(separator: "\n").first { $0.contains("error") } ?? text.split(separator: "\n").first ?? ""
            throw BackupError.toolFailed(tool: tool, status: status, message: String(line.prefix(300)))
        }
    }
}
