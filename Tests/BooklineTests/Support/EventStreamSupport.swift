import AsyncHTTPClient
import Bookline
import Foundation
import HummingbirdTesting
import NIOCore

/// The real server on a free port (event streams never end, so the router test client, which
/// waits for a whole body, cannot read them).
func withLiveApp<T: Sendable>(
    configure: (inout AppConfig) -> Void = { _ in },
    now: @escaping @Sendable () -> Date = Date.init,
    _ body: @escaping @Sendable (any TestClientProtocol, AppServices, String) async throws -> T
) async throws -> T {
    try await TestDatabase.withFresh { base in
        var config = base
        config.host = "127.0.0.1"
        config.port = 0
        configure(&config)
        let services = try await AppServices.make(config: config, logger: quietLogger, now: now)
        let app = try buildApplication(services)
        return try await app.test(.live) { client in
            try await body(client, services, "http://127.0.0.1:\(client.port!)")
        }
    }
}

/// Reads a Server-Sent Events response frame by frame.
final class SSEReader: @unchecked Sendable {
    struct Frame: Equatable {
        var id: String?
        var event: String?
        var data: String?
        var comment: String?
    }

    let status: Int
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private var buffer = ""

    static func open(_ url: String, headers: [(String, String)] = []) async throws -> SSEReader {
        var request = HTTPClientRequest(url: url)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return SSEReader(status: Int(response.status.code), iterator: response.body.makeAsyncIterator())
    }

    private init(status: Int, iterator: HTTPClientResponse.Body.AsyncIterator) {
        self.status = status
        self.iterator = iterator
    }

    /// The next frame, or nil when the stream ends or nothing arrives within `timeout`.
    func next(timeout: Duration = .seconds(5)) async throws -> Frame? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let range = buffer.range(of: "\n\n") {
                let block = String(buffer[..<range.lowerBound])
                buffer.removeSubrange(..<range.upperBound)
                var frame = Frame()
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix(":") { frame.comment = line.dropFirst().trimmingCharacters(in: .whitespaces); continue }
                    let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard parts.count == 2 else { continue }
                    switch parts[0] {
                    case "id": frame.id = parts[1]
                    case "event": frame.event = parts[1]
                    case "data": frame.data = parts[1]
                    default: break
                    }
                }
                return frame
            }
            guard ContinuousClock.now < deadline else { return nil }
            let chunk = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
                let box = UnsafeIterator(self)
                group.addTask { try await box.reader.iterator.next() }
                group.addTask { try await Task.sleep(until: deadline); throw CancellationError() }
                defer { group.cancelAll() }
                return try await group.next()!
            }
            guard let chunk else { return nil }
            buffer += String(buffer: chunk)
        }
    }

    /// Frames until one with data matching `predicate` (events only, comments skipped).
    func event(timeout: Duration = .seconds(5), where predicate: (Frame) -> Bool = { _ in true }) async throws -> Frame? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let frame = try await next(timeout: deadline - ContinuousClock.now) else { return nil }
            if frame.event != nil, predicate(frame) { return frame }
        }
        return nil
    }

    private struct UnsafeIterator: @unchecked Sendable {
        let reader: SSEReader
        init(_ reader: SSEReader) { self.reader = reader }
    }
}
