import BooklineCore
import Foundation
import Hummingbird
import SQLKit

/// A tenant's voice webhook secret (held sealed) and the figures analytics needs: the
/// reporting currency and the average value of one booked appointment, in minor units.
public struct CallSettings: Sendable, Equatable {
    public var webhookSecretSealed: String?
    public var webhookSecretLast4: String?
    public var currency = "GBP"
    public var averageDealValueMinor = 0

    public init() {}
}

/// SQL for `call_settings`, one row per tenant.
public struct CallSettingsStore: Sendable {
    public func find(tenantId: String, on db: any SQLDatabase) async throws -> CallSettings {
        var settings = CallSettings()
        guard let row = try await db.raw("SELECT * FROM call_settings WHERE tenant_id = \(bind: tenantId)").first() else {
            return settings
        }
        settings.webhookSecretSealed = try row.decode(column: "webhook_secret_sealed", as: String?.self)
        settings.webhookSecretLast4 = try row.decode(column: "webhook_secret_last4", as: String?.self)
        settings.currency = try row.decode(column: "currency", as: String.self)
        settings.averageDealValueMinor = try row.decode(column: "average_deal_value_minor", as: Int.self)
        return settings
    }

    public func save(_ settings: CallSettings, tenantId: String, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM call_settings WHERE tenant_id = \(bind: tenantId)").run()
        try await db.raw("""
            INSERT INTO call_settings (tenant_id, webhook_secret_sealed, webhook_secret_last4, currency,
                average_deal_value_minor, updated_at)
            VALUES (\(bind: tenantId), \(bind: settings.webhookSecretSealed), \(bind: settings.webhookSecretLast4),
                \(bind: settings.currency), \(bind: settings.averageDealValueMinor), \(bind: now))
            """).run()
    }
}

/// `GET/PUT /api/settings/calls` (settings:write; owners only for users). The webhook secret
/// goes in and never comes out: answers say whether it is set and its last four characters.
struct CallSettingsRoutes {
    let services: AppServices

    struct SettingsView: ResponseEncodable {
        let webhookUrl: String
        let webhookSecret: MessagingSettingsRoutes.SecretView
        let currency: String
        let averageDealValue: Int
    }

    /// Fields left out stay as they are; an empty webhookSecret removes it.
    struct SettingsPatch: Decodable {
        var webhookSecret: String?
        var currency: String?
        var averageDealValue: Int?
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("settings/calls", use: show)
        group.put("settings/calls", use: update)
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> SettingsView {
        try context.tenant.require(.settingsWrite)
        let settings = try await CallSettingsStore().find(tenantId: context.tenant.tenantId, on: services.database.sql)
        return view(settings, tenantId: context.tenant.tenantId)
    }

    @Sendable func update(_ request: Request, context: TenantRequestContext) async throws -> SettingsView {
        if context.tenant.principal.kind == .user { try context.tenant.requireSettingsManager() }
        try context.tenant.require(.settingsWrite)
        let patch = try await request.decodeJSON(as: SettingsPatch.self, context: context)
        let tenantId = context.tenant.tenantId
        let store = CallSettingsStore()
        var settings = try await store.find(tenantId: tenantId, on: services.database.sql)
        var errors: [Problem.FieldError] = []
        var changed: [String] = []
        if let secret = patch.webhookSecret {
            if secret.isEmpty {
                settings.webhookSecretSealed = nil
                settings.webhookSecretLast4 = nil
                changed.append("webhookSecret")
            } else if (16...256).contains(secret.count), secret.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) {
                settings.webhookSecretSealed = try services.box.seal(secret)
                settings.webhookSecretLast4 = String(secret.suffix(4))
                changed.append("webhookSecret")
            } else {
                errors.append(.init(field: "webhookSecret", message: "must be 16 to 256 printable ASCII characters without spaces"))
            }
        }
        if let currency = patch.currency {
            if currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isUppercase }) {
                settings.currency = currency
                changed.append("currency")
            } else {
                errors.append(.init(field: "currency", message: "must be an ISO 4217 code such as GBP"))
            }
        }
        if let value = patch.averageDealValue {
            if (0...100_000_000).contains(value) {
                settings.averageDealValueMinor = value
                changed.append("averageDealValue")
            } else {
                errors.append(.init(field: "averageDealValue", message: "must be 0 to 100000000 minor units"))
            }
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let now = services.now()
        try await services.database.transaction { [settings, changed] db in
            try await store.save(settings, tenantId: tenantId, now: now, on: db)
            try await services.audit.append(AuditEntry(
                tenantId: tenantId, actor: context.auditActor(request), action: "call_settings.updated",
                targetType: "tenant", targetId: tenantId, details: ["fields": changed.sorted().joined(separator: " ")]
            ), on: db, now: now)
        }
        return view(settings, tenantId: tenantId)
    }

    func view(_ settings: CallSettings, tenantId: String) -> SettingsView {
        SettingsView(
            webhookUrl: services.config.baseURL + "/webhooks/voice/" + tenantId,
            webhookSecret: .init(configured: settings.webhookSecretSealed != nil, last4: settings.webhookSecretLast4),
            currency: settings.currency,
            averageDealValue: settings.averageDealValueMinor
        )
    }
}
