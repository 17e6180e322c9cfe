import BooklineCore
import Foundation
import Hummingbird
import HTTPTypes
import NIOCore
import SQLKit

/// `Idempotency-Key` on authenticated writes: the first answer to a key is stored for 24 hours
/// and replayed for a retry with the same body; the same key with another body is 422, and a
/// retry while the first is still running is 409. Keys are scoped to the tenant (or caller).
struct IdempotencyMiddleware<Context: RequestContext>: RouterMiddleware {
    let services: AppServices
    let scope: @Sendable (Context) -> String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard [.post, .patch, .put, .delete].contains(request.method), let key = try IdempotencyStore.key(in: request),
              let scope = scope(context)
        else { return try await next(request, context) }

        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        let requestHash = APIKeyFormat.sha256Hex("\(request.method) \(request.uri.path)\n" + String(buffer: body))
        let store = services.idempotency
        let now = services.now()
        switch try await store.begin(scope: scope, key: key, requestHash: requestHash, now: now) {
        case .replay(let stored):
            return IdempotencyStore.response(stored, replayed: true)
        case .inProgress:
            var problem = Problem(
                status: .conflict, slug: "idempotency-key-in-use", title: "Request in progress",
                detail: "A request with this Idempotency-Key is still being processed; retry shortly."
            )
            problem.headers["Retry-After"] = "5"
            throw problem
        case .started:
            break
        }
        let response: Response
        let services = services
        let renewal = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: IdempotencyStore.renewEvery)
                try? await store.renew(scope: scope, key: key, now: services.now())
            }
        }
        defer { renewal.cancel() }
        do {
            response = try await next(request, context)
        } catch {
            // Failures are not stored, so the client may retry with the same key.
            try? await store.abandon(scope: scope, key: key)
            throw error
        }
        let sink = CollectingWriter.Sink()
        try await response.body.write(CollectingWriter(sink: sink))
        let stored = IdempotencyStore.Stored(status: Int(response.status.code), body: Data(buffer: sink.buffer))
        try await store.finish(scope: scope, key: key, stored: stored, now: services.now())
        var replay = response
        replay.body = .init(byteBuffer: sink.buffer)
        return replay
    }
}

/// Collects a response body in memory (writes are consumed, so the bytes land in a sink).
struct CollectingWriter: ResponseBodyWriter {
    final class Sink {
        var buffer = ByteBuffer()
    }

    let sink: Sink

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        sink.buffer.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
