import BooklineCore
import Foundation
import Logging

/// The application's environment: configuration plus the long-lived clients every feature
/// uses, built once and injected (tests swap the clock or reach the monitors through it).
public struct AppServices: Sendable {
    public let config: AppConfig
    public let paths: ResourcePaths
    public let logger: Logger
    public let database: Database
    public let now: @Sendable () -> Date
    public let startedAt: ContinuousClock.Instant
    public let databaseHealth: DatabaseHealthMonitor
    public let tenantResolution: TenantResolutionMonitor
    public let tenants: TenantStore
    public let spec: APISpec
    public let box: SecretBox
    public let audit: AuditLog
    public let users: UserStore
    public let apiKeys: APIKeyStore
    public let refreshTokens: RefreshTokenStore
    public let sessions: SessionStore
    public let accountTokens: AccountTokenStore
    /// The platform's own mail (resets, verification): a var so tests record it instead.
    public var accountMailer: any AccountMailer
    public let accountMail: AccountMailTemplates
    public let tokens: TokenService
    public let hasher: PasswordHasher
    /// Verified against for unknown emails so failed logins all cost the same.
    public let decoyHash: String
    public let industries: IndustryCatalog
    public let idempotency: IdempotencyStore
    public let tiers: TierCatalog
    public let rateLimiter: RateLimiter
    public let optOuts: OptOutService
    public let leads: LeadService
    public let importer: LeadImporter
    public let importRunner: ImportRunner
    public let templates: TemplateCatalog
    public let errors: ErrorMonitor
    public let jobs: JobQueue
    public let followUps: FollowUpPlan

    /// Per-IP budget for sign-ups.
    var onboardPolicy: RateLimitPolicy {
        RateLimitPolicy(name: "onboard", limit: config.onboardingAttemptsPerHour ?? tiers.publicLimits.onboardPerHour, window: 3600)
    }

    /// Per-IP budget for login and token requests.
    var loginPolicy: RateLimitPolicy {
        RateLimitPolicy(name: "login", limit: config.loginAttemptsPer15Minutes ?? tiers.publicLimits.loginPer15Minutes, window: 900)
    }

    /// The per-minute budget of a tenant's credentials: the admin override, else the tier's.
    func policy(for tenant: Tenant) -> RateLimitPolicy {
        RateLimitPolicy(
            name: tenant.tier,
            limit: tenant.rateLimitPerMinute ?? tiers.tier(tenant.tier).requestsPerMinute,
            window: 60
        )
    }

    /// The outbox sender, with each tenant's drivers.
    public var messageSender: MessageSender {
        MessageSender(services: self) { tenantId, channel in try await self.driver(for: tenantId, channel: channel) }
    }

    /// The tenant's own provider, else the platform's, else the simulation driver (never a silent drop).
    func driver(for tenantId: String, channel: MessageChannel) async throws -> any MessageDriver {
        let settings = try await MessagingSettingsStore().find(tenantId: tenantId, on: database.sql)
        guard channel == .sms else {
            if settings.smtpConfigured, let sealed = settings.smtpURLSealed, let from = settings.emailFrom,
               let server = SMTPServer(url: String(decoding: try box.open(sealed), as: UTF8.self)) {
                return SMTPDriver(server: server, from: from, logger: logger)
            }
            if let url = config.smtpURL, let server = SMTPServer(url: url), let from = config.emailFrom {
                return SMTPDriver(server: server, from: from, logger: logger)
            }
            return SimulatedDriver(logger: logger)
        }
        if settings.twilioConfigured, let sid = settings.twilioAccountSid, let sealed = settings.twilioAuthTokenSealed {
            let token = String(decoding: try box.open(sealed), as: UTF8.self)
            return TwilioDriver(account: TwilioAccount(accountSid: sid, authToken: token, fromNumber: settings.twilioFromNumber,
                                                       messagingServiceSid: settings.twilioMessagingServiceSid),
                                baseURL: config.twilio.apiBaseURL, logger: logger)
        }
        let platform = config.twilio
        if let sid = platform.accountSid, let token = platform.authToken, platform.fromNumber != nil || platform.messagingServiceSid != nil {
            return TwilioDriver(account: TwilioAccount(accountSid: sid, authToken: token, fromNumber: platform.fromNumber,
                                                       messagingServiceSid: platform.messagingServiceSid),
                                baseURL: platform.apiBaseURL, logger: logger)
        }
        return SimulatedDriver(logger: logger)
    }

    public var authenticator: Authenticator {
        Authenticator(apiKeys: apiKeys, tokens: tokens, users: users, sessions: sessions, now: now)
    }

    public var accounts: AccountService {
        AccountService(database: database, users: users, sessions: sessions, accountTokens: accountTokens, hasher: hasher,
                       decoyHash: decoyHash, audit: audit, mailer: accountMailer, mail: accountMail,
                       baseURL: config.baseURL, logger: logger, now: now)
    }

