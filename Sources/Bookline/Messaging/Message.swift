import BooklineCore
import Foundation
import Metrics
import SQLKit

public enum MessageChannel: String, Sendable, Codable, CaseIterable { case sms, email }

/// Where a message is in its life. Outbound: queued → sending → sent → delivered, or
/// failed / undelivered; `simulated` when no provider is configured; `blocked` when a check
/// (opt-out) refused it. Inbound replies are `received`.
public enum MessageStatus: String, Sendable, Codable, CaseIterable {
    case queued, sending, sent, delivered, failed, undelivered, simulated, blocked, received

    /// Provider callbacks may only move a message forward: a late "sent" never undoes "delivered".
    var rank: Int {
        switch self {
        case .queued: 0
        case .sending: 1
        case .sent, .simulated: 2
        case .delivered, .failed, .undelivered, .blocked, .received: 3
        }
    }
}

/// One row of the outbox (or an inbound reply).
public struct Message: Sendable, Equatable {
    public let tenantId: String
    public let id: String
    public var leadId: String?
    public let channel: MessageChannel
    public let direction: String
    public let to: String
    public var from: String?
    public var template: String?
    public var subject: String?
    public var body: String
    public var bodyHtml: String?
    public var status: MessageStatus
    public var reason: String?
    public var segments: Int?
    public var encoding: String?
    public var provider: String?
    public var providerId: String?
    public var errorCode: String?
    public var attempts: Int
    public var sendAt: Date
    public var sentAt: Date?
    public var deliveredAt: Date?
    public let createdAt: Date
    public var updatedAt: Date
    /// Set while the message is being handed to its provider (see migration 0019).
    public var handedAt: Date? = nil
}

/// SQL for `messages`. Tenant-facing methods take the tenant id first; the sender claims due
/// rows across tenants atomically, so two instances never take the same message.
public struct MessageStore: Sendable {
    let engine: Database.Engine

