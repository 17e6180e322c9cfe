import BooklineCore
import Foundation
import SQLKit

/// One phone call the tenant's assistant made or took (or one recorded through the API).
public struct Call: Sendable, Equatable {
    public enum State: String, Sendable { case inProgress = "in_progress", ended }

    public let tenantId: String
    public let id: String
    public let provider: String
    public let providerCallId: String
    public var leadId: String?
    public var phone: String?
    public var direction: String
    public var state: State
    public var startedAt: Date
    public var endedAt: Date?
    public var durationSeconds: Int?
    public var costMinor: Int?
    public var currency: String?
    public var endedReason: String?
    public var endedReasonKnown: Bool
    public var outcome: CallOutcome?
    public var summary: String?
    public var recordingURL: String?
    public var structuredData: [String: JSONValue]
    public let createdAt: Date
    public var updatedAt: Date
}

/// SQL for `calls` and `call_webhook_receipts`; every method takes the tenant id first.
public struct CallStore: Sendable {
    static let columns = ["tenant_id", "id", "provider", "provider_call_id", "lead_id", "phone_e164", "direction", "state",
                          "started_at", "ended_at", "duration_seconds", "cost_minor", "currency", "ended_reason",
                          "ended_reason_known", "outcome", "summary", "recording_url", "structured_data", "created_at",
                          "updated_at"]
    /// 21 binds per row: 300 rows stay under both engines' bind limits.
    static let rowsPerInsert = 300

    public func insert(_ calls: [Call], on db: any SQLDatabase) async throws {
        for start in stride(from: 0, to: calls.count, by: Self.rowsPerInsert) {
            let insert = db.insert(into: "calls").columns(Self.columns)
            for call in calls[start..<min(start + Self.rowsPerInsert, calls.count)] {
                insert.values(try Self.binds(call))
            }
            try await insert.run()
        }
    }

