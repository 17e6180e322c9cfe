import Foundation
import SQLKit

/// A domain event about to be recorded (`lead_created`, `lead_status_changed`, ...).
public struct NewEvent: Sendable, Equatable {
    public var type: String
    public var subjectType: String?
    public var subjectId: String?
    public var payload: [String: String]

    public init(type: String, subjectType: String? = nil, subjectId: String? = nil, payload: [String: String] = [:]) {
        self.type = type
        self.subjectType = subjectType
        self.subjectId = subjectId
        self.payload = payload
    }

    public static func lead(_ type: String, _ leadId: String, _ payload: [String: String] = [:]) -> NewEvent {
        var payload = payload
        payload["lead_id"] = leadId
        return NewEvent(type: type, subjectType: "lead", subjectId: leadId, payload: payload)
    }
}

/// Appends domain events in the caller's transaction, numbering them 1, 2, 3... per tenant
/// with no gaps, so a stream can resume from the last sequence it saw.
public struct EventLog: Sendable {
    let engine: Database.Engine
    /// Rows per INSERT statement (7 binds each, well under both engines' bind limits).
    static let rowsPerStatement = 500

    @discardableResult
    public func append(_ events: [NewEvent], tenantId: String, on db: any SQLDatabase, now: Date) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        // SQLite transactions are already serialised; PostgreSQL ones take the tenant's event lock.
        if engine == .postgres {
            try await db.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: "events:" + tenantId)))").run()
        }
        let last = try await db.raw("SELECT MAX(seq) AS seq FROM events WHERE tenant_id = \(bind: tenantId)")
            .first()?.decode(column: "seq", as: Int?.self) ?? 0
        var seq = last
        for chunk in stride(from: 0, to: events.count, by: Self.rowsPerStatement) {
            let insert = db.insert(into: "events")
                .columns("tenant_id", "seq", "type", "subject_type", "subject_id", "payload", "created_at")
            for event in events[chunk..<min(chunk + Self.rowsPerStatement, events.count)] {
                seq += 1
                let payload = String(decoding: try JSONEncoder.bookline.encode(event.payload), as: UTF8.self)
                insert.values(
                    SQLBind(tenantId), SQLBind(seq), SQLBind(event.type), SQLBind(event.subjectType),
                    SQLBind(event.subjectId), SQLBind(payload), SQLBind(now)
                )
            }
            try await insert.run()
        }
        CommittedEvents.current?.record(tenantId)
        if engine == .postgres {
            // Delivered at commit to every instance's listener (PostgresEventListener).
            try await db.raw("SELECT pg_notify(\(bind: PostgresEventListener.channel), \(bind: tenantId))").run()
        }
        return seq
    }
}
