import BooklineCore
import Foundation
import SQLKit

/// A tenant's own provider settings. Secrets are only ever held sealed (and opened when a
/// message is sent); responses show whether they are set and their last four characters.
public struct MessagingSettings: Sendable, Equatable {
    public var twilioAccountSid: String?
    public var twilioAuthTokenSealed: String?
    public var twilioAuthTokenLast4: String?
    public var twilioFromNumber: String?
    public var twilioMessagingServiceSid: String?
    public var smtpURLSealed: String?
    public var smtpPasswordLast4: String?
    public var emailFrom: String?
    public var helpText: String?

    public init() {}

    public var twilioConfigured: Bool {
        twilioAccountSid != nil && twilioAuthTokenSealed != nil && (twilioFromNumber != nil || twilioMessagingServiceSid != nil)
    }

    public var smtpConfigured: Bool { smtpURLSealed != nil && emailFrom != nil }
}

/// SQL for `messaging_settings`, one row per tenant.
public struct MessagingSettingsStore: Sendable {
    public func find(tenantId: String, on db: any SQLDatabase) async throws -> MessagingSettings {
        guard let row = try await db.raw("SELECT * FROM messaging_settings WHERE tenant_id = \(bind: tenantId)").first() else {
            return MessagingSettings()
        }
        var settings = MessagingSettings()
        settings.twilioAccountSid = try row.decode(column: "twilio_account_sid", as: String?.self)
        settings.twilioAuthTokenSealed = try row.decode(column: "twilio_auth_token_sealed", as: String?.self)
        settings.twilioAuthTokenLast4 = try row.decode(column: "twilio_auth_token_last4", as: String?.self)
        settings.twilioFromNumber = try row.decode(column: "twilio_from_number", as: String?.self)
        settings.twilioMessagingServiceSid = try row.decode(column: "twilio_messaging_service_sid", as: String?.self)
        settings.smtpURLSealed = try row.decode(column: "smtp_url_sealed", as: String?.self)
        settings.smtpPasswordLast4 = try row.decode(column: "smtp_password_last4", as: String?.self)
        settings.emailFrom = try row.decode(column: "email_from", as: String?.self)
        settings.helpText = try row.decode(column: "help_text", as: String?.self)
        return settings
    }

    public func save(_ settings: MessagingSettings, tenantId: String, now: Date, on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM messaging_settings WHERE tenant_id = \(bind: tenantId)").run()
        try await db.raw("""
            INSERT INTO messaging_settings (tenant_id, twilio_account_sid, twilio_auth_token_sealed, twilio_auth_token_last4,
                twilio_from_number, twilio_messaging_service_sid, smtp_url_sealed, smtp_password_last4, email_from,
                help_text, updated_at)
            VALUES (\(bind: tenantId), \(bind: settings.twilioAccountSid), \(bind: settings.twilioAuthTokenSealed),
                \(bind: settings.twilioAuthTokenLast4), \(bind: settings.twilioFromNumber),
                \(bind: settings.twilioMessagingServiceSid), \(bind: settings.smtpURLSealed), \(bind: settings.smtpPasswordLast4),
                \(bind: settings.emailFrom), \(bind: settings.helpText), \(bind: now))
            """).run()
    }
}

/// Shapes of provider identifiers, checked before anything is stored.
enum ProviderFormats {
    /// `AC` (accounts) or `MG` (messaging services) and 32 hex digits.
    static func isSid(_ text: String, prefix: String) -> Bool {
        text.count == 34 && text.hasPrefix(prefix) && text.dropFirst(2).allSatisfy(\.isHexDigit)
    }

    /// `smtp://` (STARTTLS) or `smtps://` with a host; the password, if any, is the secret.
    static func smtpPassword(_ url: String) -> (valid: Bool, password: String?) {
        guard let parts = URLComponents(string: url), ["smtp", "smtps"].contains(parts.scheme ?? ""),
              parts.host?.isEmpty == false
        else { return (false, nil) }
        return (true, parts.password)
    }
}
