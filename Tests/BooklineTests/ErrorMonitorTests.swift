@testable import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// A local stand-in for a Slack incoming webhook: records every body it is sent.
final class FakeSlack: Sendable {
    let received = Mutex<[String]>([])
    var texts: [String] { received.withLock { $0 } }
    /// Answers for the first requests (then 200): a Slack that is down for a while.
    let failures: Mutex<[HTTPResponse.Status]>
    let attempts = Mutex(0)

    init(failing failures: [HTTPResponse.Status] = []) {
        self.failures = Mutex(failures)
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        router.post("hooks/test") { request, _ -> Response in
            self.attempts.withLock { $0 += 1 }
            if let failure = self.failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
                return Response(status: failure, headers: failure == .tooManyRequests ? [.retryAfter: "0"] : [:])
            }
            let json = try await request.body.collect(upTo: 1 << 16)
            let text = (try? JSONDecoder().decode([String: String].self, from: Data(buffer: json)))?["text"] ?? "<not json>"
            self.received.withLock { $0.append(text) }
            return Response(status: .ok)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in try await body("http://127.0.0.1:\(client.port!)/hooks/test") }
    }

    /// Waits (up to 5 s) until `count` alerts have arrived.
    func waitFor(_ count: Int) async throws -> [String] {
        for _ in 0..<100 where texts.count < count { try await Task.sleep(for: .milliseconds(50)) }
        return texts
    }
}

final class RecordingNotifier: AlertNotifier {
    let sent = Mutex<[Alert]>([])
    func send(_ alert: Alert) async { sent.withLock { $0.append(alert) } }
}

@Suite("Error monitoring: error_logs, thresholds, alert rate limits, error stats")
struct ErrorMonitorTests {
    static func report(_ type: String = "sms_send_failed", severity: ErrorSeverity = .error, tenantId: String? = nil) -> ErrorReport {
        ErrorReport(tenantId: tenantId, service: "messaging", errorType: type, message: "send failed", severity: severity)
    }

