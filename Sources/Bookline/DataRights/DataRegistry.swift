import Foundation

/// The data inventory: every table, every column, and what exports and erasure do with it.
/// `DataRegistryTests` compares it with the migrated schema on both engines, so a migration
/// that adds a table or column nobody classified fails the build's tests.
public enum DataRegistry {
    /// How a column is stored, so exports can turn any row into JSON.
    public enum ColumnType: Sendable { case text, integer, real, time, json }

    /// What a column holds.
    public enum Handling: Sendable, Equatable {
        /// Business data (ids, statuses, settings): exported as is.
        case data
        /// About a person (a lead's phone, a message body): exported; erased per the table's rule.
        case personal
        /// Hashes and sealed secrets: never exported.
        case secret
        /// Recomputed from other columns (search text): not exported, erased with its row.
        case derived
    }

    public struct Column: Sendable {
        public let name: String
        public let type: ColumnType
        public let handling: Handling
    }

    /// What an erasure does to a table's rows about the data subject.
    public enum Erasure: Sendable, Equatable {
        /// No personal data about customers.
        case none
        /// The rows are deleted.
        case delete
        /// The rows stay (counts and money feed analytics) with these columns cleared.
        case anonymise([String])
        /// Personal values inside free text or JSON are replaced (imports, error logs).
        case scrub([String])
        /// Special-cased by `Erasure`: the opt-out keeps only the phone's keyed hash; audit
        /// rows keep their hashed part and lose the unhashed personal values.
        case suppressionHash, auditPersonal
    }

    public struct Table: Sendable {
        public let name: String
        /// The column naming the owning tenant; nil for platform tables with no tenant data.
        public let tenantColumn: String?
        /// Keyset for streaming exports: unique within a tenant. Empty = small table, one query.
        public let exportKey: [String]
        /// False for rows that are never exported (sealed idempotent responses, rate-limit hits).
        public let exported: Bool
        public let erasure: Erasure
        public let columns: [Column]

        public var exportedColumns: [Column] { columns.filter { $0.handling == .data || $0.handling == .personal } }
        public func column(_ name: String) -> Column? { columns.first { $0.name == name } }
    }

    public static var tenantTables: [Table] { tables.filter { $0.tenantColumn != nil } }
    public static var exportedTables: [Table] { tenantTables.filter(\.exported) }
    public static func table(_ name: String) -> Table? { tables.first { $0.name == name } }

