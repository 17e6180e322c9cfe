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

    /// Opens the database and, unless disabled, applies pending migrations.
    public static func make(
        config: AppConfig,
        logger: Logger,
        now: @escaping @Sendable () -> Date = Date.init
    ) async throws -> AppServices {
        let paths = ResourcePaths.locate(configured: config.resourceRoot)
        let spec = try APISpec.load(from: paths.openAPISpec)
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
        return AppServices(
            config: config, paths: paths, logger: logger, database: database, now: now,
            startedAt: .now,
            databaseHealth: DatabaseHealthMonitor(database: database, logger: logger, now: now),
            tenantResolution: TenantResolutionMonitor(),
            tenants: TenantStore(database: database),
            spec: spec
        )
    }

    /// Credential resolvers in the order they are tried.
    var credentialResolvers: [any CredentialResolver] {
        config.allowDevTenantHeader ? [DevelopmentHeaderResolver()] : []
    }
}
