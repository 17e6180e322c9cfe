import BooklineCore
import Foundation
import Logging
import PostgresKit

/// Everything Bookline reads from its environment, parsed once at start.
///
/// Each variable is documented in README.md and `.env.example`. A bad value stops startup
/// with a `ConfigError`, whose description is one line naming the variable.
public struct AppConfig: Sendable {
    public enum Storage: Sendable {
        case sqlite(path: String)
        case postgres(url: String)
    }

    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    public var storage: Storage = .sqlite(path: "./data/bookline.sqlite")
    /// 32 bytes that encrypt provider secrets at rest; optional until secrets are stored.
    public var masterKey: Data?
    /// `production` refuses to start without a master key; `development` generates one.
    public var environment: String = "development"
    public var isProduction: Bool { environment == "production" }
    public var publicURL: String?
    public var logLevel: Logger.Level = .info
    /// Largest accepted request body; larger ones get 413.
    public var maxBodyBytes: Int = 1 << 20
    /// Upper bound for `BOOKLINE_MAX_BODY_BYTES`.
    public static let maxBodyBytesCeiling = 64 << 20
    /// Largest accepted body for `POST /api/leads/import` (CSV and JSON files).
    public var maxImportBytes: Int = 32 << 20
    /// Imports with more rows than this run in the background (202 + progress).
    public var backgroundImportRows: Int = 5000
    /// How long an opt-out look-up is cached; local writes invalidate at once.
    public var optOutCacheSeconds: Double = 300
    /// Seconds between background database probes.
    public var databaseProbeInterval: Double = 300
    /// Connections per event loop (PostgreSQL) or in total per loop (SQLite readers).
    public var databasePoolSize: Int = 4
    /// Apply pending migrations when the server starts.
    public var migrateOnStart: Bool = true
    /// Where `migrations/`, `public/` and `tenants/` live; found automatically when nil.
    public var resourceRoot: String?
    /// Platform-wide provider defaults; a tenant's own settings take precedence.
    public var twilio = TwilioDefaults()
    public var smtpURL: String?
    public var emailFrom: String?
    /// Seconds between sweeps of the outbox for due messages.
    public var senderInterval: Double = 1
    /// Run the outbox sender inside `serve` (tests drive `messageSender.sweep()` themselves).
    public var runsSender = true
    /// Run job workers (and the recurring schedule) inside `serve`; tests drive them by hand.
    public var runsWorker = true
    /// Probe the database in the background (tests that end in milliseconds turn it off, so a
    /// probe still in flight never outlives the pool it uses).
    public var runsDatabaseProbe = true
    /// Jobs one worker runs at once, and its pause when the queue is empty.
    public var workerConcurrency = 4
    public var workerInterval: Double = 0.5
    /// How long a worker holds a claimed job before another may take it.
    public var jobLeaseSeconds: Double = 300
    /// Where the Google Calendar driver sends API calls (tests point it at a fake).
    public var googleAPIBaseURL = "https://www.googleapis.com"
    /// Days a deleted tenant's data is kept (and the deletion can be undone) before the purge.
    public var tenantGraceDays = 30
    /// Default days a tenant keeps uncontacted leads and messages (`bookline retention run`).
    public var retentionDays = 730
    /// Subject exports with more rows than this run as a job (202 + status URL).
    public var subjectExportInlineRows = 1000
    /// Seconds between heartbeat comments on event streams.
    public var eventHeartbeatSeconds: Double = 15
    /// Registers the `test.append` job kind (for the crash test in scripts/smoke only).
    public var testJobKinds = false
    /// SMS really leave the platform: an account, its token and a sender.
    public var twilioConfigured: Bool {
        twilio.accountSid != nil && twilio.authToken != nil && (twilio.fromNumber != nil || twilio.messagingServiceSid != nil)
    }
    public var smtpConfigured: Bool { smtpURL != nil && emailFrom != nil }
    public var voiceAIConfigured = false
    /// Where critical alerts go: an email address (through SMTP_URL) and a Slack incoming webhook.
    public var adminEmail: String?
    public var slackWebhookURL: String?

