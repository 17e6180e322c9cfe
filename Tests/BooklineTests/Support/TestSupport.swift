import Bookline
import BooklineCore
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
        config.passwordHashing = .testing
        // Tests sweep the outbox themselves, so a background sweep never races them.
        config.runsSender = false
        config.runsWorker = false
        // A probe still running when a quick test ends would outlive the pool it uses.
        config.runsDatabaseProbe = false
        config.masterKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
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
    mailer: RecordingAccountMailer? = nil,
    _ body: @escaping @Sendable (any TestClientProtocol, AppServices) async throws -> T
) async throws -> T {
    try await TestDatabase.withFresh { base in
        var config = base
        configure(&config)
        var made = try await AppServices.make(config: config, logger: logs?.logger ?? quietLogger, now: now)
        if let mailer { made.accountMailer = mailer }
        let services = made
        let app = try await buildApplicationOrClose(services)
        return try await app.test(.router) { client in
            try await body(client, services)
        }
    }
}

/// The app's lifecycle closes the database pool; when building the app fails nothing would,
/// and AsyncKit traps on a pool that is never shut down, so the failure closes it here.
func buildApplicationOrClose(_ services: AppServices) async throws -> some ApplicationProtocol {
    do {
        return try buildApplication(services)
    } catch {
        await services.database.close()
        throw error
    }
}

/// A tenant made for a test, with an owner login and an all-scopes API key.
struct TestTenant: Sendable {
    let tenant: Tenant
    let key: String
    let keyId: String
    let ownerEmail: String
    let ownerPassword: String
    var id: String { tenant.id }
    var slug: String { tenant.slug }
}

extension AppServices {
    /// Creates an active tenant, its owner and an API key directly through the stores.
    func makeTenant(_ name: String = "Smile Dental", scopes: [String] = Scope.allNames.sorted()) async throws -> TestTenant {
        let now = now()
        let tenant = try await tenants.create(.init(businessName: name, industry: "dental"), now: now)
        let email = "owner-\(tenant.id.suffix(8))@example.com"
        let password = "correct-horse-battery-42"
        _ = try await users.create(
            tenantId: tenant.id, email: try EmailAddress.parse(email).get(), passwordHash: try await hasher.hash(password),
            role: .owner, verified: true, now: now
        )
        let key = APIKeyFormat.generate(.live)
        let record = try await apiKeys.create(
            tenantId: tenant.id, name: "test", key: key, scopes: scopes, expiresAt: nil, createdBy: nil, now: now
        )
        return TestTenant(tenant: tenant, key: key.key, keyId: record.id, ownerEmail: email, ownerPassword: password)
    }

    /// Creates a platform user and returns its email and password.
    func makePlatformUser(role: Role = .platformAdmin) async throws -> (email: String, password: String) {
        let email = "\(role.rawValue)-\(UUID().uuidString.prefix(8).lowercased())@bookline.example"
        let password = "platform-password-\(UUID().uuidString.prefix(6))"
        _ = try await users.create(
            tenantId: nil, email: try EmailAddress.parse(email).get(), passwordHash: try await hasher.hash(password),
            role: role, verified: true, now: now()
        )
        return (email, password)
    }
}

extension TestClientProtocol {
    /// A request with `key` (an API key or access token) as the bearer credential.
    @discardableResult
    func request(
        _ method: HTTPRequest.Method, _ uri: String, key: String? = nil,
        headers: HTTPFields = [:], json: String? = nil
    ) async throws -> TestResponse {
        var headers = headers
        if let key { headers[.authorization] = "Bearer \(key)" }
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

/// Logs in through the API and returns the access token.
func login(_ client: any TestClientProtocol, email: String, password: String) async throws -> String {
    let response = try await client.request(
        .post, "/api/auth/login", json: #"{"email": "\#(email)", "password": "\#(password)"}"#
    )
    guard response.status == .ok, let token = try response.json()["accessToken"] as? String else {
        throw JSONShapeError(text: "login failed: \(response.status) \(response.text)")
    }
    return token
}
