import AsyncHTTPClient
import BooklineCore
import Foundation
import Logging
import NIOCore

/// Where critical alerts go.
public protocol AlertNotifier: Sendable {
    func send(_ alert: Alert) async
}

/// Sends alerts to `SLACK_WEBHOOK_URL` (an incoming webhook: `{"text": ...}`) and to
/// `ADMIN_EMAIL` through the platform's SMTP server. A channel that fails (a 5xx or 429, a
/// timeout, a refused mail) is tried again after each of `retryDelays` (Slack's `Retry-After`
/// when longer), in the background; alerts are never recorded as errors themselves, so a
/// broken channel cannot loop.
struct PlatformAlertNotifier: AlertNotifier {
    let config: AppConfig
    let logger: Logger
    var client: HTTPClient = .shared
    var retryDelays: [Duration] = [.seconds(2), .seconds(10), .seconds(60)]

    enum Attempt: Equatable {
        case delivered
        case retry(after: Duration?, reason: String)
        case permanent(reason: String)
    }

    func send(_ alert: Alert) async {
        let text = Self.text(alert)
        await withDiscardingTaskGroup { group in
            if let url = config.slackWebhookURL {
                group.addTask { await deliver("Slack", alert: alert) { await postToSlack(text, url: url) } }
            }
            if let to = config.adminEmail, let url = config.smtpURL, let server = SMTPServer(url: url), let from = config.emailFrom {
                let message = OutgoingMessage(
                    tenantId: "platform", id: Identifier.make(now: alert.at), channel: .email, template: nil, to: to,
                    subject: "[Bookline] CRITICAL: \(alert.title)", text: text, html: nil, statusCallback: ""
                )
                group.addTask {
                    await deliver("email", alert: alert) {
                        do {
                            _ = try await SMTPDriver(server: server, from: from, logger: logger).send(message)
                            return .delivered
                        } catch {
                            return .retry(after: nil, reason: TransientError.kind(of: error))
                        }
                    }
                }
            }
        }
    }

    /// Tries one channel until it takes the alert, gives a permanent refusal, or the retries run out.
    func deliver(_ channel: String, alert: Alert, _ attempt: () async -> Attempt) async {
        var waits = retryDelays[...]
        while true {
            switch await attempt() {
            case .delivered:
                return
            case .permanent(let reason):
                logger.error("alert not delivered to \(channel)", metadata: ["reason": "\(reason)", "alert_type": "\(alert.type)"])
                return
            case .retry(let after, let reason):
                guard let wait = waits.popFirst() else {
                    logger.error("alert not delivered to \(channel) after \(retryDelays.count + 1) attempts",
                                 metadata: ["reason": "\(reason)", "alert_type": "\(alert.type)"])
                    return
                }
                let delay = max(wait, min(after ?? .zero, .seconds(300)))
                logger.warning("alert not delivered to \(channel); retrying", metadata: [
                    "reason": "\(reason)", "alert_type": "\(alert.type)", "retry_in": "\(delay)",
                ])
                try? await Task.sleep(for: delay)
            }
        }
    }

    func postToSlack(_ text: String, url: String) async -> Attempt {
        do {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(["text": text])))
            let response = try await client.execute(request, timeout: .seconds(5))
            let status = Int(response.status.code)
            if status < 300 { return .delivered }
            let retryAfter = response.headers.first(name: "Retry-After").flatMap(Int.init).map { Duration.seconds($0) }
            if status == 429 || status >= 500 { return .retry(after: retryAfter, reason: "status \(status)") }
            return .permanent(reason: "status \(status)")
        } catch {
            return .retry(after: nil, reason: TransientError.kind(of: error))
        }
    }

    static func text(_ alert: Alert) -> String {
        var text = "[CRITICAL ALERT] \(alert.title): \(alert.message) (at \(alert.at.ISO8601Format()))"
        if alert.suppressed > 0 { text += " — \(alert.suppressed) similar alert(s) suppressed since the last one" }
        return text
    }
}