    /// argon2id cost; tests use cheap parameters.
    public var passwordHashing: PasswordHasher.Parameters = .production
    /// Per-IP limits on the unauthenticated endpoints; nil takes them from tenants/tiers.yaml.
    public var onboardingAttemptsPerHour: Int?
    public var loginAttemptsPer15Minutes: Int?
    /// `memory` (one instance) or `postgres` (instances share budgets).
    public var rateLimitStore = "memory"
    /// Browser origins allowed to call the API (CORS); none by default.
    public var corsOrigins: Set<String> = []
    /// Test-only: the PostgreSQL schema to use (each test gets a fresh one).
    public var postgresSchema: String?
    /// Backups: folder, retention, encryption key (`BOOKLINE_BACKUP_*`).
    public var backup = BackupSettings()

    public init() {}

    /// The URL people open: `BOOKLINE_PUBLIC_URL`, or derived from host and port.
    public var baseURL: String { baseURL(port: port) }

    /// The base URL for a server bound to `port` (differs from `port` when 0 picked a free one).
    public func baseURL(port: Int) -> String {
        if let publicURL { return publicURL }
        let shownHost = host == "0.0.0.0" || host == "::" ? "localhost" : host
        return "http://\(shownHost):\(port)"
    }

    /// Where generated local files (the SQLite file, a development master key) live.
    public var dataFolder: URL {
        switch storage {
        case .sqlite(let path): URL(fileURLWithPath: path).deletingLastPathComponent()
        case .postgres: URL(fileURLWithPath: "./data")
        }
    }

    public var engineName: String {
        switch storage {
        case .sqlite: "sqlite"
        case .postgres: "postgres"
        }
    }

    /// A master key variable (`BOOKLINE_MASTER_KEY`, `BOOKLINE_OLD_MASTER_KEY`): 32 bytes in
    /// base64, or nil when unset. The error never shows the value.
    public static func masterKey(_ name: String, from env: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) -> Data? {
        guard let key = env[name]?.trimmingCharacters(in: .whitespaces), !key.isEmpty else { return nil }
        guard let data = Data(base64Encoded: key), data.count == 32 else {
            throw ConfigError(name, "must be 32 bytes in base64 (try: openssl rand -base64 32)", got: nil)
        }
        return data
    }

