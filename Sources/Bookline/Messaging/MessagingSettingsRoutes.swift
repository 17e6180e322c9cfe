import BooklineCore
import Foundation
import Hummingbird

/// `GET/PUT /api/settings/messaging`: the tenant's Twilio and SMTP settings (settings:write).
/// Secrets go in and never come out: answers say "configured" and the last four characters.
struct MessagingSettingsRoutes {
    let services: AppServices

    struct SecretView: ResponseEncodable, Equatable {
        let configured: Bool
        let last4: String?
    }

    struct SettingsView: ResponseEncodable {
        let twilioAccountSid: String?
        let twilioAuthToken: SecretView
        let twilioFromNumber: String?
        let twilioMessagingServiceSid: String?
        let smtpUrl: SecretView
        let emailFrom: String?
        let helpText: String?
        /// Which provider each channel uses now: `tenant`, `platform` or `simulated`.
        let smsMode: String
        let emailMode: String
    }

    /// Fields left out stay as they are; an empty string clears one.
    struct SettingsPatch: Decodable {
        var twilioAccountSid: String?
        var twilioAuthToken: String?
        var twilioFromNumber: String?
        var twilioMessagingServiceSid: String?
        var smtpUrl: String?
        var emailFrom: String?
        var helpText: String?
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("settings/messaging", use: show)
        group.put("settings/messaging", use: update)
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> SettingsView {
        try context.tenant.require(.settingsWrite)
        return view(try await MessagingSettingsStore().find(tenantId: context.tenant.tenantId, on: services.database.sql))
    }

    @Sendable func update(_ request: Request, context: TenantRequestContext) async throws -> SettingsView {
        if context.tenant.principal.kind == .user { try context.tenant.requireSettingsManager() }
        try context.tenant.require(.settingsWrite)
        let patch = try await request.decodeJSON(as: SettingsPatch.self, context: context)
        let tenantId = context.tenant.tenantId
        let store = MessagingSettingsStore()
        var settings = try await store.find(tenantId: tenantId, on: services.database.sql)
        var errors: [Problem.FieldError] = []
        var changed: [String] = []
        func set(_ field: String, _ value: String?, valid: (String) -> Bool, message: String, apply: (String?) -> Void) {
            guard let value else { return }
            let trimmed = value.trimmingWhitespace()
            if trimmed.isEmpty { apply(nil); changed.append(field); return }
            guard trimmed.count <= 500, valid(trimmed) else { errors.append(.init(field: field, message: message)); return }
            apply(trimmed)
            changed.append(field)
        }
        set("twilioAccountSid", patch.twilioAccountSid, valid: { ProviderFormats.isSid($0, prefix: "AC") },
            message: "must be a Twilio account SID: AC and 32 hex digits") { settings.twilioAccountSid = $0 }
        set("twilioMessagingServiceSid", patch.twilioMessagingServiceSid, valid: { ProviderFormats.isSid($0, prefix: "MG") },
            message: "must be a messaging service SID: MG and 32 hex digits") { settings.twilioMessagingServiceSid = $0 }
        set("twilioFromNumber", patch.twilioFromNumber, valid: { (try? PhoneNumber.parse($0).get()) != nil },
            message: "must be a phone number in E.164 form such as +447400123456") {
            settings.twilioFromNumber = $0.flatMap { try? PhoneNumber.parse($0).get().e164 }
        }
        set("emailFrom", patch.emailFrom, valid: { (try? EmailAddress.parse($0).get()) != nil },
            message: "must be an email address") { settings.emailFrom = $0 }
        set("helpText", patch.helpText, valid: { $0.count <= 320 }, message: "must be at most 320 characters") { settings.helpText = $0 }
        set("twilioAuthToken", patch.twilioAuthToken, valid: { $0.count >= 16 && $0.allSatisfy { $0.isLetter || $0.isNumber } },
            message: "must be the account's auth token (letters and digits)") { token in
            settings.twilioAuthTokenSealed = token.flatMap { try? services.box.seal($0) }
            settings.twilioAuthTokenLast4 = token.map { String($0.suffix(4)) }
        }
        set("smtpUrl", patch.smtpUrl, valid: { ProviderFormats.smtpPassword($0).valid },
            message: "must look like smtps://user:password@smtp.example.com:465 (or smtp:// for STARTTLS)") { url in
            settings.smtpURLSealed = url.flatMap { try? services.box.seal($0) }
            settings.smtpPasswordLast4 = url.flatMap { ProviderFormats.smtpPassword($0).password.map { String($0.suffix(4)) } }
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let now = services.now()
        try await services.database.transaction { [settings, changed] db in
            try await store.save(settings, tenantId: tenantId, now: now, on: db)
            try await services.audit.append(AuditEntry(
                tenantId: tenantId, actor: context.auditActor(request), action: "messaging_settings.updated",
                targetType: "tenant", targetId: tenantId, details: ["fields": changed.sorted().joined(separator: " ")]
            ), on: db, now: now)
        }
        return view(settings)
    }

    func view(_ settings: MessagingSettings) -> SettingsView {
        let config = services.config
        return SettingsView(
            twilioAccountSid: settings.twilioAccountSid,
            twilioAuthToken: SecretView(configured: settings.twilioAuthTokenSealed != nil, last4: settings.twilioAuthTokenLast4),
            twilioFromNumber: settings.twilioFromNumber,
            twilioMessagingServiceSid: settings.twilioMessagingServiceSid,
            smtpUrl: SecretView(configured: settings.smtpURLSealed != nil, last4: settings.smtpPasswordLast4),
            emailFrom: settings.emailFrom,
            helpText: settings.helpText,
            smsMode: settings.twilioConfigured ? "tenant" : config.twilioConfigured ? "platform" : "simulated",
            emailMode: settings.smtpConfigured ? "tenant" : config.smtpConfigured ? "platform" : "simulated"
        )
    }
}