    public var mfa: MFAService {
        MFAService(database: database, users: users, box: box, audit: audit, now: now)
    }

    /// The platform's SMTP server when configured, else the simulation.
    static func accountMailer(config: AppConfig, logger: Logger) -> any AccountMailer {
        if let url = config.smtpURL, let server = SMTPServer(url: url), let from = config.emailFrom {
            return SMTPAccountMailer(server: server, from: from, logger: logger)
        }
        return SimulatedAccountMailer(logger: logger)
    }

    /// Opens the database and, unless disabled, applies pending migrations.
    public static func make(
        config: AppConfig,
        logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) async throws -> AppServices {
        let paths = ResourcePaths.locate(configured: config.resourceRoot)
        let spec = try APISpec.load(from: paths.openAPISpec)
        let industries = try IndustryCatalog.load(from: paths.tenants.appendingPathComponent("industries"))
        let tiers = try TierCatalog.load(from: paths.tenants.appendingPathComponent("tiers.yaml"))
        let templates = try TemplateCatalog.load(from: paths.tenants.appendingPathComponent("templates"))
        let accountMail = try AccountMailTemplates.load(from: paths.tenants.appendingPathComponent("account-mail"))
        let followUps = try FollowUpCatalog.load(from: paths.tenants.appendingPathComponent("followups.yaml"))
        let masterKey = try SecretBox.resolveMasterKey(config: config, logger: logger)
        let database = try await Database.open(config, logger: logger)
        do {
            if config.migrateOnStart {
                _ = try await withRetry("migrate", logger: logger) {
                    try await Migrator(database: database, directory: paths.migrations, logger: logger, now: now).migrate()
                }
            }
        } catch {
            await database.close()
            throw error
        }
        let hasher = PasswordHasher(parameters: config.passwordHashing)
        do {
            // After migrating: the derivation root lives in the database (platform_secrets).
            let box = try await SecretBox.load(master: masterKey, database: database, logger: logger)
            let tokens = TokenService(database: database, box: box, issuer: config.baseURL, now: now)
            // Best effort: with the database down the server still starts (and /health says
            // so); the keys load on the first token instead.
            do {
                try await tokens.start()
            } catch let error as ConfigError {
                throw error  // the wrong master key: nothing signed or sealed would work
            } catch {
                logger.warning("signing keys not loaded at start; will retry on first use", metadata: ["error": "\(TransientError.kind(of: error))"])
            }
            let audit = AuditLog(engine: database.engine, box: box)
            let optOuts = OptOutService(database: database, audit: audit, hasher: PhoneHasher(box: box),
                                        cacheSeconds: config.optOutCacheSeconds)
            // Imports whose process died are marked, so their record says where they stopped.
            try? await LeadImportStore().markStaleInterrupted(now: now(), on: database.sql)
            return AppServices(
                config: config, paths: paths, logger: logger, database: database, now: now,
                startedAt: .now,
                databaseHealth: DatabaseHealthMonitor(database: database, logger: logger, now: now),
                tenantResolution: TenantResolutionMonitor(),
                tenants: TenantStore(database: database),
                spec: spec,
                box: box,
                audit: audit,
                users: UserStore(database: database),
                apiKeys: APIKeyStore(database: database),
                refreshTokens: RefreshTokenStore(database: database),
                sessions: SessionStore(database: database),
                accountTokens: AccountTokenStore(database: database),
                accountMailer: accountMailer(config: config, logger: logger),
                accountMail: accountMail,
                tokens: tokens,
                hasher: hasher,
                decoyHash: try await hasher.decoyHash(),
                industries: industries,
                idempotency: IdempotencyStore(database: database, box: box),
                tiers: tiers,
                rateLimiter: RateLimiter(
                    store: config.rateLimitStore == "postgres" ? PostgresRateLimitStore(database: database) : MemoryRateLimitStore(),
                    now: now
                ),
                optOuts: optOuts,
                leads: LeadService(database: database, optOuts: optOuts, audit: audit),
                importer: LeadImporter(database: database, optOuts: optOuts, audit: audit),
                importRunner: ImportRunner(),
                templates: templates,
                errors: ErrorMonitor(database: database, logger: logger, now: now,
                                     notifier: PlatformAlertNotifier(config: config, logger: logger)),
                jobs: JobQueue(handlers: PlatformJobs.handlers + [AppointmentMessages.handler, FollowUps.handler, CalendarSync.handler, SubjectExport.handler] + (config.testJobKinds ? TestJobs.handlers : []),
                               engine: database.engine),
                followUps: followUps
            )
        } catch {
            await database.close()
            throw error
        }
    }
}

// Service-lifecycle logs its services at start-up; these hold secrets (the database URL, the
// master key, provider tokens), so their descriptions name the type and nothing else.
extension AppServices: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "AppServices" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

extension AppConfig: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "AppConfig(engine: \(engineName), host: \(host), port: \(port))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

extension TwilioDefaults: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "TwilioDefaults(configured: \(accountSid != nil && authToken != nil))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: []) }
}
