import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Builds the whole application from the environment, as `bookline serve` runs it.
public func buildApplication(
    config: AppConfig,
    logger: Logger,
    onServerRunning: @escaping @Sendable (String) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let services = try await AppServices.make(config: config, logger: logger)
    return try buildApplication(services, onServerRunning: onServerRunning)
}

/// What `bookline serve` runs until SIGTERM or SIGINT: the application, and after it a closer
/// for event streams. A service group stops its services in reverse order, so the streams end
/// first; Hummingbird stops its HTTP server before the services beside it, and the server waits
/// for open responses, so a closer among those would wait behind a stream forever.
public func buildServingGroup(
    config: AppConfig,
    logger: Logger,
    onServerRunning: @escaping @Sendable (String) async -> Void = { _ in }
) async throws -> ServiceGroup {
    let services = try await AppServices.make(config: config, logger: logger)
    let app = try buildApplication(services, onServerRunning: onServerRunning)
    return ServiceGroup(configuration: .init(
        services: [
            .init(service: app.timed("application", logger: logger)),
            .init(service: EventStreamShutdownService(bus: services.database.eventBus).timed("event streams", logger: logger)),
        ],
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger
    ))
}

/// Builds the application around already-made services (tests use this with a fresh database).
public func buildApplication(
    _ services: AppServices,
    onServerRunning: @escaping @Sendable (String) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let router = try buildRouter(services)
    return Application(
        responder: CORSResponder(base: HeadResponder(base: router.buildResponder()), origins: services.config.corsOrigins),
        configuration: .init(
            address: .hostname(services.config.host, port: services.config.port),
            serverName: "Bookline"
        ),
        services: backgroundServices(services),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? services.config.port
            await onServerRunning(services.config.baseURL(port: port))
        },
        logger: services.logger
    )
}

/// What runs beside the HTTP server until shutdown.
func backgroundServices(_ services: AppServices) -> [any Service] {
    var list: [(String, any Service)] = [("database pool", DatabaseLifecycleService(database: services.database))]
    if services.config.runsDatabaseProbe {
        list.append(("database probe", DatabaseProbeService(
            monitor: services.databaseHealth,
            errors: services.errors,
            interval: .milliseconds(Int64(services.config.databaseProbeInterval * 1000))
        )))
    }
    list.append(("import runner", ImportRunnerService(runner: services.importRunner)))
    list.append(("event streams (inner)", EventStreamShutdownService(bus: services.database.eventBus)))
    if case .postgres(let url) = services.config.storage,
       let listener = try? PostgresEventListener(url: url, bus: services.database.eventBus, logger: services.logger,
                                                 forget: services.forget, forgetAll: services.forgetAll) {
        list.append(("event listener", listener))
    }
    if services.config.runsWorker { list.append(("job worker", services.workerService())) }
    if services.config.runsSender {
        list.append(("message sender", MessageSenderService(sender: services.messageSender, interval: .milliseconds(Int64(services.config.senderInterval * 1000)))))
    }
    return list.map { name, service in service.timed(name, logger: services.logger) }
}