    /// Every table, in an order that keeps foreign keys happy when deleting from the end
    /// backwards (children last here, so purges walk it in reverse).
    public static let tables: [Table] = [
        Table(name: "tenants", tenantColumn: "id", exportKey: [], exported: true, erasure: .none, columns: [
            .init(name: "id", type: .text, handling: .data), .init(name: "slug", type: .text, handling: .data),
            .init(name: "business_name", type: .text, handling: .data), .init(name: "industry", type: .text, handling: .data),
            .init(name: "tier", type: .text, handling: .data), .init(name: "status", type: .text, handling: .data),
            .init(name: "timezone", type: .text, handling: .data), .init(name: "settings", type: .json, handling: .data),
            .init(name: "created_at", type: .time, handling: .data), .init(name: "updated_at", type: .time, handling: .data),
            .init(name: "deleted_at", type: .time, handling: .data), .init(name: "rate_limit_per_minute", type: .integer, handling: .data),
            .init(name: "mfa_required", type: .integer, handling: .data),
        ]),
        Table(name: "users", tenantColumn: "tenant_id", exportKey: ["id"], exported: true, erasure: .none, columns: [
            .init(name: "id", type: .text, handling: .data), .init(name: "tenant_id", type: .text, handling: .data),
            // Staff accounts, not customers: removed by deleting the user or the tenant.
            .init(name: "email", type: .text, handling: .personal), .init(name: "email_key", type: .text, handling: .derived),
            .init(name: "password_hash", type: .text, handling: .secret), .init(name: "role", type: .text, handling: .data),
            .init(name: "failed_logins", type: .integer, handling: .data), .init(name: "locked_until", type: .time, handling: .data),
            .init(name: "last_login_at", type: .time, handling: .data), .init(name: "created_at", type: .time, handling: .data),
            .init(name: "updated_at", type: .time, handling: .data), .init(name: "email_verified_at", type: .time, handling: .data),
            .init(name: "totp_secret_sealed", type: .text, handling: .secret), .init(name: "totp_enabled_at", type: .time, handling: .data),
            .init(name: "totp_last_step", type: .integer, handling: .data), .init(name: "mfa_recovery_hashes", type: .text, handling: .secret),
            .init(name: "password_changed_at", type: .time, handling: .data),
            .init(name: "last_tenant_id", type: .text, handling: .data),
        ]),
        // Invitations into the tenant: the address invited is the invitee's personal data.
        Table(name: "invitations", tenantColumn: "tenant_id", exportKey: ["id"], exported: true, erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "id", type: .text, handling: .data),
            .init(name: "email", type: .text, handling: .personal), .init(name: "email_key", type: .text, handling: .derived),
            .init(name: "role", type: .text, handling: .data), .init(name: "token_hash", type: .text, handling: .secret),
            .init(name: "invited_by", type: .text, handling: .data), .init(name: "created_at", type: .time, handling: .data),
            .init(name: "sent_at", type: .time, handling: .data), .init(name: "expires_at", type: .time, handling: .data),
            .init(name: "accepted_at", type: .time, handling: .data), .init(name: "accepted_by", type: .text, handling: .data),
            .init(name: "revoked_at", type: .time, handling: .data),
        ]),
        Table(name: "memberships", tenantColumn: "tenant_id", exportKey: ["user_id"], exported: true, erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "user_id", type: .text, handling: .data),
            .init(name: "role", type: .text, handling: .data), .init(name: "created_at", type: .time, handling: .data),
            .init(name: "updated_at", type: .time, handling: .data),
        ]),
        Table(name: "api_keys", tenantColumn: "tenant_id", exportKey: ["id"], exported: true, erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "id", type: .text, handling: .data),
            .init(name: "name", type: .text, handling: .data), .init(name: "key_hash", type: .text, handling: .secret),
            .init(name: "display_prefix", type: .text, handling: .data), .init(name: "last_four", type: .text, handling: .data),
            .init(name: "environment", type: .text, handling: .data), .init(name: "scopes", type: .text, handling: .data),
            .init(name: "expires_at", type: .time, handling: .data), .init(name: "revoked_at", type: .time, handling: .data),
            .init(name: "last_used_at", type: .time, handling: .data), .init(name: "created_by", type: .text, handling: .data),
            .init(name: "created_at", type: .time, handling: .data),
        ]),
        Table(name: "refresh_tokens", tenantColumn: "tenant_id", exportKey: ["id"], exported: true, erasure: .none, columns: [
            .init(name: "id", type: .text, handling: .data), .init(name: "token_hash", type: .text, handling: .secret),
            .init(name: "family_id", type: .text, handling: .data), .init(name: "user_id", type: .text, handling: .data),
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "expires_at", type: .time, handling: .data),
            .init(name: "used_at", type: .time, handling: .data), .init(name: "revoked_at", type: .time, handling: .data),
            .init(name: "created_at", type: .time, handling: .data),
        ]),
        // Sign-ins of the tenant's staff (device and address they signed in from).
        Table(name: "user_sessions", tenantColumn: "tenant_id", exportKey: ["id"], exported: true, erasure: .none, columns: [
            .init(name: "id", type: .text, handling: .data), .init(name: "user_id", type: .text, handling: .data),
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "user_agent", type: .text, handling: .personal),
            .init(name: "ip", type: .text, handling: .personal), .init(name: "created_at", type: .time, handling: .data),
            .init(name: "last_seen_at", type: .time, handling: .data), .init(name: "expires_at", type: .time, handling: .data),
            .init(name: "revoked_at", type: .time, handling: .data),
        ]),
        // Single-use reset, verification and sign-in-step tokens: hashes only, never exported.
        Table(name: "account_tokens", tenantColumn: "tenant_id", exportKey: [], exported: false, erasure: .none, columns: [
            .init(name: "id", type: .text, handling: .data), .init(name: "token_hash", type: .text, handling: .secret),
            .init(name: "purpose", type: .text, handling: .data), .init(name: "user_id", type: .text, handling: .data),
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "expires_at", type: .time, handling: .data),
            .init(name: "used_at", type: .time, handling: .data), .init(name: "created_at", type: .time, handling: .data),
        ]),
        // Sealed replayable responses that expire within a day: neither exported nor readable.
        Table(name: "idempotency_keys", tenantColumn: "scope", exportKey: [], exported: false, erasure: .none, columns: [
            .init(name: "scope", type: .text, handling: .data), .init(name: "idempotency_key", type: .text, handling: .data),
            .init(name: "request_hash", type: .text, handling: .secret), .init(name: "status", type: .integer, handling: .data),
            .init(name: "body_sealed", type: .text, handling: .secret), .init(name: "created_at", type: .time, handling: .data),
            .init(name: "expires_at", type: .time, handling: .data),
        ]),
        Table(name: "leads", tenantColumn: "tenant_id", exportKey: ["id"], exported: true, erasure: .delete, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "id", type: .text, handling: .data),
            .init(name: "name", type: .text, handling: .personal), .init(name: "phone_e164", type: .text, handling: .personal),
            .init(name: "phone_type", type: .text, handling: .data), .init(name: "email", type: .text, handling: .personal),
            .init(name: "source", type: .text, handling: .data), .init(name: "status", type: .text, handling: .data),
            .init(name: "tags", type: .json, handling: .personal), .init(name: "notes", type: .text, handling: .personal),
            .init(name: "custom_fields", type: .json, handling: .personal), .init(name: "search_text", type: .text, handling: .derived),
            .init(name: "last_contacted_at", type: .time, handling: .data), .init(name: "created_at", type: .time, handling: .data),
            .init(name: "updated_at", type: .time, handling: .data),
        ]),
        Table(name: "lead_settings", tenantColumn: "tenant_id", exportKey: [], exported: true, erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "duplicate_lookback_days", type: .integer, handling: .data),
            .init(name: "duplicate_skip_days", type: .integer, handling: .data), .init(name: "updated_at", type: .time, handling: .data),
        ]),
        Table(name: "lead_imports", tenantColumn: "tenant_id", exportKey: ["id"], exported: true, erasure: .scrub(["summary"]), columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "id", type: .text, handling: .data),
            .init(name: "status", type: .text, handling: .data), .init(name: "format", type: .text, handling: .data),
            .init(name: "background", type: .integer, handling: .data), .init(name: "total_rows", type: .integer, handling: .data),
            .init(name: "processed_rows", type: .integer, handling: .data), .init(name: "summary", type: .json, handling: .personal),
            .init(name: "error", type: .text, handling: .data), .init(name: "created_by", type: .text, handling: .data),
            .init(name: "created_at", type: .time, handling: .data), .init(name: "updated_at", type: .time, handling: .data),
            .init(name: "finished_at", type: .time, handling: .data),
        ]),
        // Opt-outs outlive erasure: the keyed phone hash keeps the person suppressed.
        Table(name: "opt_outs", tenantColumn: "tenant_id", exportKey: ["id"], exported: true, erasure: .suppressionHash, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "phone_hash", type: .text, handling: .data),
            .init(name: "id", type: .text, handling: .data), .init(name: "phone_e164", type: .text, handling: .personal),
            .init(name: "reason", type: .text, handling: .data), .init(name: "source", type: .text, handling: .data),
            .init(name: "note", type: .text, handling: .personal), .init(name: "created_by", type: .text, handling: .data),
            .init(name: "updated_by", type: .text, handling: .data), .init(name: "created_at", type: .time, handling: .data),
            .init(name: "updated_at", type: .time, handling: .data), .init(name: "deactivated_at", type: .time, handling: .data),
            .init(name: "deactivation_reason", type: .text, handling: .data),
        ]),
        Table(name: "events", tenantColumn: "tenant_id", exportKey: ["seq"], exported: true, erasure: .delete, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "seq", type: .integer, handling: .data),
            .init(name: "type", type: .text, handling: .data), .init(name: "subject_type", type: .text, handling: .data),
            .init(name: "subject_id", type: .text, handling: .data), .init(name: "payload", type: .json, handling: .personal),
            .init(name: "created_at", type: .time, handling: .data),
        ]),
        Table(name: "messages", tenantColumn: "tenant_id", exportKey: ["id"], exported: true, erasure: .delete, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "id", type: .text, handling: .data),
            .init(name: "lead_id", type: .text, handling: .data), .init(name: "channel", type: .text, handling: .data),
            .init(name: "direction", type: .text, handling: .data), .init(name: "to_address", type: .text, handling: .personal),
            .init(name: "from_address", type: .text, handling: .personal), .init(name: "template", type: .text, handling: .data),
            .init(name: "subject", type: .text, handling: .personal), .init(name: "body", type: .text, handling: .personal),
            .init(name: "body_html", type: .text, handling: .personal), .init(name: "status", type: .text, handling: .data),
            .init(name: "reason", type: .text, handling: .data), .init(name: "segments", type: .integer, handling: .data),
            .init(name: "encoding", type: .text, handling: .data), .init(name: "provider", type: .text, handling: .data),
            .init(name: "provider_id", type: .text, handling: .data), .init(name: "error_code", type: .text, handling: .data),
            .init(name: "attempts", type: .integer, handling: .data), .init(name: "send_at", type: .time, handling: .data),
            .init(name: "locked_until", type: .time, handling: .data), .init(name: "handed_at", type: .time, handling: .data), .init(name: "sent_at", type: .time, handling: .data),
            .init(name: "delivered_at", type: .time, handling: .data), .init(name: "created_at", type: .time, handling: .data),
            .init(name: "updated_at", type: .time, handling: .data), .init(name: "dedupe_key", type: .text, handling: .data),
        ]),
        Table(name: "messaging_settings", tenantColumn: "tenant_id", exportKey: [], exported: true, erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "twilio_account_sid", type: .text, handling: .data),
            .init(name: "twilio_auth_token_sealed", type: .text, handling: .secret),
            .init(name: "twilio_auth_token_last4", type: .text, handling: .data),
            .init(name: "twilio_from_number", type: .text, handling: .data),
            .init(name: "twilio_messaging_service_sid", type: .text, handling: .data),
            .init(name: "smtp_url_sealed", type: .text, handling: .secret), .init(name: "smtp_password_last4", type: .text, handling: .data),
            .init(name: "email_from", type: .text, handling: .data), .init(name: "help_text", type: .text, handling: .data),
            .init(name: "updated_at", type: .time, handling: .data),
        ]),
        Table(name: "message_templates", tenantColumn: "tenant_id", exportKey: [], exported: true, erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "name", type: .text, handling: .data),
            .init(name: "sms", type: .text, handling: .data), .init(name: "email_subject", type: .text, handling: .data),
            .init(name: "email_text", type: .text, handling: .data), .init(name: "email_html", type: .text, handling: .data),
            .init(name: "updated_at", type: .time, handling: .data),
        ]),
        Table(name: "calls", tenantColumn: "tenant_id", exportKey: ["id"], exported: true,
              erasure: .anonymise(["lead_id", "phone_e164", "summary", "recording_url", "structured_data"]), columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "id", type: .text, handling: .data),
            .init(name: "provider", type: .text, handling: .data), .init(name: "provider_call_id", type: .text, handling: .data),
            .init(name: "lead_id", type: .text, handling: .data), .init(name: "phone_e164", type: .text, handling: .personal),
            .init(name: "direction", type: .text, handling: .data), .init(name: "state", type: .text, handling: .data),
            .init(name: "started_at", type: .time, handling: .data), .init(name: "ended_at", type: .time, handling: .data),
            .init(name: "duration_seconds", type: .integer, handling: .data), .init(name: "cost_minor", type: .integer, handling: .data),
            .init(name: "currency", type: .text, handling: .data), .init(name: "ended_reason", type: .text, handling: .data),
            .init(name: "ended_reason_known", type: .integer, handling: .data), .init(name: "outcome", type: .text, handling: .data),
            .init(name: "summary", type: .text, handling: .personal), .init(name: "recording_url", type: .text, handling: .personal),
            .init(name: "structured_data", type: .json, handling: .personal), .init(name: "created_at", type: .time, handling: .data),
            .init(name: "updated_at", type: .time, handling: .data),
        ]),
        Table(name: "call_webhook_receipts", tenantColumn: "tenant_id", exportKey: ["provider_call_id", "event_type"], exported: true,
              erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "provider_call_id", type: .text, handling: .data),
            .init(name: "event_type", type: .text, handling: .data), .init(name: "received_at", type: .time, handling: .data),
        ]),
        Table(name: "call_settings", tenantColumn: "tenant_id", exportKey: [], exported: true, erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "webhook_secret_sealed", type: .text, handling: .secret),
            .init(name: "webhook_secret_last4", type: .text, handling: .data), .init(name: "currency", type: .text, handling: .data),
            .init(name: "average_deal_value_minor", type: .integer, handling: .data), .init(name: "updated_at", type: .time, handling: .data),
        ]),
        Table(name: "error_logs", tenantColumn: "tenant_id", exportKey: ["id"], exported: true, erasure: .scrub(["message", "context"]), columns: [
            .init(name: "id", type: .text, handling: .data), .init(name: "tenant_id", type: .text, handling: .data),
            .init(name: "service", type: .text, handling: .data), .init(name: "error_type", type: .text, handling: .data),
            .init(name: "message", type: .text, handling: .personal), .init(name: "severity", type: .text, handling: .data),
            .init(name: "context", type: .json, handling: .personal), .init(name: "request_id", type: .text, handling: .data),
            .init(name: "created_at", type: .time, handling: .data),
        ]),
        Table(name: "jobs", tenantColumn: "tenant_id", exportKey: ["id"], exported: true, erasure: .delete, columns: [
            .init(name: "id", type: .text, handling: .data), .init(name: "tenant_id", type: .text, handling: .data),
            .init(name: "kind", type: .text, handling: .data), .init(name: "payload", type: .json, handling: .data),
            .init(name: "status", type: .text, handling: .data), .init(name: "run_at", type: .time, handling: .data),
            .init(name: "attempts", type: .integer, handling: .data), .init(name: "max_attempts", type: .integer, handling: .data),
            .init(name: "last_error", type: .text, handling: .personal), .init(name: "locked_by", type: .text, handling: .data),
            .init(name: "locked_until", type: .time, handling: .data), .init(name: "idempotency_key", type: .text, handling: .data),
            .init(name: "created_at", type: .time, handling: .data), .init(name: "updated_at", type: .time, handling: .data),
            .init(name: "started_at", type: .time, handling: .data), .init(name: "finished_at", type: .time, handling: .data),
        ]),
        Table(name: "services", tenantColumn: "tenant_id", exportKey: [], exported: true, erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "id", type: .text, handling: .data),
            .init(name: "name", type: .text, handling: .data), .init(name: "duration_minutes", type: .integer, handling: .data),
            .init(name: "price_minor", type: .integer, handling: .data), .init(name: "active", type: .integer, handling: .data),
            .init(name: "created_at", type: .time, handling: .data), .init(name: "updated_at", type: .time, handling: .data),
        ]),
        Table(name: "opening_hours", tenantColumn: "tenant_id", exportKey: [], exported: true, erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "weekday", type: .integer, handling: .data),
            .init(name: "opens_minute", type: .integer, handling: .data), .init(name: "closes_minute", type: .integer, handling: .data),
        ]),
        Table(name: "closed_dates", tenantColumn: "tenant_id", exportKey: [], exported: true, erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "date", type: .text, handling: .data),
            .init(name: "reason", type: .text, handling: .data),
        ]),
        Table(name: "booking_settings", tenantColumn: "tenant_id", exportKey: [], exported: true, erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "slot_step_minutes", type: .integer, handling: .data),
            .init(name: "updated_at", type: .time, handling: .data),
        ]),
        Table(name: "appointments", tenantColumn: "tenant_id", exportKey: ["id"], exported: true, erasure: .delete, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "id", type: .text, handling: .data),
            .init(name: "lead_id", type: .text, handling: .data), .init(name: "service_id", type: .text, handling: .data),
            .init(name: "starts_at", type: .time, handling: .data), .init(name: "ends_at", type: .time, handling: .data),
            .init(name: "status", type: .text, handling: .data), .init(name: "notes", type: .text, handling: .personal),
            .init(name: "cancel_reason", type: .text, handling: .personal), .init(name: "source", type: .text, handling: .data),
            .init(name: "created_at", type: .time, handling: .data), .init(name: "updated_at", type: .time, handling: .data),
            .init(name: "calendar_event_id", type: .text, handling: .data),
        ]),
        Table(name: "appointment_slots", tenantColumn: "tenant_id", exportKey: ["slot_start"], exported: true, erasure: .delete, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "slot_start", type: .time, handling: .data),
            .init(name: "appointment_id", type: .text, handling: .data),
        ]),
        Table(name: "calendar_settings", tenantColumn: "tenant_id", exportKey: [], exported: true, erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "provider", type: .text, handling: .data),
            .init(name: "calendar_id", type: .text, handling: .data), .init(name: "client_email", type: .text, handling: .data),
            .init(name: "credentials_sealed", type: .text, handling: .secret), .init(name: "updated_at", type: .time, handling: .data),
        ]),
        Table(name: "followup_overrides", tenantColumn: "tenant_id", exportKey: [], exported: true, erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "outcome", type: .text, handling: .data),
            .init(name: "steps", type: .json, handling: .data), .init(name: "updated_at", type: .time, handling: .data),
        ]),
        Table(name: "retention_settings", tenantColumn: "tenant_id", exportKey: [], exported: true, erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "uncontacted_lead_days", type: .integer, handling: .data),
            .init(name: "message_days", type: .integer, handling: .data), .init(name: "updated_at", type: .time, handling: .data),
        ]),
        Table(name: "erasure_receipts", tenantColumn: "tenant_id", exportKey: ["id"], exported: true, erasure: .none, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "id", type: .text, handling: .data),
            .init(name: "request_hash", type: .text, handling: .data), .init(name: "reason", type: .text, handling: .data),
            .init(name: "counts", type: .json, handling: .data), .init(name: "requested_by", type: .text, handling: .data),
            .init(name: "created_at", type: .time, handling: .data),
        ]),
        // Exported and erased through their own routes: the rows are sealed personal data.
        Table(name: "subject_exports", tenantColumn: "tenant_id", exportKey: ["id"], exported: false, erasure: .delete, columns: [
            .init(name: "tenant_id", type: .text, handling: .data), .init(name: "id", type: .text, handling: .data),
            .init(name: "status", type: .text, handling: .data), .init(name: "subject_sealed", type: .text, handling: .secret),
            .init(name: "document_sealed", type: .text, handling: .secret), .init(name: "error", type: .text, handling: .data),
            .init(name: "requested_by", type: .text, handling: .data), .init(name: "created_at", type: .time, handling: .data),
            .init(name: "finished_at", type: .time, handling: .data), .init(name: "expires_at", type: .time, handling: .data),
        ]),
        // The tenant's chain; personal values sit outside the hashed columns.
        Table(name: "audit_log", tenantColumn: "tenant_id", exportKey: ["seq"], exported: true, erasure: .auditPersonal, columns: [
            .init(name: "id", type: .text, handling: .data), .init(name: "tenant_id", type: .text, handling: .data),
            .init(name: "chain", type: .text, handling: .data), .init(name: "seq", type: .integer, handling: .data),
            .init(name: "actor_type", type: .text, handling: .data), .init(name: "actor_id", type: .text, handling: .data),
            .init(name: "action", type: .text, handling: .data), .init(name: "target_type", type: .text, handling: .data),
            .init(name: "target_id", type: .text, handling: .data), .init(name: "details", type: .json, handling: .data),
            .init(name: "ip", type: .text, handling: .data), .init(name: "user_agent", type: .text, handling: .data),
            .init(name: "request_id", type: .text, handling: .data), .init(name: "created_at", type: .time, handling: .data),
            .init(name: "prev_hash", type: .text, handling: .data), .init(name: "hash", type: .text, handling: .data),
            .init(name: "personal", type: .json, handling: .personal),
        ]),
        // Platform tables: no tenant's data.
        Table(name: "signing_keys", tenantColumn: nil, exportKey: [], exported: false, erasure: .none, columns: [
            .init(name: "kid", type: .text, handling: .data), .init(name: "algorithm", type: .text, handling: .data),
            .init(name: "public_key", type: .text, handling: .data), .init(name: "private_key_sealed", type: .text, handling: .secret),
            .init(name: "created_at", type: .time, handling: .data), .init(name: "retired_at", type: .time, handling: .data),
        ]),
        Table(name: "platform_secrets", tenantColumn: nil, exportKey: [], exported: false, erasure: .none, columns: [
            .init(name: "name", type: .text, handling: .data), .init(name: "value_sealed", type: .text, handling: .secret),
            .init(name: "created_at", type: .time, handling: .data),
        ]),
        Table(name: "rate_limit_hits", tenantColumn: nil, exportKey: [], exported: false, erasure: .none, columns: [
            .init(name: "bucket", type: .text, handling: .data), .init(name: "at", type: .real, handling: .data),
        ]),
        Table(name: "schema_migrations", tenantColumn: nil, exportKey: [], exported: false, erasure: .none, columns: [
            .init(name: "name", type: .text, handling: .data), .init(name: "version", type: .text, handling: .data),
            .init(name: "checksum", type: .text, handling: .data), .init(name: "applied_at", type: .time, handling: .data),
        ]),
    ]
}
