@testable import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Master key re-seal: every sealed value moves to the new key, every keyed hash stays")
struct MasterKeyResealTests {
    static let keyA = Data(repeating: 0xA1, count: 32)
    static let keyB = Data(repeating: 0xB2, count: 32)
    static let twilioToken = "f3a9c1d2e4b5a6978899aabbccddeeff"

    @Test func resealMovesEverythingToTheNewKey() async throws {
        try await TestDatabase.withFresh { base in
            var config = base
            config.masterKey = Self.keyA
            let first = try await AppServices.make(config: config, logger: quietLogger)
            let tenant = try await first.makeTenant()
            let reference = try first.audit.reference("+447400100123")
            let phoneHash = try first.optOuts.hasher.hash("+447400100123")
            let idempotencyKey: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "reseal-1"]
            let replayed = try await buildApplication(first).test(.router) { client in
                let put = try await client.request(.put, "/api/settings/messaging", key: tenant.key, json: """
                    {"twilioAccountSid": "AC0123456789abcdef0123456789abcdef", "twilioAuthToken": "\(Self.twilioToken)",
                     "twilioFromNumber": "07400 100999"}
                    """)
                #expect(put.status == .ok, "\(put.text)")
                let created = try await client.request(.post, "/api/keys", key: tenant.key, headers: idempotencyKey, json: #"{"name": "once"}"#)
                #expect(created.status == .created)
                _ = try await client.createLead(#"{"phone": "07400100777", "name": "Jane Subject"}"#, key: tenant.key)
                // One number opted out; another opted out and then its person erased (only the hash stays).
                for phone in ["07400100123", "07400100777"] {
                    #expect(try await client.request(.post, "/api/opt-outs", key: tenant.key, json: #"{"phone": "\#(phone)"}"#).status == .created)
                }
                _ = try await Erasure(services: first).erase(DataSubject(phone: "+447400100777"), tenantId: tenant.id,
                                                             reason: "test", actor: .system("test"))
                let phones = try await first.database.sql.raw("SELECT phone_e164 FROM opt_outs").all()
                    .map { try $0.decode(column: "phone_e164", as: String?.self) }
                #expect(phones.count == 2 && phones.contains(nil), "the erased number's opt-out keeps only its hash")
                return created.text
            }  // closes the first instance's database

            // Re-seal A -> B with the function `bookline keys reseal` runs.
            let database = try await Database.open(config, logger: quietLogger)
            let counts = try await MasterKeyReseal.run(database: database, old: Self.keyA, new: Self.keyB)
            let byColumn = Dictionary(uniqueKeysWithValues: counts.map { ("\($0.table).\($0.column)", $0.rows) })
            #expect(byColumn["platform_secrets.value_sealed"] == 1)
            #expect(byColumn["signing_keys.private_key_sealed"] == 1)
            #expect(byColumn["messaging_settings.twilio_auth_token_sealed"] == 1)
            #expect(byColumn["messaging_settings.smtp_url_sealed"] == 0, "NULL stays NULL")
            #expect((byColumn["idempotency_keys.body_sealed"] ?? 0) >= 1)
            let audited = try await database.sql.raw("SELECT action, details FROM audit_log WHERE tenant_id IS NULL ORDER BY seq DESC LIMIT 1").first()
            #expect(try audited?.decode(column: "action", as: String.self) == "master_key.resealed")
            #expect(try audited?.decode(column: "details", as: String.self).contains("\"values\":\"\(counts.reduce(0) { $0 + $1.rows })\"") == true)
            await database.close()

            config.masterKey = Self.keyB
            let second = try await AppServices.make(config: config, logger: quietLogger)
            #expect(try second.audit.reference("+447400100123") == reference)
            #expect(try second.optOuts.hasher.hash("+447400100123") == phoneHash)
            let sealed = try #require(try await second.database.sql.raw("SELECT twilio_auth_token_sealed FROM messaging_settings").first()?
                .decode(column: "twilio_auth_token_sealed", as: String.self))
            #expect(String(decoding: try second.box.open(sealed), as: UTF8.self) == Self.twilioToken)
            try await buildApplication(second).test(.router) { client in
                let token = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
                #expect(try await client.request(.get, "/api/settings/messaging", key: token).status == .ok)
                let again = try await client.request(.post, "/api/keys", key: tenant.key, headers: idempotencyKey, json: #"{"name": "once"}"#)
                #expect(again.status == .created && again.text == replayed)
                let imported = try await client.importLeads("phone\n07400100123\n07400100777\n", key: tenant.key)
                #expect(try imported.count("opted_out") == 2)
                let verified = try await AuditReader(database: second.database).verify()
                #expect(verified.broken == nil && verified.rows > 0)
            }

            // The old key no longer opens anything.
            config.masterKey = Self.keyA
            let error = await #expect(throws: ConfigError.self) { try await AppServices.make(config: config, logger: quietLogger) }
            #expect(error?.variable == "BOOKLINE_MASTER_KEY")
        }
    }

    @Test func aWrongOldKeyOrTheSameKeyChangesNothing() async throws {
        try await TestDatabase.withFresh { base in
            var config = base
            config.masterKey = Self.keyA
            let first = try await AppServices.make(config: config, logger: quietLogger)
            let tenant = try await first.makeTenant()
            try await buildApplication(first).test(.router) { client in
                let put = try await client.request(.put, "/api/settings/messaging", key: tenant.key,
                                                   json: #"{"twilioAuthToken": "\#(Self.twilioToken)"}"#)
                #expect(put.status == .ok)
            }
            let database = try await Database.open(config, logger: quietLogger)
            // A value sealed under another key: the whole re-seal stops on it, naming only where it is.
            try await database.sql.raw("UPDATE messaging_settings SET smtp_url_sealed = \(bind: try SecretBox(keyData: Self.keyB).seal("smtp://x"))").run()
            func snapshot() async throws -> [String] {
                var values: [String] = []
                for entry in SealedColumns.all {
                    for row in try await database.sql.select().column(SQLIdentifier(entry.column)).from(entry.table).all() {
                        values.append(try row.decode(column: entry.column, as: String?.self) ?? "NULL")
                    }
                }
                return values
            }
            let before = try await snapshot()

            let stray = await #expect(throws: MasterKeyReseal.Failure.self) {
                try await MasterKeyReseal.run(database: database, old: Self.keyA, new: Data(repeating: 0xC3, count: 32))
            }
            #expect(stray?.description.contains("messaging_settings.smtp_url_sealed") == true)
            let wrong = await #expect(throws: MasterKeyReseal.Failure.self) {
                try await MasterKeyReseal.run(database: database, old: Self.keyB, new: Data(repeating: 0xC3, count: 32))
            }
            #expect(wrong?.description.contains("BOOKLINE_OLD_MASTER_KEY") == true)
            let same = await #expect(throws: MasterKeyReseal.Failure.self) {
                try await MasterKeyReseal.run(database: database, old: Self.keyA, new: Self.keyA)
            }
            #expect(same?.description.contains("same key") == true)
            #expect(try await snapshot() == before)
            await database.close()
            let again = try await AppServices.make(config: config, logger: quietLogger)
            await again.database.close()
        }
    }