    public func update(_ call: Call, on db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE calls SET lead_id = \(bind: call.leadId), phone_e164 = \(bind: call.phone), direction = \(bind: call.direction),
                state = \(bind: call.state.rawValue), started_at = \(bind: call.startedAt), ended_at = \(bind: call.endedAt),
                duration_seconds = \(bind: call.durationSeconds), cost_minor = \(bind: call.costMinor),
                currency = \(bind: call.currency), ended_reason = \(bind: call.endedReason),
                ended_reason_known = \(bind: call.endedReasonKnown ? 1 : 0), outcome = \(bind: call.outcome?.rawValue),
                summary = \(bind: call.summary), recording_url = \(bind: call.recordingURL),
                structured_data = \(bind: try Self.json(call.structuredData)), updated_at = \(bind: call.updatedAt)
            WHERE tenant_id = \(bind: call.tenantId) AND id = \(bind: call.id)
            """).run()
    }

    public func find(tenantId: String, id: String, on db: any SQLDatabase) async throws -> Call? {
        try await db.raw("SELECT * FROM calls WHERE tenant_id = \(bind: tenantId) AND id = \(bind: id)").first().map(Self.decode)
    }

    public func find(tenantId: String, provider: String, providerCallId: String, on db: any SQLDatabase) async throws -> Call? {
        try await db.raw("""
            SELECT * FROM calls WHERE tenant_id = \(bind: tenantId) AND provider = \(bind: provider)
              AND provider_call_id = \(bind: providerCallId)
            """).first().map(Self.decode)
    }

    public struct Filter: Sendable {
        public var outcome: CallOutcome?
        public var leadId: String?
        public var startedFrom: Date?
        public var startedTo: Date?
    }

    /// Newest first, by id (ids are minted in time order).
    public func list(tenantId: String, filter: Filter, limit: Int, cursor: String?, on db: any SQLDatabase) async throws -> [Call] {
        let query = db.select().column("*").from("calls").where("tenant_id", .equal, tenantId)
        if let outcome = filter.outcome { query.where("outcome", .equal, outcome.rawValue) }
        if let leadId = filter.leadId { query.where("lead_id", .equal, leadId) }
        if let from = filter.startedFrom { query.where("started_at", .greaterThanOrEqual, from) }
        if let to = filter.startedTo { query.where("started_at", .lessThan, to) }
        if let cursor { query.where("id", .lessThan, cursor) }
        return try await query.orderBy("id", .descending).limit(limit).all().map(Self.decode)
    }

    /// Records that this (call, event type) was handled; false when it already was (a replay).
    public func claimReceipt(tenantId: String, providerCallId: String, eventType: String, now: Date,
                             on db: any SQLDatabase) async throws -> Bool {
        let existing = try await db.raw("""
            SELECT 1 AS one FROM call_webhook_receipts WHERE tenant_id = \(bind: tenantId)
              AND provider_call_id = \(bind: providerCallId) AND event_type = \(bind: eventType)
            """).first()
        guard existing == nil else { return false }
        try await db.raw("""
            INSERT INTO call_webhook_receipts (tenant_id, provider_call_id, event_type, received_at)
            VALUES (\(bind: tenantId), \(bind: providerCallId), \(bind: eventType), \(bind: now))
            """).run()
        return true
    }

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder.bookline.encode(value), as: UTF8.self)
    }

    static func binds(_ call: Call) throws -> [any SQLExpression] {
        [SQLBind(call.tenantId), SQLBind(call.id), SQLBind(call.provider), SQLBind(call.providerCallId), SQLBind(call.leadId),
         SQLBind(call.phone), SQLBind(call.direction), SQLBind(call.state.rawValue), SQLBind(call.startedAt),
         SQLBind(call.endedAt), SQLBind(call.durationSeconds), SQLBind(call.costMinor), SQLBind(call.currency),
         SQLBind(call.endedReason), SQLBind(call.endedReasonKnown ? 1 : 0), SQLBind(call.outcome?.rawValue),
         SQLBind(call.summary), SQLBind(call.recordingURL), SQLBind(try json(call.structuredData)),
         SQLBind(call.createdAt), SQLBind(call.updatedAt)]
    }

    static func decode(_ row: any SQLRow) throws -> Call {
        let structured = try row.decode(column: "structured_data", as: String.self)
        return Call(
            tenantId: try row.decode(column: "tenant_id", as: String.self),
            id: try row.decode(column: "id", as: String.self),
            provider: try row.decode(column: "provider", as: String.self),
            providerCallId: try row.decode(column: "provider_call_id", as: String.self),
            leadId: try row.decode(column: "lead_id", as: String?.self),
            phone: try row.decode(column: "phone_e164", as: String?.self),
            direction: try row.decode(column: "direction", as: String.self),
            state: Call.State(rawValue: try row.decode(column: "state", as: String.self)) ?? .ended,
            startedAt: try row.decode(column: "started_at", as: Date.self),
            endedAt: try row.decode(column: "ended_at", as: Date?.self),
            durationSeconds: try row.decode(column: "duration_seconds", as: Int?.self),
            costMinor: try row.decode(column: "cost_minor", as: Int?.self),
            currency: try row.decode(column: "currency", as: String?.self),
            endedReason: try row.decode(column: "ended_reason", as: String?.self),
            endedReasonKnown: try row.decode(column: "ended_reason_known", as: Int.self) != 0,
            outcome: try row.decode(column: "outcome", as: String?.self).flatMap(CallOutcome.init(rawValue:)),
            summary: try row.decode(column: "summary", as: String?.self),
            recordingURL: try row.decode(column: "recording_url", as: String?.self),
            structuredData: (try? JSONDecoder().decode([String: JSONValue].self, from: Data(structured.utf8))) ?? [:],
            createdAt: try row.decode(column: "created_at", as: Date.self),
            updatedAt: try row.decode(column: "updated_at", as: Date.self)
        )
    }
}
