import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SQLKit

/// The tenant's domain events: `GET /api/events?after=` pages them for polling clients, and
/// `GET /api/events/stream` pushes them as Server-Sent Events (id = the event's sequence, so
/// `Last-Event-ID` resumes exactly after the last one seen), with a heartbeat comment.
struct EventRoutes {
    static let streamPath = "/api/events/stream"
    static let pageLimit = 500

    let services: AppServices

    struct EventView: Codable, Sendable {
        let seq: Int
        let type: String
        let subjectType: String?
        let subjectId: String?
        let payload: [String: String]
        let createdAt: Date
    }

    struct EventPage: ResponseEncodable {
        let items: [EventView]
        /// Pass as `after` to get the next events; the same value when there were none.
        let nextAfter: Int
    }

    struct TokenView: ResponseEncodable {
        let token: String
        let expiresIn: Int
        let streamUrl: String
    }

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("events", use: list)
        group.post("events/stream-token", use: streamToken)
        group.get("events/stream", use: stream)
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> EventPage {
        let query = request.uri.queryParameters
        var errors: [Problem.FieldError] = []
        let after = Self.sequence(query["after"].map(String.init), field: "after", errors: &errors) ?? 0
        var limit = 100
        if let text = query["limit"] {
            if let value = Int(text), (1...Self.pageLimit).contains(value) { limit = value } else {
                errors.append(.init(field: "limit", message: "must be a whole number from 1 to \(Self.pageLimit)"))
            }
        }
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let items = try await Self.read(tenantId: context.tenant.tenantId, after: after, limit: limit, on: services.database.sql)
        return EventPage(items: items, nextAfter: items.last?.seq ?? after)
    }

    @Sendable func streamToken(_ request: Request, context: TenantRequestContext) async throws -> TokenView {
        let tenant = context.tenant
        let auth = Authentication(principal: tenant.principal, tenantId: tenant.tenantId, scopes: tenant.scopes, method: "stream_token")
        let token = try StreamToken(box: services.box).issue(for: auth, tenantId: tenant.tenantId, now: services.now())
        return TokenView(token: token, expiresIn: Int(StreamToken.lifetime), streamUrl: "\(Self.streamPath)?token=\(token)")
    }

    @Sendable func stream(_ request: Request, context: TenantRequestContext) async throws -> Response {
        var errors: [Problem.FieldError] = []
        let header: String? = request.headers[.lastEventID]
        let query: String? = request.uri.queryParameters["after"].map { String($0) }
        let resume = Self.sequence(header ?? query, field: header != nil ? "Last-Event-ID" : "after", errors: &errors)
        guard errors.isEmpty else { throw Problem.validation(errors) }
        let tenantId = context.tenant.tenantId
        let db = services.database.sql
        let limit = services.tiers.tier(context.tenant.tier).eventStreams
        let bus = services.database.eventBus
        let heartbeat = Duration.milliseconds(Int64(services.config.eventHeartbeatSeconds * 1000))
        var subscription = bus.subscribe(tenantId: tenantId, limit: limit, heartbeat: heartbeat)
        if subscription == nil {
            // At the cap: streams whose clients left (a page reload) only notice when they next
            // write, and a first write to a closed socket can still succeed (the peer answers it
            // with a reset). Make them write twice, then look again.
            for _ in 0..<2 {
                bus.probe(tenantId: tenantId)
                try await Task.sleep(for: .milliseconds(120))
            }
            subscription = bus.subscribe(tenantId: tenantId, limit: limit, heartbeat: heartbeat)
        }
        guard let subscription else {
            var problem = Problem(status: .tooManyRequests, slug: "too-many-streams", title: "Too many event streams",
                                  detail: "This account already has \(limit) open event streams (its tier's limit). Close one first.")
            problem.headers["Retry-After"] = "5"
            throw problem
        }
        // Subscribed before reading, so nothing committed in between is missed.
        var start = resume ?? 0
        if resume == nil {
            start = try await db.raw("SELECT MAX(seq) AS seq FROM events WHERE tenant_id = \(bind: tenantId)").first()?
                .decode(column: "seq", as: Int?.self) ?? 0
        }
        let tenants = services.tenants
        let first = start
        return Response(status: .ok, headers: [
            .contentType: "text/event-stream", .cacheControl: "no-cache", HTTPField.Name("X-Accel-Buffering")!: "no",
        ], body: ResponseBody { writer in
            defer { bus.unsubscribe(tenantId: tenantId, id: subscription.id) }
            var last = first
            try await writer.write(ByteBuffer(string: "retry: 3000\n\n"))
            last = try await Self.flush(tenantId: tenantId, after: last, on: db, to: &writer)
            for await wake in subscription.wakes {
                if wake == .heartbeat {
                    // A deleted or suspended tenant's stream ends at the next heartbeat.
                    guard try await tenants.find(id: tenantId)?.status == .active else { break }
                    try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                }
                last = try await Self.flush(tenantId: tenantId, after: last, on: db, to: &writer)
            }
            try await writer.finish(nil)
        })
    }

    /// Writes every event after `after` as SSE frames; returns the last sequence written.
    static func flush(tenantId: String, after: Int, on db: any SQLDatabase, to writer: inout any ResponseBodyWriter) async throws -> Int {
        var last = after
        while true {
            let events = try await read(tenantId: tenantId, after: last, limit: pageLimit, on: db)
            guard !events.isEmpty else { return last }
            var frames = ""
            for event in events {
                let data = String(decoding: try JSONEncoder.bookline.encode(event), as: UTF8.self)
                frames += "id: \(event.seq)\nevent: \(event.type)\ndata: \(data)\n\n"
            }
            try await writer.write(ByteBuffer(string: frames))
            last = events.last!.seq
            if events.count < pageLimit { return last }
        }
    }

    static func read(tenantId: String, after: Int, limit: Int, on db: any SQLDatabase) async throws -> [EventView] {
        try await db.raw("""
            SELECT seq, type, subject_type, subject_id, payload, created_at FROM events
            WHERE tenant_id = \(bind: tenantId) AND seq > \(bind: after) ORDER BY seq LIMIT \(literal: limit)
            """).all().map { row in
            let payload = try row.decode(column: "payload", as: String.self)
            return EventView(seq: try row.decode(column: "seq", as: Int.self), type: try row.decode(column: "type", as: String.self),
                             subjectType: try row.decode(column: "subject_type", as: String?.self),
                             subjectId: try row.decode(column: "subject_id", as: String?.self),
                             payload: (try? JSONDecoder().decode([String: String].self, from: Data(payload.utf8))) ?? [:],
                             createdAt: try row.decode(column: "created_at", as: Date.self))
        }
    }

    /// An event sequence from a query or `Last-Event-ID`: a whole number from 0.
    static func sequence(_ text: String?, field: String, errors: inout [Problem.FieldError]) -> Int? {
        guard let text else { return nil }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
            errors.append(.init(field: field, message: "must be an event sequence number (a whole number from 0)"))
            return nil
        }
        return value
    }
}

extension HTTPField.Name {
    static let lastEventID = HTTPField.Name("Last-Event-ID")!
}
