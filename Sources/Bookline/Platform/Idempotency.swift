import BooklineCore
import Foundation
import Hummingbird
import HTTPTypes
import SQLKit

/// Stripe-style `Idempotency-Key`: the first response to a key is stored (sealed, since it may
/// hold a secret shown once) for 24 hours; the same key with the same body replays it, the same
/// key with a different body is refused with 422.
public struct IdempotencyStore: Sendable {
    public static let header = HTTPField.Name("Idempotency-Key")!
    public static let lifetime: TimeInterval = 24 * 3600
    /// How long a claim on a key lasts without renewal. The request holding it renews it every
    /// `renewEvery` while it runs; a process killed mid-request stops renewing, so its claim
    /// lapses within seconds and the client's retry runs again.
    public static let pendingLease: TimeInterval = 10
    public static let renewEvery: Duration = .seconds(3)

    public struct Stored: Sendable {
        public let status: Int
        public let body: Data
    }

    let database: Database
    let box: SecretBox

    /// Reads and checks the header: 1 to 255 printable ASCII characters.
    public static func key(in request: Request) throws -> String? {
        guard let value = request.headers[header] else { return nil }
        guard (1...255).contains(value.utf8.count), value.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw Problem.validation(field: "Idempotency-Key", "must be 1 to 255 printable ASCII characters")
        }
        return value
    }

    public static func requestHash(_ body: ByteBuffer) -> String {
        APIKeyFormat.sha256Hex(String(buffer: body))
    }

    /// The stored response for this key, nil if none; throws 422 when the body differs.
    public func replay(scope: String, key: String, requestHash: String, now: Date) async throws -> Stored? {
        guard let row = try await database.sql.raw("""
            SELECT request_hash, status, body_sealed FROM idempotency_keys
            WHERE scope = \(bind: scope) AND idempotency_key = \(bind: key) AND expires_at > \(bind: now)
            """).first() else { return nil }
        guard try row.decode(column: "request_hash", as: String.self) == requestHash else {
            var problem = Problem(
                status: .unprocessableContent, slug: "idempotency-key-reused", title: "Idempotency key reused",
                detail: "This Idempotency-Key was already used with a different request body."
            )
            problem.errors = [.init(field: "Idempotency-Key", message: "was used with a different body")]
            throw problem
        }
        return Stored(
            status: try row.decode(column: "status", as: Int.self),
            body: try box.open(try row.decode(column: "body_sealed", as: String.self))
        )
    }

    /// Records the response, in the caller's transaction so it commits with the change.
    public func save(scope: String, key: String, requestHash: String, status: Int, body: Data, now: Date,
                     lifetime: TimeInterval = Self.lifetime, on db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM idempotency_keys WHERE scope = \(bind: scope) AND idempotency_key = \(bind: key) AND expires_at <= \(bind: now)").run()
        try await db.raw("""
            INSERT INTO idempotency_keys (scope, idempotency_key, request_hash, status, body_sealed, created_at, expires_at)
            VALUES (\(bind: scope), \(bind: key), \(bind: requestHash), \(bind: status), \(bind: try box.seal(body)),
                    \(bind: now), \(bind: now.addingTimeInterval(lifetime)))
            """).run()
    }

    public enum Start: Sendable {
        case started
        case replay(Stored)
        case inProgress
    }

    /// Claims a key for a request that runs outside a transaction: a pending row first, so a
    /// concurrent retry sees it, then `finish` stores the answer (or `abandon` frees the key).
    public func begin(scope: String, key: String, requestHash: String, now: Date) async throws -> Start {
        if let stored = try await replay(scope: scope, key: key, requestHash: requestHash, now: now) {
            return stored.status == 0 ? .inProgress : .replay(stored)
        }
        do {
            try await database.transaction { db in
                try await save(scope: scope, key: key, requestHash: requestHash, status: 0, body: Data(), now: now,
                               lifetime: Self.pendingLease, on: db)
            }
            return .started
        } catch {
            // Another request claimed the key between the look-up and the insert.
            if let stored = try await replay(scope: scope, key: key, requestHash: requestHash, now: now), stored.status != 0 {
                return .replay(stored)
            }
            return .inProgress
        }
    }

    /// Extends a running request's claim (see `pendingLease`).
    public func renew(scope: String, key: String, now: Date) async throws {
        try await database.sql.raw("""
            UPDATE idempotency_keys SET expires_at = \(bind: now.addingTimeInterval(Self.pendingLease))
            WHERE scope = \(bind: scope) AND idempotency_key = \(bind: key) AND status = 0
            """).run()
    }

    /// Stores the answer, kept for the full lifetime from now.
    public func finish(scope: String, key: String, stored: Stored, now: Date) async throws {
        try await database.sql.raw("""
            UPDATE idempotency_keys SET status = \(bind: stored.status), body_sealed = \(bind: try box.seal(stored.body)),
                   expires_at = \(bind: now.addingTimeInterval(Self.lifetime))
            WHERE scope = \(bind: scope) AND idempotency_key = \(bind: key)
            """).run()
    }

    public func abandon(scope: String, key: String) async throws {
        try await database.sql.raw("""
            DELETE FROM idempotency_keys WHERE scope = \(bind: scope) AND idempotency_key = \(bind: key) AND status = 0
            """).run()
    }

    public static func response(_ stored: Stored, replayed: Bool) -> Response {
        var headers: HTTPFields = stored.body.isEmpty ? [:] : [.contentType: "application/json"]
        if replayed { headers[HTTPField.Name("Idempotent-Replayed")!] = "true" }
        return Response(
            status: HTTPResponse.Status(code: stored.status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(bytes: stored.body))
        )
    }
}
