import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import HummingbirdTesting
import SQLKit
import Testing

@Suite("Secrets: master key, sealed keys, nothing secret in logs")
struct SecretsTests {
    @Test func productionRefusesToStartWithoutAMasterKey() async throws {
        var config = AppConfig()
        config.environment = "production"
        config.masterKey = nil
        let error = try #require(throws: ConfigError.self) {
            try SecretBox.resolveMasterKey(config: config, logger: quietLogger)
        }
        #expect(error.variable == "BOOKLINE_MASTER_KEY")
    }

    /// A database opened with another master key than the one that sealed it (a restore or a
    /// copy without its key) refuses to start with one clear line, instead of answering every
    /// sign-in with a 500.
    @Test func anotherMasterKeyThanTheDatabasesRefusesToStart() async throws {
        try await TestDatabase.withFresh { config in
            var config = config
            config.masterKey = Data(repeating: 1, count: 32)
            let first = try await AppServices.make(config: config, logger: quietLogger)
            await first.database.close()
            config.masterKey = Data(repeating: 2, count: 32)
            let error = await #expect(throws: ConfigError.self) { try await AppServices.make(config: config, logger: quietLogger) }
            #expect(error?.variable == "BOOKLINE_MASTER_KEY")
            #expect(error?.description.contains("not the key the database was sealed with") == true)
            config.masterKey = Data(repeating: 1, count: 32)
            let again = try await AppServices.make(config: config, logger: quietLogger)
            await again.database.close()
        }
    }

    @Test func developmentGeneratesOneKeyAndReusesIt() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bookline-key-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var config = AppConfig()
        config.storage = .sqlite(path: folder.appendingPathComponent("db.sqlite").path)
        let first = try SecretBox.resolveMasterKey(config: config, logger: quietLogger)
        let second = try SecretBox.resolveMasterKey(config: config, logger: quietLogger)
        #expect(first.count == 32 && first == second)
        let attributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("master.key").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func sealedValuesRoundTripAndRefuseTampering() throws {
        let box = SecretBox(keyData: Data(repeating: 9, count: 32))
        let sealed = try box.seal("twilio-auth-token")
        #expect(!sealed.contains("twilio"))
        #expect(String(decoding: try box.open(sealed), as: UTF8.self) == "twilio-auth-token")
        var bytes = Data(base64Encoded: sealed)!
        bytes[bytes.count - 1] ^= 1
        #expect(throws: (any Error).self) { try box.open(bytes.base64EncodedString()) }
        #expect(throws: (any Error).self) { try SecretBox(keyData: Data(repeating: 8, count: 32)).open(sealed) }
    }

    @Test func signingKeysAreStoredSealed() async throws {
        try await withApp { _, services in
            let row = try #require(try await services.database.sql.raw("SELECT public_key, private_key_sealed FROM signing_keys").first())
            let sealed = try row.decode(column: "private_key_sealed", as: String.self)
            #expect(try services.box.open(sealed).count == 32)
        }
    }

    @Test func noPasswordKeyOrTokenAppearsInTheLogs() async throws {
        let logs = LogCapture()
        try await withApp(logs: logs) { client, services in
            let signup = try await client.request(.post, "/api/clients/onboard", json: OnboardingTests.body())
            let key = try #require(try signup.json()["apiKey"] as? String)
            let login = try await client.request(
                .post, "/api/auth/login", json: #"{"email": "owner@smile.example", "password": "correct-horse-battery-42"}"#
            ).json()
            let access = try #require(login["accessToken"] as? String)
            let refresh = try #require(login["refreshToken"] as? String)
            try await client.request(.get, "/api/me?api_key=\(key)", key: key)
            try await client.request(.post, "/api/auth/refresh", json: #"{"refreshToken": "\#(refresh)"}"#)
            try await client.request(.post, "/api/auth/login", json: #"{"email": "owner@smile.example", "password": "wrong-but-secret-999"}"#)
            let text = logs.all.joined(separator: "\n")
            #expect(!text.isEmpty)
            for secret in [key, access, refresh, "correct-horse-battery-42", "wrong-but-secret-999"] {
                #expect(!text.contains(secret), "a secret leaked into the logs")
            }
            let audit = try await services.database.sql.raw("SELECT details FROM audit_log").all()
                .map { try $0.decode(column: "details", as: String.self) }.joined()
            for secret in [key, refresh, "correct-horse-battery-42", "wrong-but-secret-999"] {
                #expect(!audit.contains(secret))
            }
        }
    }

    @Test func lastUsedIsRecordedWithoutAWritePerRequest() async throws {
        let clock = TestClock()
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            try await client.request(.get, "/api/me", key: tenant.key)
            let first = try #require(try await services.apiKeys.find(tenantId: tenant.id, id: tenant.keyId)?.lastUsedAt)
            clock.advance(by: 10)
            try await client.request(.get, "/api/me", key: tenant.key)
            let unchanged = try await services.apiKeys.find(tenantId: tenant.id, id: tenant.keyId)?.lastUsedAt
            #expect(unchanged == first, "within a minute the stored time is not rewritten")
            clock.advance(by: 120)
            try await client.request(.get, "/api/me", key: tenant.key)
            let later = try #require(try await services.apiKeys.find(tenantId: tenant.id, id: tenant.keyId)?.lastUsedAt)
            #expect(later > first)
        }
    }
}

@Suite("Log lines")
struct LogHandlerTests {
    @Test func aLineCarriesLevelLabelMessageAndSortedMetadata() throws {
        let pipe = Pipe()
        var handler = BooklineLogHandler(label: "bookline", level: .info, fileDescriptor: pipe.fileHandleForWriting.fileDescriptor)
        handler[metadataKey: "instance"] = "a"
        handler.log(event: LogEvent(level: .info, message: "GET /health 200", metadata: ["status": "200", "path": "/health"],
                                    source: "test", file: #fileID, function: #function, line: #line))
        LogOutput.flushAll()
        try pipe.fileHandleForWriting.close()
        let line = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(line.hasSuffix(" info bookline: GET /health 200 instance=a path=/health status=200\n"))
        #expect(line.first?.isNumber == true)
    }

    @Test func errorsAreWrittenAtOnceOthersInBatches() throws {
        let pipe = Pipe()
        let handler = BooklineLogHandler(label: "bookline", level: .info, fileDescriptor: pipe.fileHandleForWriting.fileDescriptor)
        handler.log(event: LogEvent(level: .info, message: "first", metadata: nil, source: "test", file: #fileID,
                                    function: #function, line: #line))
        handler.log(event: LogEvent(level: .error, message: "broken", metadata: nil, source: "test", file: #fileID,
                                    function: #function, line: #line))
        // The error flushed both, in order, without waiting for the batch timer.
        try pipe.fileHandleForWriting.close()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("info bookline: first\n") && text.hasSuffix("error bookline: broken\n"))
    }
}