    @Test func elevenErrorsInFiveMinutesAlertButTenDoNot() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_790_000_000))
        try await withApp(now: clock.closure) { _, services in
            for index in 1...10 {
                #expect(await services.errors.record(Self.report()).isEmpty, "error \(index)")
                clock.advance(by: 20)
            }
            let alerts = await services.errors.record(Self.report())
            #expect(alerts.map(\.type) == ["error_rate"])
            #expect(alerts.first?.message == "11 errors in the last 5 minutes; latest sms_send_failed in messaging")
            let stored = try await services.database.sql.raw("SELECT COUNT(*) AS n FROM error_logs").first()
            #expect(try stored?.decode(column: "n", as: Int.self) == 11)

            // Errors spread wider than the window never reach the threshold.
            clock.advance(by: 3600)
            for _ in 1...20 {
                #expect(await services.errors.record(Self.report("other")).isEmpty)
                clock.advance(by: 31)
            }
        }
    }

    @Test func alertsOfOneTypeAreSentOncePerFifteenMinutesWithTheSuppressedCount() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_790_000_000))
        try await withApp(now: clock.closure) { _, services in
            let first = await services.errors.record(Self.report("database_unreachable", severity: .critical))
            #expect(first.map(\.type) == ["critical:database_unreachable"])
            #expect(first.first?.suppressed == 0)
            clock.advance(by: 60)
            #expect(await services.errors.record(Self.report("database_unreachable", severity: .critical)).isEmpty)
            #expect(await services.errors.record(Self.report("database_unreachable", severity: .critical)).isEmpty)
            // Another type is another alert.
            #expect(await services.errors.record(Self.report("disk_full", severity: .critical)).map(\.type) == ["critical:disk_full"])
            clock.advance(by: 15 * 60)
            let later = await services.errors.record(Self.report("database_unreachable", severity: .critical))
            #expect(later.map(\.type) == ["critical:database_unreachable"])
            #expect(later.first?.suppressed == 2)
            #expect(PlatformAlertNotifier.text(later[0]).hasSuffix("— 2 similar alert(s) suppressed since the last one"))
        }
    }

    @Test func alertsReachSlackAndTheLog() async throws {
        let slack = FakeSlack()
        let logs = LogCapture()
        try await slack.run { url in
            try await withApp(configure: { $0.slackWebhookURL = url }, logs: logs) { _, services in
                await services.errors.record(Self.report("database_unreachable", severity: .critical))
                let texts = try await slack.waitFor(1)
                #expect(texts.count == 1)
                #expect(texts.first?.hasPrefix("[CRITICAL ALERT] Critical error: database_unreachable: messaging: send failed") == true)
                #expect(logs.all.contains { $0.hasPrefix("critical [CRITICAL ALERT] Critical error: database_unreachable") })
            }
        }
    }

    @Test func anAlertIsRetriedUntilSlackTakesItAndDeliveredOnce() async throws {
        let slack = FakeSlack(failing: [.internalServerError, .tooManyRequests, .badGateway])
        let logs = LogCapture()
        try await slack.run { url in
            var config = AppConfig()
            config.slackWebhookURL = url
            let notifier = PlatformAlertNotifier(config: config, logger: logs.logger,
                                                 retryDelays: [.milliseconds(10), .milliseconds(10), .milliseconds(10)])
            let alert = Alert(type: "error_rate", title: "Error rate", message: "12 errors", suppressed: 0, at: Date())
            await notifier.send(alert)
            #expect(slack.texts == [PlatformAlertNotifier.text(alert)], "delivered exactly once")
            #expect(slack.attempts.withLock { $0 } == 4)
            #expect(logs.all.filter { $0.contains("alert not delivered to Slack; retrying") }.count == 3)
        }
        // A permanent refusal (a revoked webhook: 404) is not retried.
        let gone = FakeSlack(failing: [.notFound])
        try await gone.run { url in
            var config = AppConfig()
            config.slackWebhookURL = url
            let notifier = PlatformAlertNotifier(config: config, logger: logs.logger, retryDelays: [.milliseconds(10)])
            await notifier.send(Alert(type: "error_rate", title: "Error rate", message: "12 errors", suppressed: 0, at: Date()))
            #expect(gone.attempts.withLock { $0 } == 1)
            #expect(gone.texts.isEmpty)
        }
    }

    @Test func recordingWhileTheDatabaseIsDownStillLogsTheError() async throws {
        let logs = LogCapture()
        try await withApp { _, services in
            let closed = try await Database.open(services.config, logger: quietLogger)
            await closed.close()
            let notifier = RecordingNotifier()
            let monitor = ErrorMonitor(database: closed, logger: logs.logger, now: Date.init, notifier: notifier)
            let alerts = await monitor.record(ErrorReport(service: "database", errorType: "database_unreachable",
                                                          message: "probe failed 3 times", severity: .critical))
            #expect(alerts.count == 1)
            let fallback = logs.all.first { $0.contains("[ERROR LOG FALLBACK] probe failed 3 times") }
            #expect(fallback?.contains("error_type=database_unreachable") == true)
            #expect(fallback?.contains("severity=critical") == true)
        }
    }

    @Test func secretsAreScrubbedBeforeTheyAreStoredOrLogged() async throws {
        let logs = LogCapture()
        try await withApp(logs: logs) { _, services in
            await services.errors.record(ErrorReport(
                service: "messaging", errorType: "smtp_send_failed",
                message: "smtps://mailer:hunter2@smtp.example.com refused; key bk_live_abcDEF123 Bearer eyJhbGciOi.x.y token=zzz",
                severity: .error, context: ["password": "hunter2", "host": "smtp.example.com"]
            ))
            let row = try await services.database.sql.raw("SELECT message, context FROM error_logs").first()
            let message = try #require(try row?.decode(column: "message", as: String.self))
            #expect(message == "smtps://[redacted]@smtp.example.com refused; key bk_live_[redacted] Bearer [redacted] token=[redacted]")
            #expect(try row?.decode(column: "context", as: String.self) == #"{"host":"smtp.example.com","password":"[redacted]"}"#)
            #expect(!logs.all.contains { $0.contains("hunter2") || $0.contains("abcDEF123") })
        }
    }

    struct Boom: Error {}

    @Test func unhandledErrorsAreRecordedAndCounted() async throws {
        try await TestDatabase.withFresh { config in
            let services = try await AppServices.make(config: config, logger: quietLogger)
            let router = try buildRouter(services)
            router.get("boom") { _, _ -> String in throw Boom() }
            let app = Application(router: router)
            try await app.test(.router) { client in
                let response = try await client.execute(uri: "/boom", method: .get)
                #expect(response.status == .internalServerError)
                #expect(try response.problem()["detail"] == nil || !String(buffer: response.body).contains("Boom"))
                let row = try await services.database.sql.raw("SELECT error_type, request_id, severity FROM error_logs").first()
                #expect(try row?.decode(column: "error_type", as: String.self) == "unhandled:BooklineTests.ErrorMonitorTests.Boom")
                #expect(try row?.decode(column: "request_id", as: String.self) == response.headers[.requestId])
                #expect(try row?.decode(column: "severity", as: String.self) == "error")
                let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                #expect(metrics.contains(#"bookline_errors_total{severity="error"}"#))
            }
            await services.database.close()
        }
    }

    @Test func errorStatsForAdminsAndOwners() async throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_790_001_000)) // 14:30 UTC
        try await withApp(now: clock.closure) { client, services in
            let a = try await services.makeTenant("A Dental")
            let b = try await services.makeTenant("B Salon")
            // A forged webhook is recorded against its tenant.
            let forged = try await client.vapi(a.id, Vapi.statusUpdate("c1", status: "ringing"), auth: .signature("nope-nope-nope-nope"))
            #expect(forged.status == .forbidden)
            clock.advance(by: 1)
            await services.errors.record(Self.report("sms_send_failed", tenantId: a.id))
            clock.advance(by: -3601)
            await services.errors.record(Self.report("sms_send_failed", tenantId: b.id))
            await services.errors.record(Self.report("database_unreachable", severity: .critical))
            clock.advance(by: 3601)

            let admin = try await services.makePlatformUser(role: .platformAdmin)
            let adminToken = try await login(client, email: admin.email, password: admin.password)
            let all = try await client.request(.get, "/api/error-stats", key: adminToken).json()
            #expect(all["total"] as? Int == 4)
            #expect(all["bySeverity"] as? [String: Int] == ["warning": 1, "error": 2, "critical": 1])
            let top = (all["topErrorTypes"] as? [[String: Any]] ?? []).map { "\($0["errorType"] as! String)=\($0["count"] as! Int)" }
            #expect(top == ["sms_send_failed=2", "database_unreachable=1", "webhook_rejected=1"])
            let hourly = try #require(all["hourly"] as? [[String: Any]])
            #expect(hourly.count == 24)
            #expect(hourly.suffix(2).map { $0["count"] as? Int } == [2, 2])
            #expect(hourly.last?["hour"] as? String == "2026-09-21T14:00:00Z")
            #expect((all["lastOccurrence"] as? [String: Any])?["errorType"] as? String == "sms_send_failed")

            let ownerToken = try await login(client, email: a.ownerEmail, password: a.ownerPassword)
            let own = try await client.request(.get, "/api/error-stats", key: ownerToken).json()
            #expect(own["total"] as? Int == 2)
            #expect(own["tenantId"] as? String == a.id)
            let other = try await client.request(.get, "/api/error-stats?tenantId=\(b.id)", key: ownerToken)
            #expect(other.status == .notFound)
            let key = try await client.request(.get, "/api/error-stats", key: a.key)
            #expect(key.status == .forbidden)
            let bad = try await client.request(.get, "/api/error-stats?hours=0", key: adminToken)
            #expect(try bad.problem()["errors"].debugDescription.contains("hours"))
            #expect(try await client.request(.get, "/api/error-stats").status == .unauthorized)
        }
    }
}