    /// A database from before the derivation root, re-sealed before any instance started on the
    /// new version: the root is made from the old key first, so hashes still match afterwards.
    @Test func aDatabaseWithoutARootGetsTheOldKeysBeforeTheReseal() async throws {
        try await TestDatabase.withFresh { base in
            var config = base
            config.masterKey = Self.keyA
            let first = try await AppServices.make(config: config, logger: quietLogger)
            let phoneHash = try first.optOuts.hasher.hash("+447400100123")
            try await first.database.sql.raw("DELETE FROM platform_secrets").run()
            #expect(try await MasterKeyReseal.run(database: first.database, old: Self.keyA, new: Self.keyB).first?.rows == 1)
            await first.database.close()
            config.masterKey = Self.keyB
            let second = try await AppServices.make(config: config, logger: quietLogger)
            #expect(try second.optOuts.hasher.hash("+447400100123") == phoneHash)
            await second.database.close()
        }
    }

    /// A migration that adds a sealed column without adding it to `SealedColumns.all` would leave
    /// it behind on a re-seal (and unreadable afterwards).
    @Test func everySealedColumnIsResealed() async throws {
        try await withApp { _, services in
            let schema = try await DataRegistryTests.schema(services)
            var inSchema = Set<String>()
            for (table, columns) in schema {
                for column in columns.keys where column.hasSuffix("_sealed") { inSchema.insert("\(table).\(column)") }
            }
            let listed = Set(SealedColumns.all.map { "\($0.table).\($0.column)" })
            #expect(inSchema == listed, "sealed columns missing from SealedColumns.all: \(inSchema.subtracting(listed).sorted()); listed but absent: \(listed.subtracting(inSchema).sorted())")
            for entry in SealedColumns.all {
                for key in entry.primaryKey { #expect(schema[entry.table]?[key] != nil, "\(entry.table) has no column \(key)") }
            }
        }
    }
}
