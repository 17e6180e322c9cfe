import Bookline
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SQLKit

/// The repository root, so tests read the real migrations/, public/ and openapi.yaml.
let projectRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Which engine this run tests: PostgreSQL when `BOOKLINE_TEST_DATABASE_URL` is set, else SQLite.
enum TestDatabase {
    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["BOOKLINE_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var engine: Database.Engine { postgresURL == nil ? .sqlite : .postgres }

    /// A fresh, empty database for one test: a temporary SQLite file, or a new PostgreSQL schema.
    /// `body` gets a config pointing at it; everything is removed afterwards.
    static func withFresh<T>(_ body: (AppConfig) async throws -> T) async throws -> T {
        var config = AppConfig()
        config.resourceRoot = projectRoot.path
        config.databasePoolSize = 2
        if let url = postgresURL {
            let schema = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
            config.storage = .postgres(url: url)
            let admin = try await Database.open(config, logger: quietLogger)
            try await admin.sql.raw("CREATE SCHEMA \(ident: schema)").run()
            config.postgresSchema = schema
            do {
                let result = try await body(config)
                try await admin.sql.raw("DROP SCHEMA \(ident: schema) CASCADE").run()
                await admin.close()
                return result
            } catch {
                try? await admin.sql.raw("DROP SCHEMA \(ident: schema) CASCADE").run()
                await admin.close()
                throw error
            }
        } else {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bookline-test-\(UUID().uuidString)")
            config.storage = .sqlite(path: folder.appendingPathComponent("test.sqlite").path)
            defer { try? FileManager.default.removeItem(at: folder) }
            return try await body(config)
        }
    }
}

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// Log lines captured from the application, for assertions on what is (and is not) logged.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var all: [String] { lock.withLock { lines } }

    func append(_ line: String) { lock.withLock { lines.append(line) } }

    var logger: Logger {
        var logger = Logger(label: "bookline") { _ in CapturingHandler(capture: self) }
        logger.logLevel = .debug
        return logger
    }

    struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).merging(metadata) { a, _ in a }
                .sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            capture.append("\(event.level) \(event.message) \(fields)")
        }
    }
}

/// Builds the real application on a fresh database and runs `body` against its router.
func withApp<T: Sendable>(
    configure: (inout AppConfig) -> Void = { _ in },
    logs: LogCapture? = nil,
    now: @escaping @Sendable () -> Date = Date.init,
    _ body: @escaping @Sendable (any TestClientProtocol, AppServices) async throws -> T
) async throws -> T {
    try await TestDatabase.withFresh { base in
        var config = base
        config.allowDevTenantHeader = true
        configure(&config)
        let services = try await AppServices.make(config: config, logger: logs?.logger ?? quietLogger, now: now)
        let app = try buildApplication(services)
        return try await app.test(.router) { client in
            try await body(client, services)
        }
    }
}

extension AppServices {
    /// Creates an active tenant directly in the store.
    func makeTenant(_ name: String = "Smile Dental") async throws -> Tenant {
        try await tenants.create(.init(businessName: name, industry: "dental"), now: now())
    }
}

extension TestClientProtocol {
    /// A request as tenant `tenantId` (development credential, enabled only in tests).
    @discardableResult
    func request(
        _ method: HTTPRequest.Method, _ uri: String, tenant: String? = nil,
        headers: HTTPFields = [:], json: String? = nil
    ) async throws -> TestResponse {
        var headers = headers
        if let tenant { headers[DevelopmentHeaderResolver.header] = tenant }
        if json != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
            throw JSONShapeError(text: text)
        }
        return object
    }

    /// Asserts the shape every error shares and returns the body.
    func problem() throws -> [String: Any] {
        guard headers[.contentType] == "application/problem+json" else {
            throw JSONShapeError(text: "content-type \(headers[.contentType] ?? "none"): \(text)")
        }
        let body = try json()
        guard body["type"] is String, body["title"] is String, body["status"] as? Int == Int(status.code),
              let requestId = body["request_id"] as? String, requestId == headers[HTTPField.Name("X-Request-Id")!]
        else { throw JSONShapeError(text: text) }
        return body
    }
}

struct JSONShapeError: Error, CustomStringConvertible {
    let text: String
    var description: String { "unexpected body: \(text)" }
}

extension HTTPField.Name {
    static let requestId = HTTPField.Name("X-Request-Id")!
}