/// Every route and middleware. Outermost first: request id, security headers, access log,
/// metrics, problem rendering, body limit, static files, then the routes; `/api` routes also
/// pass tenant resolution and get a `TenantRequestContext`.
public func buildRouter(_ services: AppServices) throws -> Router<AppRequestContext> {
    _ = MetricsRegistry.registry
    let router = Router(context: AppRequestContext.self)
    let routeTable = RouteTable()
    router.addMiddleware {
        RequestIdMiddleware()
        SecureHeadersMiddleware(httpsOnly: services.config.baseURL.hasPrefix("https://"))
        AccessLogMiddleware(logger: services.logger)
        MetricsMiddleware()
        ProblemMiddleware(logger: services.logger, routes: routeTable, errors: services.errors)
        NULGuardMiddleware()
        BodyLimitMiddleware(limit: services.config.maxBodyBytes, overrides: ["/api/leads/import": services.config.maxImportBytes])
        FileMiddleware(
            services.paths.publicFiles.path,
            cacheControl: .init([(MediaType(type: .any), [.noCache])]),
            searchForIndexHtml: true,
            logger: services.logger
        )
    }

    HealthRoutes(config: services.config, monitor: services.databaseHealth, startedAt: services.startedAt, backups: services.backups)
        .addRoutes(to: router)
    MetricsRegistry.addRoutes(to: router)
    try DocsRoutes(spec: services.spec).addRoutes(to: router)
    try PageRoutes(publicFolder: services.paths.publicFiles).addRoutes(to: router)
    OnboardingRoutes(services: services).addRoutes(to: router)
    IndustryRoutes(catalog: services.industries).addRoutes(to: router)
    AuthRoutes(services: services).addRoutes(to: router)
    AccountRoutes(services: services).addPublicRoutes(to: router)
    InvitationRoutes(services: services).addPublicRoutes(to: router)
    TwilioWebhookRoutes(services: services).addRoutes(to: router)
    VoiceWebhookRoutes(services: services).addRoutes(to: router)

    let authenticator = services.authenticator
    router.group("monitor")
        .add(middleware: AuthenticationMiddleware(authenticator: authenticator, services: services, platformRoles: [.platformAdmin]))
        .get("tenant-resolution") { _, _ in services.tenantResolution.snapshot }
    let anyCaller = router.group("api")
        .add(middleware: AuthenticationMiddleware(authenticator: authenticator, services: services, platformRoles: nil))
    MeRoutes(services: services).addRoutes(to: anyCaller)
    WorkspaceRoutes(services: services).addRoutes(to: anyCaller)
    AccountRoutes(services: services).addRoutes(to: anyCaller)
    AuditRoutes(services: services).addRoutes(to: anyCaller)
    ErrorStatsRoutes(services: services).addRoutes(to: anyCaller)
    let dataRights = router.group("api")
        .add(middleware: AuthenticationMiddleware(authenticator: authenticator, services: services, platformRoles: nil))
        .add(middleware: IdempotencyMiddleware<AppRequestContext>(services: services) { context in
            context.auth.map { "caller:\($0.principal.id)" }
        })
    DataRightsRoutes(services: services).addRoutes(to: dataRights)
    let admin = router.group("api/admin")
        .add(middleware: AuthenticationMiddleware(authenticator: authenticator, services: services, platformRoles: [.platformAdmin]))
        .add(middleware: IdempotencyMiddleware<AppRequestContext>(services: services) { context in
            context.auth.map { "platform:\($0.principal.id)" }
        })
    AdminRoutes(services: services).addRoutes(to: admin)
    JobAdminRoutes(services: services).addRoutes(to: admin)
    OptOutRoutes(services: services).addAdminRoutes(to: admin)

    let tenantAPI = router.group("api")
        .add(middleware: TenantResolutionMiddleware(
            authenticator: authenticator,
            services: services,
            monitor: services.tenantResolution
        ))
        .group(context: TenantRequestContext.self)
        .add(middleware: IdempotencyMiddleware<TenantRequestContext>(services: services) { context in
            "tenant:\(context.tenant.tenantId)"
        })
    TenantRoutes(services: services).addRoutes(to: tenantAPI)
    APIKeyRoutes(services: services).addRoutes(to: tenantAPI)
    LeadRoutes(services: services).addRoutes(to: tenantAPI)
    LeadImportRoutes(services: services).addRoutes(to: tenantAPI)
    OptOutRoutes(services: services).addRoutes(to: tenantAPI)
    MessagingSettingsRoutes(services: services).addRoutes(to: tenantAPI)
    TemplateRoutes(services: services).addRoutes(to: tenantAPI)
    MessageRoutes(services: services).addRoutes(to: tenantAPI)
    CallSettingsRoutes(services: services).addRoutes(to: tenantAPI)
    CallRoutes(services: services).addRoutes(to: tenantAPI)
    AnalyticsRoutes(services: services).addRoutes(to: tenantAPI)
    ScheduleRoutes(services: services).addRoutes(to: tenantAPI)
    AppointmentRoutes(services: services).addRoutes(to: tenantAPI)
    CalendarSettingsRoutes(services: services).addRoutes(to: tenantAPI)
    FollowUpSettingsRoutes(services: services).addRoutes(to: tenantAPI)
    RetentionRoutes(services: services).addRoutes(to: tenantAPI)
    EventRoutes(services: services).addRoutes(to: tenantAPI)
    UserRoutes(services: services).addRoutes(to: tenantAPI)
    InvitationRoutes(services: services).addRoutes(to: tenantAPI)
    routeTable.load(router.routes)
    return router
}

extension TenantResolutionMonitor.Snapshot: ResponseEncodable {}

extension AppServices {
    /// A job worker with the recurring schedule, as `serve` and `bookline worker` run it.
    public func workerService(concurrency: Int? = nil) -> any Service {
        JobWorkerService(
            worker: JobWorker(services: self, concurrency: concurrency ?? config.workerConcurrency),
            scheduler: RecurringScheduler(services: self, jobs: PlatformJobs.recurring),
            interval: .milliseconds(Int64(config.workerInterval * 1000))
        )
    }
}
