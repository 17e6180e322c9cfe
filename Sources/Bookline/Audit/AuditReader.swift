import BooklineCore
import Foundation
import SQLKit

/// One audit row as stored.
public struct AuditRecord: Codable, Sendable, Equatable {
    public let id: String
    public let tenantId: String?
    public let chain: String
    public let seq: Int
    public let actorType: String
    public let actorId: String?
    public let action: String
    public let targetType: String?
    public let targetId: String?
    public let details: String
    public let ip: String?
    public let userAgent: String?
    public let requestId: String?
    public let createdAt: Date
    public let prevHash: String
    public let hash: String
    /// The unhashed personal values (JSON object), nil once erased.
    public let personal: String?

    static func decode(_ row: any SQLRow) throws -> AuditRecord {
        AuditRecord(
            id: try row.decode(column: "id", as: String.self),
            tenantId: try row.decode(column: "tenant_id", as: String?.self),
            chain: try row.decode(column: "chain", as: String.self),
            seq: try row.decode(column: "seq", as: Int.self),
            actorType: try row.decode(column: "actor_type", as: String.self),
            actorId: try row.decode(column: "actor_id", as: String?.self),
            action: try row.decode(column: "action", as: String.self),
            targetType: try row.decode(column: "target_type", as: String?.self),
            targetId: try row.decode(column: "target_id", as: String?.self),
            details: try row.decode(column: "details", as: String.self),
            ip: try row.decode(column: "ip", as: String?.self),
            userAgent: try row.decode(column: "user_agent", as: String?.self),
            requestId: try row.decode(column: "request_id", as: String?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            prevHash: try row.decode(column: "prev_hash", as: String.self),
            hash: try row.decode(column: "hash", as: String.self),
            personal: try row.decode(column: "personal", as: String?.self)
        )
    }

    /// The hash this row should carry, recomputed from its stored fields.
    func expectedHash() throws -> String {
        try AuditLog.CanonicalRow(
            id: id, tenant_id: tenantId, chain: chain, seq: seq, actor_type: actorType, actor_id: actorId, action: action,
            target_type: targetType, target_id: targetId, details: details, ip: ip, user_agent: userAgent,
            request_id: requestId, created_at: AuditLog.timestamp(createdAt), prev_hash: prevHash
        ).hash()
    }
}

/// Reads and verifies the audit log. There is no update or delete path in code.
public struct AuditReader: Sendable {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public struct Filter: Sendable {
        public var tenantId: String?
        /// Only platform actions (no tenant).
        public var platformOnly = false
        public var actorId: String?
        public var action: String?
        public var from: Date?
        public var to: Date?
        /// Rows older than this id (newest first).
        public var before: String?
        public var limit: Int = 50
    }

    public func list(_ filter: Filter) async throws -> [AuditRecord] {
        var query = database.sql.select().column("*").from("audit_log")
        if let tenantId = filter.tenantId { query = query.where("tenant_id", .equal, tenantId) }
        if filter.platformOnly { query = query.where("tenant_id", .is, SQLLiteral.null) }
        if let actorId = filter.actorId { query = query.where("actor_id", .equal, actorId) }
        if let action = filter.action { query = query.where("action", .equal, action) }
        if let from = filter.from { query = query.where("created_at", .greaterThanOrEqual, from) }
        if let to = filter.to { query = query.where("created_at", .lessThan, to) }
        if let before = filter.before { query = query.where("id", .lessThan, before) }
        return try await query.orderBy("id", .descending).limit(filter.limit).all().map(AuditRecord.decode)
    }

    public struct Verification: Sendable, Equatable {
        public var chains = 0
        public var rows = 0
        /// The first broken link: chain, row id, sequence number and what is wrong.
        public var broken: (chain: String, id: String, seq: Int, reason: String)?

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.chains == rhs.chains && lhs.rows == rhs.rows && lhs.broken?.id == rhs.broken?.id
        }
    }

    /// Walks every chain (or one tenant's) and reports the first row whose hash, predecessor
    /// or sequence does not match.
    public func verify(tenantId: String? = nil) async throws -> Verification {
        var result = Verification()
        let chains: [String]
        if let tenantId {
            chains = [tenantId]
        } else {
            chains = try await database.sql.raw("SELECT DISTINCT chain FROM audit_log ORDER BY chain").all()
                .map { try $0.decode(column: "chain", as: String.self) }
        }
        for chain in chains {
            result.chains += 1
            var previous = AuditLog.genesis
            var expectedSeq = 1
            let rows = try await database.sql.raw("SELECT * FROM audit_log WHERE chain = \(bind: chain) ORDER BY seq")
                .all().map(AuditRecord.decode)
            for row in rows {
                result.rows += 1
                let reason: String? =
                    row.seq != expectedSeq ? "sequence jumps from \(expectedSeq - 1) to \(row.seq) (a row was removed)"
                    : row.prevHash != previous ? "prev_hash does not match the previous row's hash"
                    : try row.expectedHash() != row.hash ? "the row's content does not match its hash (it was altered)"
                    : nil
                if let reason {
                    result.broken = (chain, row.id, row.seq, reason)
                    return result
                }
                previous = row.hash
                expectedSeq += 1
            }
        }
        return result
    }
}
