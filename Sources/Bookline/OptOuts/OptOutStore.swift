import BooklineCore
import Crypto
import Foundation
import SQLKit

/// One entry on a suppression list.
public struct OptOut: Sendable, Equatable {
    /// The tenant id, or `OptOutStore.global` for the platform-wide list.
    public let scope: String
    public let id: String
    public let phoneHash: String
    /// nil once the person's data was erased: only the hash then keeps them suppressed.
    public let phone: String?
    public let reason: String
    public let source: String?
    public let note: String?
    public let createdBy: String?
    public let updatedBy: String?
    public let createdAt: Date
    public let updatedAt: Date
    public let deactivatedAt: Date?
    public let deactivationReason: String?

    public var isActive: Bool { deactivatedAt == nil }
}

/// Keyed hashes of E.164 numbers (HMAC-SHA256 under a key derived from the derivation root,
/// which survives a master key re-seal), so the suppression list can outlive the number itself
/// without being reversible by brute force.
public struct PhoneHasher: Sendable {
    let box: SecretBox

    public init(box: SecretBox) {
        self.box = box
    }

    public func hash(_ e164: String) throws -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(e164.utf8), using: try box.derivedKey(for: "bookline.phone-hash.v1")))
    }
}

/// SQL for `opt_outs`. Every method takes the scope (tenant id or `global`) first.
public struct OptOutStore: Sendable {
    public static let global = "global"
    static let lookupChunk = 500

    /// The active entries among `hashes` for a tenant, its own list and the global one.
    public func activeHashes(tenantId: String, among hashes: [String], on db: any SQLDatabase) async throws -> Set<String> {
        var found = Set<String>()
        for start in stride(from: 0, to: hashes.count, by: Self.lookupChunk) {
            let chunk = hashes[start..<min(start + Self.lookupChunk, hashes.count)]
            let rows = try await db.select().column("phone_hash").from("opt_outs")
                .where("tenant_id", .in, [tenantId, Self.global])
                .where("phone_hash", .in, Array(chunk))
                .where("deactivated_at", .is, SQLLiteral.null)
                .all()
            for row in rows { found.insert(try row.decode(column: "phone_hash", as: String.self)) }
        }
        return found
    }

    public func find(scope: String, phoneHash: String, on db: any SQLDatabase) async throws -> OptOut? {
        try await db.raw("SELECT * FROM opt_outs WHERE tenant_id = \(bind: scope) AND phone_hash = \(bind: phoneHash)")
            .first().map(Self.decode)
    }

    public struct Page: Sendable {
        public let items: [OptOut]
        public let nextCursor: String?
    }

    /// Newest first; `active` nil lists both.
    public func list(scope: String, active: Bool?, limit: Int, cursor: String?, on db: any SQLDatabase) async throws -> [OptOut] {
        let query = db.select().column("*").from("opt_outs").where("tenant_id", .equal, scope)
        if let active { query.where("deactivated_at", active ? .is : .isNot, SQLLiteral.null) }
        if let cursor { query.where("id", .lessThan, cursor) }
        return try await query.orderBy("id", .descending).limit(limit).all().map(Self.decode)
    }

    /// Adds the number to the list, or re-activates a withdrawn entry with the new reason.
    public func upsert(scope: String, phone: PhoneNumber, hash: String, reason: String, source: String?, note: String?,
                       actor: String?, now: Date, on db: any SQLDatabase) async throws -> OptOut {
        if try await find(scope: scope, phoneHash: hash, on: db) != nil {
            try await db.raw("""
                UPDATE opt_outs SET phone_e164 = \(bind: phone.e164), reason = \(bind: reason), source = \(bind: source),
                    note = \(bind: note), updated_by = \(bind: actor), updated_at = \(bind: now),
                    deactivated_at = NULL, deactivation_reason = NULL
                WHERE tenant_id = \(bind: scope) AND phone_hash = \(bind: hash)
                """).run()
        } else {
            try await db.raw("""
                INSERT INTO opt_outs (tenant_id, phone_hash, id, phone_e164, reason, source, note, created_by, updated_by,
                                      created_at, updated_at)
                VALUES (\(bind: scope), \(bind: hash), \(bind: Identifier.make(now: now)), \(bind: phone.e164),
                        \(bind: reason), \(bind: source), \(bind: note), \(bind: actor), \(bind: actor), \(bind: now), \(bind: now))
                """).run()
        }
        guard let saved = try await find(scope: scope, phoneHash: hash, on: db) else { throw Problem.internalError }
        return saved
    }

    /// Withdraws an active entry; false when there is none.
    public func deactivate(scope: String, hash: String, reason: String, actor: String?, now: Date,
                           on db: any SQLDatabase) async throws -> Bool {
        guard let existing = try await find(scope: scope, phoneHash: hash, on: db), existing.isActive else { return false }
        try await db.raw("""
            UPDATE opt_outs SET deactivated_at = \(bind: now), deactivation_reason = \(bind: reason),
                updated_by = \(bind: actor), updated_at = \(bind: now)
            WHERE tenant_id = \(bind: scope) AND phone_hash = \(bind: hash)
            """).run()
        return true
    }

    static func decode(_ row: any SQLRow) throws -> OptOut {
        OptOut(
            scope: try row.decode(column: "tenant_id", as: String.self),
            id: try row.decode(column: "id", as: String.self),
            phoneHash: try row.decode(column: "phone_hash", as: String.self),
            phone: try row.decode(column: "phone_e164", as: String?.self),
            reason: try row.decode(column: "reason", as: String.self),
            source: try row.decode(column: "source", as: String?.self),
            note: try row.decode(column: "note", as: String?.self),
            createdBy: try row.decode(column: "created_by", as: String?.self),
            updatedBy: try row.decode(column: "updated_by", as: String?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            updatedAt: try row.decode(column: "updated_at", as: Date.self),
            deactivatedAt: try row.decode(column: "deactivated_at", as: Date?.self),
            deactivationReason: try row.decode(column: "deactivation_reason", as: String?.self)
        )
    }
}
