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
/// `ADMIN_EMAIL` through the platform's SMTP server. A channel that fails is logged and
/// skipped; alerts are never recorded as errors themselves, so a broken channel cannot loop.
struct PlatformAlertNotifier: AlertNotifier {
    let config: AppConfig
    let logger: Logger
    var client: HTTPClient = .shared

    func send(_ alert: Alert) async {
        let text = Self.text(alert)
        if let url = config.slackWebhookURL {
            do {
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(["text": text])))
                let response = try await client.execute(request, timeout: .seconds(5))
                if response.status.code >= 300 {
                    logger.warning("alert not delivered to Slack", metadata: ["status": "\(response.status.code)", "alert_type": "\(alert.type)"])
                }
            } catch {
                logger.warning("alert not delivered to Slack", metadata: ["error": "\(TransientError.kind(of: error))", "alert_type": "\(alert.type)"])
            }
        }
        if let to = config.adminEmail, let url = config.smtpURL, let server = SMTPServer(url: url), let from = config.emailFrom {
            let message = OutgoingMessage(
                tenantId: "platform", id: Identifier.make(now: alert.at), channel: .email, template: nil, to: to,
                subject: "[Bookline] CRITICAL: \(alert.title)", text: text, html: nil, statusCallback: ""
            )
            do {
                _ = try await SMTPDriver(server: server, from: from, logger: logger).send(message)
            } catch {
                logger.warning("alert not delivered by email", metadata: ["error": "\(TransientError.kind(of: error))", "alert_type": "\(alert.type)"])
            }
        }
    }

    static func text(_ alert: Alert) -> String {
        var text = "[CRITICAL ALERT] \(alert.title): \(alert.message) (at \(alert.at.ISO8601Format()))"
        if alert.suppressed > 0 { text += " — \(alert.suppressed) similar alert(s) suppressed since the last one" }
        return text
    }
}
