import Foundation
import Logging

/// A message ready for a provider.
public struct OutgoingMessage: Sendable {
    public let tenantId: String
    public let id: String
    public let channel: MessageChannel
    /// The template it was made from, if any (follow-ups get List-Unsubscribe).
    public let template: String?
    public let to: String
    public let subject: String?
    public let text: String
    public let html: String?
    /// Where the provider reports delivery (Twilio's StatusCallback).
    public let statusCallback: String
}

/// What a provider said when it took a message.
public struct DriverReceipt: Sendable, Equatable {
    public let provider: String
    public let providerId: String
    public let from: String?
    public let status: MessageStatus
}

public enum DriverError: Error, Sendable, Equatable {
    /// The provider refused the message for good (bad number, unsubscribed recipient, ...).
    case rejected(code: String, reason: String, optedOut: Bool)
    /// Worth retrying later (timeouts, 429, 5xx).
    case transient(String)
}

/// What a provider knows of a message that was being handed to it when the sender died.
public enum HandoffCheck: Sendable, Equatable {
    /// It got the message: record this, send nothing.
    case sent(DriverReceipt)
    /// It never got it: safe to send.
    case notSent
    /// It cannot tell: sending again could deliver it twice.
    case unknown
}

/// One way of sending: Twilio, SMTP, or the recording driver used when nothing is configured.
public protocol MessageDriver: Sendable {
    func send(_ message: OutgoingMessage) async throws -> DriverReceipt
    /// Whether `message`, handed over at `handedAt` by a process that then died, reached the provider.
    func check(_ message: OutgoingMessage, handedAt: Date) async throws -> HandoffCheck
}

extension MessageDriver {
    public func check(_ message: OutgoingMessage, handedAt: Date) async throws -> HandoffCheck { .unknown }
}

/// Used when no provider is configured: the message is kept as `simulated` and nothing leaves
/// the machine, so the whole product runs without accounts (and /health says so).
public struct SimulatedDriver: MessageDriver {
    let logger: Logger

    public func send(_ message: OutgoingMessage) async throws -> DriverReceipt {
        logger.info("\(message.channel == .sms ? "[SMS]" : "[EMAIL]") simulated", metadata: [
            "message_id": "\(message.id)", "tenant_id": "\(message.tenantId)", "to": "\(MessageLog.mask(message.to))",
        ])
        return DriverReceipt(provider: "simulated", providerId: "sim_" + message.id, from: nil, status: .simulated)
    }

    /// Nothing leaves the machine, so simulating again harms no one.
    public func check(_ message: OutgoingMessage, handedAt: Date) async throws -> HandoffCheck { .notSent }
}

enum MessageLog {
    /// Enough of an address to recognise it in a log, not enough to contact the person.
    static func mask(_ address: String) -> String {
        if let at = address.firstIndex(of: "@") { return "\(address.prefix(1))***\(address[at...])" }
        return address.count > 4 ? String(repeating: "*", count: address.count - 4) + address.suffix(4) : "****"
    }
}
