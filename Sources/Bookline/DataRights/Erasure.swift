import BooklineCore
import Crypto
import Foundation
import SQLKit

/// GDPR Art. 17: removes or anonymises every row about one person in one tenant, per the
/// registry, in one transaction. Their numbers stay suppressed by keyed hash only, audit rows
/// keep their hashed part (so the chain verifies) and lose their personal values.
struct Erasure: Sendable {
    struct Receipt: Codable, Sendable, Equatable {
        let id: String
        let tenantId: String
        let createdAt: Date
        let reason: String
        /// Rows deleted or anonymised per table.
        let counts: [String: Int]
        /// Keyed SHA-256 of the normalised request; the same person asked again gives the same hash.
        let requestHash: String
        /// True when this person had already been erased: the first receipt is returned.
        var repeated = false
    }

    let services: AppServices

    private var hasher: PhoneHasher { services.optOuts.hasher }

    /// The request's keyed hash: no phone or email is stored, yet a repeat is recognised.
    func requestHash(tenantId: String, subject: DataSubject) throws -> String {
        let key = try services.box.derivedKey(for: "bookline.erasure-request.v1")
        let text = [tenantId, subject.phone ?? "", subject.email?.lowercased() ?? ""].joined(separator: "\n")
        return Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: key))
    }

    func erase(_ subject: DataSubject, tenantId: String, reason: String, actor: AuditActor) async throws -> Receipt {
        let now = services.now()
        let hash = try requestHash(tenantId: tenantId, subject: subject)
        let engine = services.database.engine
        let (receipt, phones) = try await services.database.transaction { db -> (Receipt, [String]) in
            let scope = try await SubjectScope.resolve(subject, tenantId: tenantId, engine: engine, hasher: hasher, on: db)
            var counts: [String: Int] = [:]
            for table in DataRegistry.tenantTables.reversed() {
                let count = try await erase(table, scope: scope, on: db, now: now)
                if count > 0 { counts[table.name] = count }
            }
            let exports = try await eraseSubjectExports(scope, on: db)
            if exports > 0 { counts["subject_exports"] = exports }

            if let existing = try await findReceipt(tenantId: tenantId, hash: hash, on: db) {
                var repeated = existing
                repeated.repeated = true
                try await audit(repeated, newCounts: counts, actor: actor, on: db, now: now)
                return (repeated, scope.phones)
            }
            let receipt = Receipt(id: Identifier.make(now: now), tenantId: tenantId, createdAt: AuditLog.truncatedToMilliseconds(now),
                                  reason: reason, counts: counts, requestHash: hash)
            try await db.raw("""
                INSERT INTO erasure_receipts (tenant_id, id, request_hash, reason, counts, requested_by, created_at)
                VALUES (\(bind: tenantId), \(bind: receipt.id), \(bind: hash), \(bind: reason),
                        \(bind: String(decoding: try JSONEncoder.bookline.encode(counts), as: UTF8.self)),
                        \(bind: actor.id), \(bind: receipt.createdAt))
                """).run()
            try await audit(receipt, newCounts: counts, actor: actor, on: db, now: now)
            return (receipt, scope.phones)
        }
        for phone in phones { await services.optOuts.invalidate(scope: tenantId, phone: phone) }
        return receipt
    }

    private func audit(_ receipt: Receipt, newCounts: [String: Int], actor: AuditActor, on db: any SQLDatabase, now: Date) async throws {
        var details = ["receipt": receipt.id, "request_hash": receipt.requestHash, "reason": receipt.reason]
        for (table, count) in newCounts { details["rows." + table] = String(count) }
        try await services.audit.append(AuditEntry(
            tenantId: receipt.tenantId, actor: actor, action: receipt.repeated ? "subject.erasure_repeated" : "subject.erased",
            targetType: "erasure_receipt", targetId: receipt.id, details: details
        ), on: db, now: now)
    }

    /// Applies one table's rule; returns the rows it touched.
    private func erase(_ table: DataRegistry.Table, scope: SubjectScope, on db: any SQLDatabase, now: Date) async throws -> Int {
        // subject_exports has no filter (its subject is sealed): eraseSubjectExports handles it.
        switch table.erasure {
        case .none:
            return 0
        case .suppressionHash:
            return try await suppress(scope, on: db, now: now)
        case .delete:
            guard let filter = scope.filter(for: table.name) else { return 0 }
            return try await db.raw("DELETE FROM \(ident: table.name) WHERE tenant_id = \(bind: scope.tenantId) AND (" + filter + ") RETURNING tenant_id").all().count
        case .anonymise(let columns):
            guard let filter = scope.filter(for: table.name) else { return 0 }
            let sets = columns.map { name in
                table.column(name)?.type == .json ? "\"\(name)\" = '{}'" : "\"\(name)\" = NULL"
            }.joined(separator: ", ")
            return try await db.raw("UPDATE \(ident: table.name) SET \(unsafeRaw: sets) WHERE tenant_id = \(bind: scope.tenantId) AND (" + filter + ") RETURNING tenant_id").all().count
        case .scrub(let columns):
            return try await scrub(table.name, columns: columns, scope: scope, on: db)
        case .auditPersonal:
            guard let filter = scope.filter(for: table.name) else { return 0 }
            return try await db.raw("UPDATE audit_log SET personal = NULL WHERE tenant_id = \(bind: scope.tenantId) AND personal IS NOT NULL AND (" + filter + ") RETURNING id").all().count
        }
    }

    /// The subject's numbers stay on the tenant's suppression list as keyed hashes only.
    private func suppress(_ scope: SubjectScope, on db: any SQLDatabase, now: Date) async throws -> Int {
        var touched = 0
        for hash in scope.phoneHashes {
            let updated = try await db.raw("""
                UPDATE opt_outs SET phone_e164 = NULL, note = NULL, deactivated_at = NULL, deactivation_reason = NULL,
                       updated_at = \(bind: now)
                WHERE tenant_id = \(bind: scope.tenantId) AND phone_hash = \(bind: hash) RETURNING id
                """).all().count
            if updated == 0 {
                try await db.raw("""
                    INSERT INTO opt_outs (tenant_id, phone_hash, id, phone_e164, reason, source, note, created_by, updated_by,
                                          created_at, updated_at)
                    VALUES (\(bind: scope.tenantId), \(bind: hash), \(bind: Identifier.make(now: now)), NULL, 'erased', 'erasure',
                            NULL, NULL, NULL, \(bind: now), \(bind: now))
                    """).run()
            }
            touched += 1
        }
        return touched
    }

    /// Free text and JSON that mention the subject: addresses become `[erased]`; an import's
    /// per-row outcomes about them are dropped (its counts stay).
    private func scrub(_ table: String, columns: [String], scope: SubjectScope, on db: any SQLDatabase) async throws -> Int {
        guard let filter = scope.filter(for: table) else { return 0 }
        let rows = try await db.raw("SELECT id, \(unsafeRaw: columns.map { "\"\($0)\"" }.joined(separator: ", ")) FROM \(ident: table) WHERE tenant_id = \(bind: scope.tenantId) AND (" + filter + ")").all()
        for row in rows {
            let id = try row.decode(column: "id", as: String.self)
            for column in columns {
                guard let text = try row.decode(column: column, as: String?.self) else { continue }
                let cleaned = table == "lead_imports" ? Self.withoutSubjectRows(text, scope: scope) : Self.redacting(text, scope: scope)
                guard cleaned != text else { continue }
                try await db.raw("UPDATE \(ident: table) SET \(ident: column) = \(bind: cleaned) WHERE tenant_id = \(bind: scope.tenantId) AND id = \(bind: id)").run()
            }
        }
        return rows.count
    }

    static func redacting(_ text: String, scope: SubjectScope) -> String {
        scope.addresses.reduce(text) { result, address in
            result.replacingOccurrences(of: address, with: "[erased]", options: .caseInsensitive)
        }
    }

    static func withoutSubjectRows(_ summary: String, scope: SubjectScope) -> String {
        guard case .object(var object)? = try? JSONDecoder().decode(JSONValue.self, from: Data(summary.utf8)),
              case .array(let rows)? = object["rows"] else { return redacting(summary, scope: scope) }
        let kept = rows.filter { row in
            !(row["phone"]?.string.map(scope.phones.contains) ?? false) && !(row["leadId"]?.string.map(scope.leadIds.contains) ?? false)
        }
        object["rows"] = .array(kept)
        return redacting(String(decoding: JSONValue.object(object).jsonLine, as: UTF8.self), scope: scope)
    }

    /// Pending or finished subject exports of this person: their sealed subject is opened to tell.
    private func eraseSubjectExports(_ scope: SubjectScope, on db: any SQLDatabase) async throws -> Int {
        let rows = try await db.raw("SELECT id, subject_sealed FROM subject_exports WHERE tenant_id = \(bind: scope.tenantId)").all()
        var removed = 0
        for row in rows {
            let sealed = try row.decode(column: "subject_sealed", as: String.self)
            guard let subject = try? JSONDecoder().decode(DataSubject.self, from: services.box.open(sealed)) else { continue }
            let mine = subject.phone.map(scope.phones.contains) ?? false || subject.email.map { scope.emails.contains($0.lowercased()) } ?? false
            guard mine else { continue }
            try await db.raw("DELETE FROM subject_exports WHERE tenant_id = \(bind: scope.tenantId) AND id = \(bind: try row.decode(column: "id", as: String.self))").run()
            removed += 1
        }
        return removed
    }

    private func findReceipt(tenantId: String, hash: String, on db: any SQLDatabase) async throws -> Receipt? {
        guard let row = try await db.raw("""
            SELECT id, reason, counts, created_at FROM erasure_receipts WHERE tenant_id = \(bind: tenantId) AND request_hash = \(bind: hash)
            """).first() else { return nil }
        let counts = try JSONDecoder().decode([String: Int].self, from: Data(try row.decode(column: "counts", as: String.self).utf8))
        return Receipt(id: try row.decode(column: "id", as: String.self), tenantId: tenantId,
                       createdAt: try row.decode(column: "created_at", as: Date.self), reason: try row.decode(column: "reason", as: String.self),
                       counts: counts, requestHash: hash)
    }
}
