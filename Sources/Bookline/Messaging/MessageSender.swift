import BooklineCore
import Foundation
import Logging
import ServiceLifecycle

/// Sends what the outbox holds. Each sweep claims due rows atomically (so instances never
/// share one), checks the opt-out lists again, hands the message to the tenant's driver and
/// records the provider's id in the same update as the new status. A sender that dies
/// mid-send leaves a leased `sending` row: it is taken again only after the lease (long
/// enough for the provider's status callback to record the id) runs out without an id.
public struct MessageSender: Sendable {
    static let lease: TimeInterval = 300
    static let batch = 20
    static let maxAttempts = 3

    let services: AppServices
    /// Picks the driver for a tenant and channel; tests replace it.
    let drivers: @Sendable (String, MessageChannel) async throws -> any MessageDriver

    var store: MessageStore { MessageStore(engine: services.database.engine) }

    /// One pass over due messages; returns how many it handled.
    @discardableResult
    public func sweep() async throws -> Int {
        let now = services.now()
        let claimed = try await services.database.transaction { db in
            try await store.claim(now: now, leaseUntil: now.addingTimeInterval(Self.lease), limit: Self.batch, on: db)
        }
        for message in claimed { await deliver(message) }
        return claimed.count
    }

    private func record(_ receipt: DriverReceipt, on message: inout Message) {
        message.status = receipt.status
        message.reason = nil
        message.provider = receipt.provider
        message.providerId = receipt.providerId
        message.from = receipt.from ?? message.from
        message.sentAt = services.now()
    }

    func deliver(_ claimed: Message) async {
        var message = claimed
        let channelTag = message.channel == .sms ? "[SMS]" : "[EMAIL]"
        do {
            var lead: Lead?
            if let leadId = message.leadId { lead = try await services.leads.find(tenantId: message.tenantId, id: leadId) }
            let service = MessageService(services: services)
            if let reason = try await service.blockReason(channel: message.channel, to: message.to, lead: lead,
                                                         tenantId: message.tenantId) {
                message.status = .blocked
                message.reason = reason
            } else {
                let driver = try await drivers(message.tenantId, message.channel)
                let outgoing = OutgoingMessage(
                    tenantId: message.tenantId, id: message.id, channel: message.channel, template: message.template, to: message.to,
                    subject: message.subject,
                    text: message.body, html: message.bodyHtml,
                    statusCallback: "\(services.config.baseURL)/webhooks/twilio/\(message.tenantId)/status?message=\(message.id)"
                )
                // The last attempt died while handing this message over: ask the provider first.
                var check = HandoffCheck.notSent
                if let handedAt = claimed.handedAt {
                    check = try await driver.check(outgoing, handedAt: handedAt)
                    services.logger.notice("\(channelTag) checked an interrupted hand-over", metadata: [
                        "message_id": "\(message.id)", "outcome": "\(check == .notSent ? "not sent" : check == .unknown ? "unknown" : "sent")",
                    ])
                }
                switch check {
                case .sent(let receipt):
                    record(receipt, on: &message)
                case .notSent:
                    try await store.markHanded(message, at: services.now(), on: services.database.sql)
                    record(try await driver.send(outgoing), on: &message)
                case .unknown:
                    message.status = .failed
                    message.reason = "interrupted while being handed to the provider; it may have gone out, so it was not sent again"
                }
            }
            message.handedAt = nil
        } catch DriverError.rejected(let code, let reason, let optedOut) {
            message.handedAt = nil
            message.status = .failed
            message.reason = reason
            message.errorCode = code
            await services.errors.record(ErrorReport(
                tenantId: message.tenantId, service: "messaging", errorType: "\(message.channel.rawValue)_rejected",
                message: "provider refused message \(message.id): error \(code)", severity: .warning,
                context: ["message_id": message.id, "code": code]
            ))
            if optedOut, message.channel == .sms, let phone = try? PhoneNumber.parse(message.to).get() {
                _ = try? await services.optOuts.add(scope: message.tenantId, phone: phone, reason: "sms_stop", source: "provider",
                                                    note: "provider error \(code)", actor: .system("sender"), now: services.now())
            }
        } catch {
            // A provider that answered (or failed to) has settled this hand-over; only a look-up
            // that failed leaves it open, to be asked again next time.
            if claimed.handedAt == nil { message.handedAt = nil }
            let retry = message.attempts < Self.maxAttempts
            message.status = retry ? .queued : .failed
            // 1 h, 2 h, 4 h: providers' outages are rarely shorter.
            let next = services.now().addingTimeInterval(3600 * pow(2, Double(message.attempts - 1)))
            // Why it is still queued (or failed), for whoever looks at it meanwhile.
            let failure = "attempt \(message.attempts) failed: \(DriverError.describe(error))"
            message.reason = retry ? "\(failure); retrying at \(ISOTime.string(next))" : "\(failure); gave up after \(message.attempts) attempts"
            message.sendAt = next
            await services.errors.record(ErrorReport(
                tenantId: message.tenantId, service: "messaging", errorType: "\(message.channel.rawValue)_send_failed",
                message: "\(channelTag) send of \(message.id) failed (attempt \(message.attempts)): \(DriverError.describe(error))",
                severity: .error, context: ["message_id": message.id, "attempt": String(message.attempts), "will_retry": String(retry)]
            ))
        }
        message.updatedAt = services.now()
        do {
            try await services.database.transaction { [message] db in
                try await store.recordStatus(message, on: db, now: message.updatedAt)
            }
            services.logger.info("\(channelTag) \(message.status.rawValue)", metadata: ["message_id": "\(message.id)"])
        } catch {
            services.logger.error("\(channelTag) could not record the outcome", metadata: ["message_id": "\(message.id)"])
        }
    }
}

extension DriverError {
    /// For logs: the kind of failure, never a provider response body.
    static func describe(_ error: any Error) -> String {
        if case DriverError.transient(let reason) = error { return reason }
        return String(describing: type(of: error))
    }
}

/// Runs sweeps every `interval` inside `bookline serve` until shutdown.
struct MessageSenderService: Service, CustomStringConvertible {
    let sender: MessageSender
    let interval: Duration
    var description: String { "MessageSenderService(interval: \(interval))" }

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                // Keep going while there is work; rest when the outbox is empty.
                if try await sender.sweep() == MessageSender.batch { continue }
            } catch {
                sender.services.logger.warning("outbox sweep failed", metadata: ["error": "\(TransientError.kind(of: error))"])
            }
            // Shutdown interrupts the pause, so stopping never waits for a whole interval.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