    /// Parses the process environment (or a given dictionary, for tests).
    public static func load(from env: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) -> AppConfig {
        var config = AppConfig()
        func value(_ name: String) -> String? {
            guard let raw = env[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        /// A whole number within `range`, or nil when unset; one clear error otherwise.
        func wholeNumber(_ name: String, in range: ClosedRange<Int>, unit: String = "") throws(ConfigError) -> Int? {
            guard let text = value(name) else { return nil }
            guard let number = Int(text), range.contains(number) else {
                throw ConfigError(name, "must be a whole number\(unit) from \(range.lowerBound) to \(range.upperBound)", got: text)
            }
            return number
        }
        /// A number of seconds within `range`, or nil when unset.
        func seconds(_ name: String, in range: ClosedRange<Double>) throws(ConfigError) -> Double? {
            guard let text = value(name) else { return nil }
            func show(_ number: Double) -> String { number.rounded() == number ? String(Int(number)) : String(number) }
            guard let number = Double(text), range.contains(number) else {
                throw ConfigError(name, "must be a number of seconds from \(show(range.lowerBound)) to \(show(range.upperBound))", got: text)
            }
            return number
        }

        if let host = value("BOOKLINE_HOST") { config.host = host }
        if let port = value("BOOKLINE_PORT") {
            guard let number = Int(port), (1...65535).contains(number) else {
                throw ConfigError("BOOKLINE_PORT", "must be a port number from 1 to 65535", got: port)
            }
            config.port = number
        }
        if let path = value("BOOKLINE_DB") { config.storage = .sqlite(path: path) }
        if let url = value("DATABASE_URL") {
            try validatePostgresURL(url)
            config.storage = .postgres(url: url)
        }
        if let environment = value("BOOKLINE_ENV") {
            guard ["development", "production"].contains(environment) else {
                throw ConfigError("BOOKLINE_ENV", "must be development or production", got: environment)
            }
            config.environment = environment
        }
        config.masterKey = try Self.masterKey("BOOKLINE_MASTER_KEY", from: env)
        if let url = value("BOOKLINE_PUBLIC_URL") {
            guard let parts = URLComponents(string: url), ["http", "https"].contains(parts.scheme ?? ""),
                  let host = parts.host, !host.isEmpty
            else {
                throw ConfigError("BOOKLINE_PUBLIC_URL", "must be an http(s) URL such as https://bookline.example.com", got: url)
            }
            config.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        if let level = value("LOG_LEVEL") {
            guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
                let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigError("LOG_LEVEL", "must be one of \(names)", got: level)
            }
            config.logLevel = parsed
        }
        config.maxBodyBytes = try wholeNumber("BOOKLINE_MAX_BODY_BYTES", in: 1024...maxBodyBytesCeiling, unit: " of bytes") ?? config.maxBodyBytes
        config.maxImportBytes = try wholeNumber("BOOKLINE_MAX_IMPORT_BYTES", in: 1024...maxBodyBytesCeiling, unit: " of bytes") ?? config.maxImportBytes
        config.backgroundImportRows = try wholeNumber("BOOKLINE_IMPORT_BACKGROUND_ROWS", in: 1...1_000_000) ?? config.backgroundImportRows
        config.optOutCacheSeconds = try seconds("BOOKLINE_OPT_OUT_CACHE_SECONDS", in: 0...86_400) ?? config.optOutCacheSeconds
        config.eventHeartbeatSeconds = try seconds("BOOKLINE_EVENT_HEARTBEAT_SECONDS", in: 0.05...300) ?? config.eventHeartbeatSeconds
        config.tenantGraceDays = try wholeNumber("BOOKLINE_TENANT_GRACE_DAYS", in: 0...3650) ?? config.tenantGraceDays
        config.retentionDays = try wholeNumber("BOOKLINE_RETENTION_DAYS", in: 1...36_500) ?? config.retentionDays
        config.loginAttemptsPer15Minutes = try wholeNumber("BOOKLINE_LOGIN_ATTEMPTS_PER_15_MINUTES", in: 1...1_000_000)
        config.subjectExportInlineRows = try wholeNumber("BOOKLINE_SUBJECT_EXPORT_INLINE_ROWS", in: 0...1_000_000) ?? config.subjectExportInlineRows
        if let seconds = value("BOOKLINE_DB_PROBE_INTERVAL") {
            guard let number = Double(seconds), number >= 1, number.isFinite else {
                throw ConfigError("BOOKLINE_DB_PROBE_INTERVAL", "must be a number of seconds, at least 1", got: seconds)
            }
            config.databaseProbeInterval = number
        }
        if let size = value("BOOKLINE_DB_POOL_SIZE") {
            guard let number = Int(size), (1...100).contains(number) else {
                throw ConfigError("BOOKLINE_DB_POOL_SIZE", "must be a whole number from 1 to 100", got: size)
            }
            config.databasePoolSize = number
        }
        if let migrate = value("BOOKLINE_MIGRATE_ON_START") {
            switch migrate.lowercased() {
            case "1", "true", "yes", "on": config.migrateOnStart = true
            case "0", "false", "no", "off": config.migrateOnStart = false
            default: throw ConfigError("BOOKLINE_MIGRATE_ON_START", "must be true or false", got: migrate)
            }
        }
        if let store = value("RATE_LIMIT_STORE") {
            guard ["memory", "postgres"].contains(store) else {
                throw ConfigError("RATE_LIMIT_STORE", "must be memory or postgres", got: store)
            }
            guard store == "memory" || config.engineName == "postgres" else {
                throw ConfigError("RATE_LIMIT_STORE", "postgres needs DATABASE_URL to be set", got: store)
            }
            config.rateLimitStore = store
        }
        if let origins = value("BOOKLINE_CORS_ORIGINS") {
            for origin in origins.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !origin.isEmpty {
                guard origin != "*", let parts = URLComponents(string: origin), ["http", "https"].contains(parts.scheme ?? ""),
                      parts.host?.isEmpty == false, parts.path.isEmpty, parts.query == nil
                else {
                    throw ConfigError("BOOKLINE_CORS_ORIGINS", "must be a comma-separated list of origins like https://app.example.com (no wildcard, no path)", got: origin)
                }
                config.corsOrigins.insert(origin)
            }
        }
        config.resourceRoot = value("BOOKLINE_HOME")
        config.twilio = TwilioDefaults(
            accountSid: value("TWILIO_ACCOUNT_SID"), authToken: value("TWILIO_AUTH_TOKEN"),
            fromNumber: value("TWILIO_FROM_NUMBER"), messagingServiceSid: value("TWILIO_MESSAGING_SERVICE_SID"),
            apiBaseURL: value("TWILIO_API_BASE_URL") ?? TwilioDefaults.productionBaseURL
        )
        if let url = value("SMTP_URL") {
            guard let parts = URLComponents(string: url), ["smtp", "smtps"].contains(parts.scheme ?? ""), parts.host?.isEmpty == false else {
                throw ConfigError("SMTP_URL", "must look like smtps://user:password@smtp.example.com:465 (or smtp:// for STARTTLS)", got: nil)
            }
            config.smtpURL = url
        }
        config.emailFrom = value("EMAIL_FROM")
        config.senderInterval = try seconds("BOOKLINE_SENDER_INTERVAL", in: 0.05...3600) ?? config.senderInterval
        config.voiceAIConfigured = value("VOICE_AI_API_KEY") != nil
        config.workerConcurrency = try wholeNumber("BOOKLINE_WORKER_CONCURRENCY", in: 1...64) ?? config.workerConcurrency
        config.workerInterval = try seconds("BOOKLINE_WORKER_INTERVAL", in: 0.01...60) ?? config.workerInterval
        config.jobLeaseSeconds = try seconds("BOOKLINE_JOB_LEASE_SECONDS", in: 2...86_400) ?? config.jobLeaseSeconds
        config.testJobKinds = value("BOOKLINE_TEST_JOB_KINDS") == "1"
        config.googleAPIBaseURL = value("GOOGLE_API_BASE_URL") ?? config.googleAPIBaseURL
        if let text = value("BOOKLINE_RUN_WORKERS") {
            guard let flag = ["true": true, "false": false, "1": true, "0": false][text.lowercased()] else {
                throw ConfigError("BOOKLINE_RUN_WORKERS", "must be true or false", got: text)
            }
            config.runsWorker = flag
        }
        if let email = value("ADMIN_EMAIL") {
            guard (try? EmailAddress.parse(email).get()) != nil else { throw ConfigError("ADMIN_EMAIL", "must be an email address", got: email) }
            config.adminEmail = email
        }
        if let url = value("SLACK_WEBHOOK_URL") {
            guard let parts = URLComponents(string: url), ["https", "http"].contains(parts.scheme ?? ""), parts.host?.isEmpty == false else {
                // Never echo it: the URL is the credential.
                throw ConfigError("SLACK_WEBHOOK_URL", "must be an https:// incoming-webhook URL", got: nil)
            }
            config.slackWebhookURL = url
        }
        config.backup = try BackupSettings.load(from: env)
        return config
    }

    private static func validatePostgresURL(_ url: String) throws(ConfigError) {
        // Never echo the URL: it usually carries a password.
        let shape = "must look like postgres://user:password@host:5432/database (optional ?sslmode=require)"
        guard let parts = URLComponents(string: url), ["postgres", "postgresql"].contains(parts.scheme ?? "") else {
            throw ConfigError("DATABASE_URL", shape, got: nil)
        }
        guard let host = parts.host, !host.isEmpty, let user = parts.user, !user.isEmpty else {
            throw ConfigError("DATABASE_URL", shape, got: nil)
        }
        if let mode = parts.queryItems?.last(where: { ["sslmode", "tlsmode", "ssl", "tls"].contains($0.name.lowercased()) })?.value {
            let known = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full", "true", "false"]
            guard known.contains(mode) else {
                throw ConfigError("DATABASE_URL", "sslmode must be one of disable, prefer, require, verify-full", got: nil)
            }
        }
        do {
            _ = try SQLPostgresConfiguration(url: url)
        } catch {
            throw ConfigError("DATABASE_URL", shape, got: nil)
        }
    }
}

/// A configuration problem, described in one line that names the variable.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let variable: String
    public let description: String

    public init(_ variable: String, _ problem: String, got value: String?) {
        self.variable = variable
        let shown = value.map { " (got \"\($0.prefix(80))\")" } ?? ""
        self.description = "\(variable) \(problem)\(shown)"
            .replacingOccurrences(of: "\n", with: " ")
    }
}

/// Twilio settings from the environment. `apiBaseURL` points tests at a fake Twilio.
public struct TwilioDefaults: Sendable, Equatable {
    public static let productionBaseURL = "https://api.twilio.com"
    public var accountSid: String?
    public var authToken: String?
    public var fromNumber: String?
    public var messagingServiceSid: String?
    public var apiBaseURL: String = productionBaseURL

    public init(accountSid: String? = nil, authToken: String? = nil, fromNumber: String? = nil,
                messagingServiceSid: String? = nil, apiBaseURL: String = productionBaseURL) {
        self.accountSid = accountSid
        self.authToken = authToken
        self.fromNumber = fromNumber
        self.messagingServiceSid = messagingServiceSid
        self.apiBaseURL = apiBaseURL
    }
}
