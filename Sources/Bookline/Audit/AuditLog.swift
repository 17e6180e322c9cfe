import BooklineCore
import Crypto
import Foundation
import SQLKit

/// Who did something and from where, taken from the request.
public struct AuditActor: Sendable, Equatable {
    public var type: String
    public var id: String?
    public var ip: String?
    public var userAgent: String?
    public var requestId: String?

    public init(type: String, id: String?, ip: String? = nil, userAgent: String? = nil, requestId: String? = nil) {
        self.type = type
        self.id = id
        self.ip = ip
        self.userAgent = userAgent
        self.requestId = requestId
    }

    public static func system(_ name: String) -> AuditActor { AuditActor(type: "system", id: name) }
}

public struct AuditEntry: Sendable {
    public var tenantId: String?
    public var actor: AuditActor
    public var action: String
    public var targetType: String?
    public var targetId: String?
    public var details: [String: String]
    /// A data subject's values (phone, email). They are stored outside the hashed row, and the
    /// hashed details hold a keyed-hash reference to each, so an erasure can clear them and the
    /// chain still verifies.
    public var personal: [String: String]

    public init(tenantId: String?, actor: AuditActor, action: String, targetType: String? = nil,
                targetId: String? = nil, details: [String: String] = [:], personal: [String: String] = [:]) {
        self.tenantId = tenantId
        self.actor = actor
        self.action = action
        self.targetType = targetType
        self.targetId = targetId
        self.details = details
        self.personal = personal
    }
}

/// The append-only audit log. Each row carries the SHA-256 of its canonical form and the
/// previous row's hash in the same chain (the tenant, or `platform`), so editing or deleting
/// a row breaks the chain. Rows are written inside the caller's transaction.
public struct AuditLog: Sendable {
    static let genesis = String(repeating: "0", count: 64)
    let engine: Database.Engine
    let box: SecretBox

    init(engine: Database.Engine, box: SecretBox) {
        self.engine = engine
        self.box = box
    }

    /// The stable, keyed reference to a personal value that audit details carry in its place.
    public func reference(_ value: String) throws -> String {
        let key = try box.derivedKey(for: "bookline.audit-reference.v1")
        return "ref:" + Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(value.utf8), using: key)).prefix(32)
    }

    public func append(_ entry: AuditEntry, on db: any SQLDatabase, now: Date) async throws {
        let chain = entry.tenantId ?? "platform"
        if engine == .postgres {
            try await db.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: "audit:" + chain)))").run()
        }
        let last = try await db.raw("""
            SELECT seq, hash FROM audit_log WHERE chain = \(bind: chain) ORDER BY seq DESC LIMIT 1
            """).first()
        let seq = (try last?.decode(column: "seq", as: Int.self) ?? 0) + 1
        let prevHash = try last?.decode(column: "hash", as: String.self) ?? Self.genesis
        var details = Redaction.redact(entry.details)
        for (name, value) in entry.personal { details[name] = try reference(value) }
        let detailsJSON = String(decoding: try JSONEncoder.bookline.encode(details), as: UTF8.self)
        let personalJSON = entry.personal.isEmpty ? nil
            : String(decoding: try JSONEncoder.bookline.encode(Redaction.redact(entry.personal)), as: UTF8.self)
        let id = Identifier.make(now: now)
        // Stored and hashed at millisecond precision, which both engines keep exactly.
        let createdAt = Self.truncatedToMilliseconds(now)
        let row = CanonicalRow(
            id: id, tenant_id: entry.tenantId, chain: chain, seq: seq, actor_type: entry.actor.type,
            actor_id: entry.actor.id, action: entry.action, target_type: entry.targetType, target_id: entry.targetId,
            details: detailsJSON, ip: entry.actor.ip, user_agent: entry.actor.userAgent, request_id: entry.actor.requestId,
            created_at: Self.timestamp(createdAt), prev_hash: prevHash
        )
        try await db.raw("""
            INSERT INTO audit_log (id, tenant_id, chain, seq, actor_type, actor_id, action, target_type, target_id,
                                   details, ip, user_agent, request_id, created_at, prev_hash, hash, personal)
            VALUES (\(bind: id), \(bind: entry.tenantId), \(bind: chain), \(bind: seq), \(bind: entry.actor.type),
                    \(bind: entry.actor.id), \(bind: entry.action), \(bind: entry.targetType), \(bind: entry.targetId),
                    \(bind: detailsJSON), \(bind: entry.actor.ip), \(bind: entry.actor.userAgent),
                    \(bind: entry.actor.requestId), \(bind: createdAt), \(bind: prevHash), \(bind: try row.hash()),
                    \(bind: personalJSON))
            """).run()
    }

    static func truncatedToMilliseconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    /// Millisecond ISO-8601 of a stored time. Rounds to the nearest millisecond because a
    /// stored value comes back within a microsecond of what was written.
    static func timestamp(_ date: Date) -> String {
        let millis = (date.timeIntervalSince1970 * 1000).rounded() / 1000
        return Date(timeIntervalSince1970: millis).formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
    }

    /// The fields that are hashed, in a fixed order (sorted keys).
    struct CanonicalRow: Encodable {
        let id: String
        let tenant_id: String?
        let chain: String
        let seq: Int
        let actor_type: String
        let actor_id: String?
        let action: String
        let target_type: String?
        let target_id: String?
        let details: String
        let ip: String?
        let user_agent: String?
        let request_id: String?
        let created_at: String
        let prev_hash: String

        func hash() throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Hex.sha256(try encoder.encode(self))
        }
    }
}

/// The single place secrets are scrubbed from anything persisted or logged.
public enum Redaction {
    static let sensitiveFragments = ["password", "secret", "token", "apikey", "api_key", "authorization", "key_hash", "private"]

    public static func redact(_ details: [String: String]) -> [String: String] {
        details.reduce(into: [:]) { result, pair in
            let name = pair.key.lowercased().replacingOccurrences(of: "-", with: "_")
            result[pair.key] = sensitiveFragments.contains { name.contains($0) } ? "[redacted]" : pair.value
        }
    }
}
