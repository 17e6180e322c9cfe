import Foundation

/// One step of a follow-up sequence: wait, then message or ask the assistant to call.
public struct FollowUpStep: Sendable, Equatable, Codable {
    public enum Channel: String, Sendable, Codable { case sms, email, call }
    public let channel: Channel
    public let after: TimeInterval

    public init(channel: Channel, after: TimeInterval) {
        self.channel = channel
        self.after = after
    }

    /// `30m`, `6h`, `7d` (and `0m`) as seconds; nil for anything else.
    public static func duration(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let amount = Int(text.dropLast()), amount >= 0, amount <= 365 * 24 * 60 else { return nil }
        switch unit {
        case "m": return Double(amount) * 60
        case "h": return Double(amount) * 3600
        case "d": return Double(amount) * 86_400
        default: return nil
        }
    }
}

/// The follow-up sequences by call outcome (`tenants/followups.yaml`).
public struct FollowUpPlan: Sendable, Equatable {
    public let sequences: [CallOutcome: [FollowUpStep]]

    public init(sequences: [CallOutcome: [FollowUpStep]]) {
        self.sequences = sequences
    }

    public func steps(for outcome: CallOutcome) -> [FollowUpStep] { sequences[outcome] ?? [] }

    /// Statuses that end a sequence at once.
    public static func stops(_ status: LeadStatus) -> Bool {
        [.booked, .optedOut, .invalid].contains(status)
    }
}
