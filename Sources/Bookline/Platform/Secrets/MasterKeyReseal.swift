import Foundation
import SQLKit

/// Every column sealed under the master key, with its table's primary key. A test fails when a
/// migration adds a `*_sealed` column this list does not name.
public enum SealedColumns {
    public struct Column: Sendable, Hashable {
        public let table: String
        public let primaryKey: [String]
        public let column: String
    }

    public static let all: [Column] = [
        Column(table: "platform_secrets", primaryKey: ["name"], column: "value_sealed"),
        Column(table: "signing_keys", primaryKey: ["kid"], column: "private_key_sealed"),
        Column(table: "users", primaryKey: ["id"], column: "totp_secret_sealed"),
        Column(table: "idempotency_keys", primaryKey: ["scope", "idempotency_key"], column: "body_sealed"),
        Column(table: "messaging_settings", primaryKey: ["tenant_id"], column: "twilio_auth_token_sealed"),
        Column(table: "messaging_settings", primaryKey: ["tenant_id"], column: "smtp_url_sealed"),
        Column(table: "call_settings", primaryKey: ["tenant_id"], column: "webhook_secret_sealed"),
        Column(table: "calendar_settings", primaryKey: ["tenant_id"], column: "credentials_sealed"),
        Column(table: "subject_exports", primaryKey: ["tenant_id", "id"], column: "subject_sealed"),
        Column(table: "subject_exports", primaryKey: ["tenant_id", "id"], column: "document_sealed"),
    ]
}

/// `bookline keys reseal`: opens every sealed value with the old master key and seals it with
/// the new one, all in one transaction. Keyed hashes do not change: they derive from the
/// derivation root, which is itself one of the re-sealed values.
public enum MasterKeyReseal {
    public struct Count: Sendable, Equatable {
        public let table: String
        public let column: String
        public let rows: Int
    }

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Re-seals everything from `old` to `new`; on any value `old` cannot open nothing changes.
    public static func run(database: Database, old: Data, new: Data) async throws -> [Count] {
        guard old != new else {
            throw Failure(description: "BOOKLINE_OLD_MASTER_KEY and BOOKLINE_MASTER_KEY are the same key: nothing to re-seal")
        }
        // A database from before the derivation root gets it now, from the old key: after the
        // re-seal it must still be the old key's bytes, or every keyed hash would change.
        do {
            _ = try await SecretBox.loadRoot(master: old, database: database)
        } catch is ConfigError {
            throw Failure(description: "BOOKLINE_OLD_MASTER_KEY cannot open platform_secrets.value_sealed or signing_keys.private_key_sealed: "
                + "it is not the key this database is sealed with; nothing was changed")
        }
        let opener = SecretBox(keyData: old)
        let sealer = SecretBox(keyData: new)
        return try await database.transaction { db in
            var counts: [Count] = []
            for entry in SealedColumns.all {
                let rows = try await db.select().columns(entry.primaryKey + [entry.column]).from(entry.table)
                    .where(SQLIdentifier(entry.column), .isNot, SQLLiteral.null).all()
                for row in rows {
                    let plain: Data
                    do {
                        plain = try opener.open(try row.decode(column: entry.column, as: String.self))
                    } catch {
                        throw Failure(description: "BOOKLINE_OLD_MASTER_KEY cannot open a value of \(entry.table).\(entry.column); nothing was changed")
                    }
                    var update = db.update(entry.table).set(SQLIdentifier(entry.column), to: try sealer.seal(plain))
                    for key in entry.primaryKey {
                        update = update.where(SQLIdentifier(key), .equal, try row.decode(column: key, as: String.self))
                    }
                    try await update.run()
                }
                counts.append(Count(table: entry.table, column: entry.column, rows: rows.count))
            }
            // On the platform chain, in the same transaction: who changed the key is an operator
            // at the console, so the entry says what changed, never a key.
            try await AuditLog(engine: database.engine, box: sealer).append(AuditEntry(
                tenantId: nil, actor: .system("bookline keys reseal"), action: "master_key.resealed", targetType: "platform",
                details: ["values": String(counts.reduce(0) { $0 + $1.rows }), "columns": String(counts.count)]
            ), on: db, now: Date())
            return counts
        }
    }
}
