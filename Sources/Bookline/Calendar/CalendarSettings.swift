import BooklineCore
import Foundation
import Hummingbird
import JWTKit
import SQLKit

/// A tenant's connected calendar, credentials sealed.
struct CalendarSettings: Sendable, Equatable {
    var provider = "google"
    var calendarId: String
    var clientEmail: String
    var credentialsSealed: String
}

struct CalendarSettingsStore: Sendable {
    func find(tenantId: String, on db: any SQLDatabase) async throws -> CalendarSettings? {
        try await db.raw("SELECT * FROM calendar_settings WHERE tenant_id = \(bind: tenantId)").first().map {
            CalendarSettings(provider: try $0.decode(column: "provider", as: String.self),
                             calendarId: try $0.decode(column: "calendar_id", as: String.self),
                             clientEmail: try $0.decode(column: "client_email", as: String.self),
                             credentialsSealed: try $0.decode(column: "credentials_sealed", as: String.self))
        }
    }

    func save(_ settings: CalendarSettings?, tenantId: String, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM calendar_settings WHERE tenant_id = \(bind: tenantId)").run()
        guard let settings else { return }
        try await db.raw("""
            INSERT INTO calendar_settings (tenant_id, provider, calendar_id, client_email, credentials_sealed, updated_at)
            VALUES (\(bind: tenantId), \(bind: settings.provider), \(bind: settings.calendarId), \(bind: settings.clientEmail),
                    \(bind: settings.credentialsSealed), \(bind: now))
            """).run()
    }
}

extension AppServices {
    /// The tenant's calendar driver: Google when connected, else the recording one.
    func calendar(for tenantId: String) async throws -> any CalendarDriver {
        guard let settings = try await CalendarSettingsStore().find(tenantId: tenantId, on: database.sql) else {
            return RecordingCalendarDriver(logger: logger)
        }
        let account = try JSONDecoder().decode(ServiceAccount.self, from: try box.open(settings.credentialsSealed))
        return GoogleCalendarDriver(account: account, calendarId: settings.calendarId, baseURL: config.googleAPIBaseURL, now: now)
    }
}

/// `GET/PUT /api/settings/calendar`: connect a Google calendar with a service account key
/// (the JSON Google gives you), or disconnect with `{"calendarId": ""}`. The key never comes back.
struct CalendarSettingsRoutes {
    let services: AppServices

    struct SettingsView: ResponseEncodable {
        let configured: Bool
        let provider: String?
        let calendarId: String?
        let clientEmail: String?
        /// `google` when connected, `recording` otherwise.
        let mode: String
    }

    struct Body: Decodable {
        var calendarId: String?
        var serviceAccount: ServiceAccount?
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("settings/calendar", use: show)
        group.put("settings/calendar", use: update)
    }

    func view(_ settings: CalendarSettings?) -> SettingsView {
        SettingsView(configured: settings != nil, provider: settings?.provider, calendarId: settings?.calendarId,
                     clientEmail: settings?.clientEmail, mode: settings == nil ? "recording" : "google")
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> SettingsView {
        try context.tenant.require(.settingsWrite)
        return view(try await CalendarSettingsStore().find(tenantId: context.tenant.tenantId, on: services.database.sql))
    }

    @Sendable func update(_ request: Request, context: TenantRequestContext) async throws -> SettingsView {
        if context.tenant.principal.kind == .user { try context.tenant.requireSettingsManager() }
        try context.tenant.require(.settingsWrite)
        let body = try await request.decodeJSON(as: Body.self, context: context)
        let tenantId = context.tenant.tenantId
        var settings: CalendarSettings?
        if let calendarId = body.calendarId, !calendarId.isEmpty {
            var errors: [Problem.FieldError] = []
            if calendarId.count > 300 { errors.append(.init(field: "calendarId", message: "must be at most 300 characters")) }
            guard let account = body.serviceAccount else {
                throw Problem.validation(field: "serviceAccount", "is required: the service account key JSON from Google")
            }
            if (try? Insecure.RSA.PrivateKey(pem: account.privateKey)) == nil {
                errors.append(.init(field: "serviceAccount.private_key", message: "must be the account's RSA private key (PEM)"))
            }
            if (try? EmailAddress.parse(account.clientEmail).get()) == nil {
                errors.append(.init(field: "serviceAccount.client_email", message: "must be the service account's email"))
            }
            if !account.tokenURI.hasPrefix("https://"), !account.tokenURI.hasPrefix("http://127.0.0.1") {
                errors.append(.init(field: "serviceAccount.token_uri", message: "must be an https URL"))
            }
            guard errors.isEmpty else { throw Problem.validation(errors) }
            settings = CalendarSettings(calendarId: calendarId, clientEmail: account.clientEmail,
                                        credentialsSealed: try services.box.seal(try JSONEncoder().encode(account)))
        }
        let now = services.now()
        try await services.database.transaction { [settings] db in
            try await CalendarSettingsStore().save(settings, tenantId: tenantId, now: now, on: db)
            try await services.audit.append(AuditEntry(
                tenantId: tenantId, actor: context.auditActor(request), action: settings == nil ? "calendar.disconnected" : "calendar.connected",
                targetType: "tenant", targetId: tenantId, details: ["calendar_id": settings?.calendarId ?? ""]
            ), on: db, now: now)
        }
        return view(settings)
    }
}
