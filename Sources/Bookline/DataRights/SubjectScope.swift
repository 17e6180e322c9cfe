import Foundation
import SQLKit

/// A data subject as a request names them: a phone and/or an email, within one tenant.
struct DataSubject: Sendable, Codable, Equatable {
    var phone: String?
    var email: String?
}

/// Every id and address that leads to one person inside a tenant, resolved from the leads that
/// carry their phone or email, and the SQL that finds their rows in each registered table.
struct SubjectScope: Sendable {
    let engine: Database.Engine
    let tenantId: String
    /// The subject's numbers: the one asked about and those of every lead matched.
    let phones: [String]
    /// Lower-cased emails, likewise.
    let emails: [String]
    let leadIds: [String]
    let appointmentIds: [String]
    let callIds: [String]
    let messageIds: [String]
    /// Keyed hashes of `phones`, as the suppression list stores them.
    let phoneHashes: [String]

    /// Resolves the subject's leads, then everything hanging off them.
    static func resolve(_ subject: DataSubject, tenantId: String, engine: Database.Engine, hasher: PhoneHasher,
                        on db: any SQLDatabase) async throws -> SubjectScope {
        var phones = Set([subject.phone].compactMap { $0 })
        var emails = Set([subject.email?.lowercased()].compactMap { $0 })
        var matches: [SQLQueryString] = []
        if let phone = subject.phone { matches.append("phone_e164 = \(bind: phone)") }
        if let email = subject.email?.lowercased() { matches.append("lower(email) = \(bind: email)") }
        var leadIds: [String] = []
        if !matches.isEmpty {
            let rows = try await db.raw("SELECT id, phone_e164, email FROM leads WHERE tenant_id = \(bind: tenantId) AND (" + SQLQueryString.or(matches) + ")").all()
            for row in rows {
                leadIds.append(try row.decode(column: "id", as: String.self))
                phones.insert(try row.decode(column: "phone_e164", as: String.self))
                if let email = try row.decode(column: "email", as: String?.self) { emails.insert(email.lowercased()) }
            }
        }
        let hashes = try phones.sorted().map(hasher.hash)
        let first = SubjectScope(engine: engine, tenantId: tenantId, phones: phones.sorted(), emails: emails.sorted(),
                                 leadIds: leadIds, appointmentIds: [], callIds: [], messageIds: [], phoneHashes: hashes)
        return SubjectScope(engine: engine, tenantId: tenantId, phones: first.phones, emails: first.emails, leadIds: leadIds,
                            appointmentIds: try await first.ids(in: "appointments", on: db),
                            callIds: try await first.ids(in: "calls", on: db),
                            messageIds: try await first.ids(in: "messages", on: db), phoneHashes: hashes)
    }

    private func ids(in table: String, on db: any SQLDatabase) async throws -> [String] {
        guard let filter = filter(for: table) else { return [] }
        return try await db.raw("SELECT id FROM \(ident: table) WHERE tenant_id = \(bind: tenantId) AND (" + filter + ")").all()
            .map { try $0.decode(column: "id", as: String.self) }
    }

    var isEmpty: Bool { phones.isEmpty && emails.isEmpty }
    var addresses: [String] { phones + emails }
    /// Ids whose mention in an event or job payload ties it to the subject.
    var relatedIds: [String] { leadIds + appointmentIds + callIds + messageIds }

    /// The rows of `table` (already limited to the tenant) that are about the subject, or nil
    /// when the table holds nothing about customers.
    func filter(for table: String) -> SQLQueryString? {
        switch table {
        case "leads": return any([inList("id", leadIds)])
        case "messages":
            return any([inList("lead_id", leadIds), inList("lower(to_address)", addresses, raw: true),
                        inList("lower(from_address)", addresses, raw: true)])
        case "calls": return any([inList("lead_id", leadIds), inList("phone_e164", phones)])
        case "appointments": return any([inList("lead_id", leadIds)])
        case "appointment_slots": return any([inList("appointment_id", appointmentIds)])
        case "events": return any([inList("subject_id", relatedIds)] + mentions("payload", addresses))
        case "jobs": return any(mentions("payload", relatedIds) + mentions("last_error", addresses))
        case "lead_imports": return any(mentions("summary", phones + leadIds))
        case "error_logs": return any(mentions("message", addresses) + mentions("context", addresses))
        case "audit_log": return any(mentions("personal", addresses) + [inList("target_id", relatedIds)])
        case "opt_outs": return any([inList("phone_hash", phoneHashes)])
        default: return nil
        }
    }

    /// Rows whose `column` contains `value` as plain text (no LIKE wildcards to escape).
    func mentions(_ column: String, _ values: [String]) -> [SQLQueryString] {
        let function = engine == .postgres ? "strpos" : "instr"
        return values.map { "\(unsafeRaw: function)(\(ident: column), \(bind: $0)) > 0" }
    }

    private func inList(_ column: String, _ values: [String], raw: Bool = false) -> SQLQueryString? {
        guard !values.isEmpty else { return nil }
        return raw ? "\(unsafeRaw: column) IN (\(binds: values))" : "\(ident: column) IN (\(binds: values))"
    }

    private func any(_ parts: [SQLQueryString?]) -> SQLQueryString? {
        let present = parts.compactMap { $0 }
        return present.isEmpty ? nil : SQLQueryString.or(present)
    }
}

extension SQLQueryString {
    /// `(a) OR (b) OR ...`
    static func or(_ parts: [SQLQueryString]) -> SQLQueryString {
        parts.dropFirst().reduce("(" + parts[0] + ")") { $0 + " OR (" + $1 + ")" }
    }
}