    func insert(_ message: Message, dedupeKey: String? = nil, on db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO messages (tenant_id, id, lead_id, channel, direction, to_address, from_address, template, subject, body,
                                  body_html, status, reason, segments, encoding, provider, provider_id, attempts, send_at,
                                  created_at, updated_at, dedupe_key)
            VALUES (\(bind: message.tenantId), \(bind: message.id), \(bind: message.leadId), \(bind: message.channel.rawValue),
                    \(bind: message.direction), \(bind: message.to), \(bind: message.from), \(bind: message.template),
                    \(bind: message.subject), \(bind: message.body), \(bind: message.bodyHtml), \(bind: message.status.rawValue),
                    \(bind: message.reason), \(bind: message.segments), \(bind: message.encoding), \(bind: message.provider),
                    \(bind: message.providerId), \(bind: message.attempts), \(bind: message.sendAt), \(bind: message.createdAt),
                    \(bind: message.updatedAt), \(bind: dedupeKey))
            """).run()
    }

    func find(tenantId: String, id: String, on db: any SQLDatabase) async throws -> Message? {
        try await db.raw("SELECT * FROM messages WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)").first().map(Self.decode)
    }

    func find(tenantId: String, dedupeKey: String, on db: any SQLDatabase) async throws -> Message? {
        try await db.raw("SELECT * FROM messages WHERE tenant_id = \(bind: tenantId) AND dedupe_key = \(bind: dedupeKey)")
            .first().map(Self.decode)
    }

    func find(provider: String, providerId: String, on db: any SQLDatabase) async throws -> Message? {
        try await db.raw("SELECT * FROM messages WHERE provider = \(bind: provider) AND provider_id = \(bind: providerId)")
            .first().map(Self.decode)
    }

    public struct Filter: Sendable {
        public var status: MessageStatus?
        public var channel: MessageChannel?
        public var leadId: String?
        public var direction: String?
    }

    func list(tenantId: String, filter: Filter, limit: Int, cursor: String?, on db: any SQLDatabase) async throws -> [Message] {
        let query = db.select().column("*").from("messages").where("tenant_id", .equal, tenantId)
        if let status = filter.status { query.where("status", .equal, status.rawValue) }
        if let channel = filter.channel { query.where("channel", .equal, channel.rawValue) }
        if let leadId = filter.leadId { query.where("lead_id", .equal, leadId) }
        if let direction = filter.direction { query.where("direction", .equal, direction) }
        if let cursor { query.where("id", .lessThan, cursor) }
        return try await query.orderBy("id", .descending).limit(limit).all().map(Self.decode)
    }

    /// SMS the tenant sent (or has queued) since `start`, for the daily quota.
    func smsCount(tenantId: String, since start: Date, on db: any SQLDatabase) async throws -> Int {
        try await db.raw("""
            SELECT COUNT(*) AS n FROM messages WHERE tenant_id = \(bind: tenantId) AND channel = 'sms'
              AND direction = 'outbound' AND status <> 'blocked' AND created_at >= \(bind: start)
            """).first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// Takes up to `limit` due messages for sending, leased until `leaseUntil`. Queued ones are
    /// due at `send_at`; a `sending` one whose lease ran out without a provider id is taken
    /// again (its sender died before the provider answered).
    func claim(now: Date, leaseUntil: Date, limit: Int, on db: any SQLDatabase) async throws -> [Message] {
        let lock: SQLQueryString = engine == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        return try await db.raw("""
            UPDATE messages SET status = 'sending', locked_until = \(bind: leaseUntil), attempts = attempts + 1,
                updated_at = \(bind: now)
            WHERE (tenant_id, id) IN (
                SELECT tenant_id, id FROM messages
                WHERE ((status = 'queued' AND send_at <= \(bind: now))
                   OR (status = 'sending' AND provider_id IS NULL AND locked_until < \(bind: now)))
                  -- A tenant's email waits until one of its owners has verified their address.
                  AND (channel <> 'email' OR EXISTS (
                      SELECT 1 FROM memberships JOIN users ON users.id = memberships.user_id
                      WHERE memberships.tenant_id = messages.tenant_id AND memberships.role = 'owner'
                        AND users.email_verified_at IS NOT NULL))
                ORDER BY send_at LIMIT \(literal: limit)\(lock))
            RETURNING *
            """).all().map(Self.decode)
    }

    /// Records the outcome of a send attempt (or a later provider callback).
    func update(_ message: Message, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE messages SET status = \(bind: message.status.rawValue), reason = \(bind: message.reason),
                provider = \(bind: message.provider), provider_id = \(bind: message.providerId),
                error_code = \(bind: message.errorCode), from_address = \(bind: message.from), send_at = \(bind: message.sendAt),
                sent_at = \(bind: message.sentAt), delivered_at = \(bind: message.deliveredAt), locked_until = NULL,
                handed_at = \(bind: message.handedAt), updated_at = \(bind: message.updatedAt)
            WHERE tenant_id = \(bind: message.tenantId) AND id = \(bind: message.id)
            """).run()
    }

    /// Notes that the message is about to reach its provider, so a crash from here on is
    /// resolved by asking the provider, not by sending blindly again.
    func markHanded(_ message: Message, at: Date, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE messages SET handed_at = \(bind: at) WHERE tenant_id = \(bind: message.tenantId) AND id = \(bind: message.id)
            """).run()
    }

    /// Saves a new status and records `message_status_changed` in the same transaction: the one
    /// way the sender and provider callbacks change a message.
    func recordStatus(_ message: Message, on db: any SQLDatabase, now: Date) async throws {
        try await update(message, on: db)
        Counter(label: "bookline_messages_total", dimensions: [("channel", message.channel.rawValue), ("status", message.status.rawValue)])
            .increment()
        try await EventLog(engine: engine).append([NewEvent(
            type: "message_status_changed", subjectType: "message", subjectId: message.id,
            payload: ["message_id": message.id, "status": message.status.rawValue, "lead_id": message.leadId ?? ""]
        )], tenantId: message.tenantId, on: db, now: now)
    }

    static func decode(_ row: any SQLRow) throws -> Message {
        Message(
            tenantId: try row.decode(column: "tenant_id", as: String.self),
            id: try row.decode(column: "id", as: String.self),
            leadId: try row.decode(column: "lead_id", as: String?.self),
            channel: MessageChannel(rawValue: try row.decode(column: "channel", as: String.self)) ?? .sms,
            direction: try row.decode(column: "direction", as: String.self),
            to: try row.decode(column: "to_address", as: String.self),
            from: try row.decode(column: "from_address", as: String?.self),
            template: try row.decode(column: "template", as: String?.self),
            subject: try row.decode(column: "subject", as: String?.self),
            body: try row.decode(column: "body", as: String.self),
            bodyHtml: try row.decode(column: "body_html", as: String?.self),
            status: MessageStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
            reason: try row.decode(column: "reason", as: String?.self),
            segments: try row.decode(column: "segments", as: Int?.self),
            encoding: try row.decode(column: "encoding", as: String?.self),
            provider: try row.decode(column: "provider", as: String?.self),
            providerId: try row.decode(column: "provider_id", as: String?.self),
            errorCode: try row.decode(column: "error_code", as: String?.self),
            attempts: try row.decode(column: "attempts", as: Int.self),
            sendAt: try row.decode(column: "send_at", as: Date.self),
            sentAt: try row.decode(column: "sent_at", as: Date?.self),
            deliveredAt: try row.decode(column: "delivered_at", as: Date?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            updatedAt: try row.decode(column: "updated_at", as: Date.self),
            handedAt: try row.decode(column: "handed_at", as: Date?.self)
        )
    }
}
