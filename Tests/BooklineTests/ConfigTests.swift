import Bookline
import Foundation
import Testing

@Suite("Configuration from the environment")
struct ConfigTests {
    @Test func defaultsWithAnEmptyEnvironment() throws {
        let config = try AppConfig.load(from: [:])
        #expect(config.host == "127.0.0.1")
        #expect(config.port == 8080)
        #expect(config.engineName == "sqlite")
        if case .sqlite(let path) = config.storage { #expect(path == "./data/bookline.sqlite") }
        #expect(config.baseURL == "http://127.0.0.1:8080")
        #expect(config.logLevel == .info)
        #expect(config.migrateOnStart)
        #expect(config.masterKey == nil)
        #expect(!config.isProduction)
    }

    @Test func valuesAreRead() throws {
        let key = Data(repeating: 1, count: 32).base64EncodedString()
        let config = try AppConfig.load(from: [
            "BOOKLINE_HOST": "0.0.0.0", "BOOKLINE_PORT": "9090", "BOOKLINE_DB": "/tmp/x.sqlite",
            "DATABASE_URL": "postgres://app:pw@db.internal:5432/bookline?sslmode=require",
            "BOOKLINE_MASTER_KEY": key, "BOOKLINE_PUBLIC_URL": "https://book.example.com/",
            "LOG_LEVEL": "DEBUG", "BOOKLINE_MIGRATE_ON_START": "false", "SMTP_URL": "smtps://u:p@mail:465", "EMAIL_FROM": "bookings@example.com",
            "BOOKLINE_ENV": "production", "BOOKLINE_MAX_IMPORT_BYTES": "2048", "BOOKLINE_IMPORT_BACKGROUND_ROWS": "100",
            "BOOKLINE_OPT_OUT_CACHE_SECONDS": "0", "BOOKLINE_LOGIN_ATTEMPTS_PER_15_MINUTES": "500",
        ])
        #expect(config.maxImportBytes == 2048 && config.backgroundImportRows == 100 && config.optOutCacheSeconds == 0)
        #expect(config.loginAttemptsPer15Minutes == 500)
        #expect(try AppConfig.load(from: [:]).loginAttemptsPer15Minutes == nil, "nil: tiers.yaml decides")
        let workers = try AppConfig.load(from: ["BOOKLINE_WORKER_INTERVAL": "0.25", "BOOKLINE_JOB_LEASE_SECONDS": "30",
                                                "BOOKLINE_WORKER_CONCURRENCY": "2", "BOOKLINE_RUN_WORKERS": "false"])
        #expect(workers.workerInterval == 0.25 && workers.jobLeaseSeconds == 30 && workers.workerConcurrency == 2 && !workers.runsWorker)
        let interval = try #require(throws: ConfigError.self) { try AppConfig.load(from: ["BOOKLINE_WORKER_INTERVAL": "0"]) }
        #expect(interval.description.contains("must be a number of seconds from 0.01 to 60"))
        #expect(config.host == "0.0.0.0")
        #expect(config.port == 9090)
        #expect(config.engineName == "postgres", "DATABASE_URL wins over BOOKLINE_DB")
        #expect(config.masterKey?.count == 32)
        #expect(config.baseURL == "https://book.example.com")
        #expect(config.logLevel == .debug)
        #expect(!config.migrateOnStart)
        #expect(config.smtpConfigured)
        #expect(!config.twilioConfigured)
        #expect(config.isProduction)
    }

    @Test(arguments: [
        ("BOOKLINE_PORT", "eighty"),
        ("BOOKLINE_PORT", "70000"),
        ("DATABASE_URL", "mysql://user:secretpw@host/db"),
        ("DATABASE_URL", "postgres://secretpw@"),
        ("DATABASE_URL", "postgres://user:secretpw@host/db?sslmode=sometimes"),
        ("BOOKLINE_MASTER_KEY", "c2hvcnQ="),
        ("BOOKLINE_PUBLIC_URL", "ftp://example.com"),
        ("LOG_LEVEL", "loud"),
        ("BOOKLINE_MAX_BODY_BYTES", "12"),
        ("BOOKLINE_DB_PROBE_INTERVAL", "soon"),
        ("BOOKLINE_DB_POOL_SIZE", "0"),
        ("BOOKLINE_MIGRATE_ON_START", "maybe"),
        ("BOOKLINE_ENV", "staging"),
        ("BOOKLINE_MAX_IMPORT_BYTES", "100000000"),
        ("BOOKLINE_IMPORT_BACKGROUND_ROWS", "none"),
        ("BOOKLINE_OPT_OUT_CACHE_SECONDS", "-5"),
        ("BOOKLINE_WORKER_CONCURRENCY", "65"),
        ("BOOKLINE_WORKER_INTERVAL", "0"),
        ("BOOKLINE_JOB_LEASE_SECONDS", "1"),
        ("BOOKLINE_RUN_WORKERS", "sometimes"),
        ("BOOKLINE_LOGIN_ATTEMPTS_PER_15_MINUTES", "0"),
        ("BOOKLINE_SENDER_INTERVAL", "fast"),
        ("ADMIN_EMAIL", "ops"),
        ("SLACK_WEBHOOK_URL", "hooks.slack.com/services/secretpw"),
    ])
    func badValuesAreOneLineNamingTheVariable(variable: String, value: String) throws {
        let error = try #require(throws: ConfigError.self) { try AppConfig.load(from: [variable: value]) }
        #expect(error.variable == variable)
        #expect(error.description.hasPrefix(variable + " "))
        #expect(!error.description.contains("\n"))
        #expect(!error.description.contains("secretpw"), "a database password must never be echoed")
    }
}
