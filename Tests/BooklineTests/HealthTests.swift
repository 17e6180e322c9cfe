import Bookline
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("GET /health")
struct HealthTests {
    @Test func reportsEveryBlockWithoutSecrets() async throws {
        try await withApp(configure: {
            $0.twilio = TwilioDefaults(accountSid: "AC" + String(repeating: "0", count: 32), authToken: "test-token", fromNumber: "+447400100999")
            $0.masterKey = Data(repeating: 7, count: 32)
        }) { client, _ in
            let response = try await client.request(.get, "/health")
            #expect(response.status == .ok)
            #expect(response.headers[.cacheControl] == "no-store")
            let body = try response.json()
            #expect(body["status"] as? String == "ok")
            #expect(body["version"] as? String == BooklineVersion.current)
            #expect(body["uptime_seconds"] is Int)
            let memory = try #require(body["memory"] as? [String: Any])
            #expect((memory["rss_bytes"] as? Int ?? 0) > 1_000_000)

            let database = try #require(body["database"] as? [String: Any])
            #expect(database["engine"] as? String == TestDatabase.engine.rawValue)
            #expect(database["status"] as? String == "ok")
            #expect(database["consecutive_failures"] as? Int == 0)
            #expect(database["response_time_ms"] is Double)
            let applied = try #require(database["migrations_applied"] as? Int)
            let files = try FileManager.default.contentsOfDirectory(atPath: projectRoot.appendingPathComponent("migrations").path)
                .filter { $0.hasSuffix(".sql") && (TestDatabase.engine == .postgres || !$0.hasSuffix(".postgres.sql")) }
            #expect(applied == files.count)
            // The test role is an ordinary one (scripts/pg-throwaway), so the policies bind it.
            #expect(database["row_level_security"] as? String == (TestDatabase.engine == .postgres ? "enforced" : nil))

            let messaging = try #require(body["messaging"] as? [String: [String: Any]])
            #expect(messaging["sms"]?["configured"] as? Bool == true)
            #expect(messaging["sms"]?["mode"] as? String == "live")
            #expect(messaging["email"]?["configured"] as? Bool == false)
            #expect(messaging["email"]?["mode"] as? String == "simulation")
            let services = try #require(body["services"] as? [String: [String: Bool]])
            #expect(services["encryption"]?["configured"] == true)
            #expect(services["voice_ai"]?["configured"] == false)
        }
    }

    @Test func deadDatabaseBecomesCriticalAnd503() async throws {
        let logs = LogCapture()
        try await withApp(configure: {
            // Nothing listens on port 1: every probe fails fast with "connection refused".
            $0.storage = .postgres(url: "postgres://bookline:hunter2@127.0.0.1:1/bookline")
            $0.postgresSchema = nil
            $0.migrateOnStart = false
            $0.databaseProbeInterval = 0.05
            $0.runsDatabaseProbe = true
        }, logs: logs) { client, services in
            var status = 0
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                if services.databaseHealth.current.consecutiveFailures >= 3 {
                    let response = try await client.request(.get, "/health")
                    status = Int(response.status.code)
                    let body = try response.json()
                    #expect(body["status"] as? String == "critical")
                    let database = try #require(body["database"] as? [String: Any])
                    #expect(database["status"] as? String == "critical")
                    #expect((database["consecutive_failures"] as? Int ?? 0) >= 3)
                    #expect(!response.text.contains("hunter2"))
                    break
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(status == 503)
            #expect(logs.all.contains { $0.contains("[DB HEALTH] database is critical") })
            #expect(!logs.all.joined().contains("hunter2"))
        }
    }

    @Test func oneFailedProbeIsDegradedAndRecoveryIsOk() async throws {
        try await withApp(configure: { $0.databaseProbeInterval = 3600 }) { client, services in
            let healthy = await services.databaseHealth.probe()
            #expect(healthy.status == .ok)
            await services.database.close()
            let failing = await services.databaseHealth.probe()
            #expect(failing.status == .degraded)
            #expect(failing.consecutiveFailures == 1)
            let response = try await client.request(.get, "/health")
            #expect(response.status == .ok)
            #expect(try response.json()["status"] as? String == "degraded")
        }
    }
}
