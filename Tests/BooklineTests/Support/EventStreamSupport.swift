import AsyncHTTPClient
import Bookline
import Foundation
import Glibc
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
        let app = try await buildApplicationOrClose(services)
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

/// An event stream opened over a plain socket, so a test can hang up the way a browser tab
/// does (the socket closes; nothing is said to the server).
struct RawEventStream {
    let socket: Int32

    static func open(port: Int, key: String) throws -> RawEventStream {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { Glibc.close(fd); throw POSIXError(.ECONNREFUSED) }
        let request = "GET /api/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(key)\r\nAccept: text/event-stream\r\n\r\n"
        _ = request.withCString { Glibc.send(fd, $0, strlen($0), 0) }
        // Wait for the response head, so the server has taken the stream's place.
        var buffer = [UInt8](repeating: 0, count: 1024)
        let read = Glibc.recv(fd, &buffer, buffer.count, 0)
        guard read > 0, String(decoding: buffer[..<read], as: UTF8.self).hasPrefix("HTTP/1.1 200") else {
            Glibc.close(fd)
            throw POSIXError(.EPROTO)
        }
        return RawEventStream(socket: fd)
    }

    func hangUp() { Glibc.close(socket) }
}
