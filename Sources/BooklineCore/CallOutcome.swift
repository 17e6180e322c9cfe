/// What a call achieved, from the voice-AI provider's ended reason and the assistant's
/// structured data. Ended reasons that say the conversation never happened (no answer, busy,
/// voicemail, failed) decide alone; when a conversation ended normally, the structured data's
/// outcome (booked, interested, callback, not interested) wins over plain `completed`.
public enum CallOutcome: String, Sendable, Codable, CaseIterable {
    case booked, interested, callback
    case notInterested = "not_interested"
    case noAnswer = "no_answer"
    case voicemail, busy, failed, completed

    /// The outcome and whether the ended reason was one Bookline knows (unknown ones are kept
    /// raw by the caller and counted, never dropped).
    public static func classify(endedReason: String?, structuredOutcome: String?) -> (outcome: CallOutcome, knownReason: Bool) {
        let reason = (endedReason ?? "").lowercased()
        let stated = structuredOutcome.flatMap(Self.stated)
        if let fixed = Self.fixed[reason] { return (fixed, true) }
        if reason.contains("failed-to-connect") || reason.hasSuffix("-rejected") { return (.failed, true) }
        let known = Self.conversational.contains(reason)
        return (stated ?? .completed, known)
    }

    /// Ended reasons that decide the outcome whatever the structured data says.
    static let fixed: [String: CallOutcome] = [
        "customer-did-not-answer": .noAnswer, "customer-did-not-give-microphone-permission": .noAnswer,
        "customer-busy": .busy, "voicemail": .voicemail, "failed-to-connect": .failed, "rejected": .failed,
        "call-rejected": .failed, "twilio-failed-to-connect-call": .failed, "vonage-rejected": .failed,
    ]

    /// Ended reasons after a real conversation: the structured outcome, if any, decides.
    static let conversational: Set<String> = [
        "assistant-ended-call", "silence-timed-out", "exceeded-max-duration", "customer-ended-call",
        "assistant-said-end-call-phrase", "assistant-forwarded-call", "assistant-ended-call-after-message-spoken",
    ]

    /// The structured data's own words for an outcome: `booked`, `Appointment booked`, `call back`...
    static func stated(_ text: String) -> CallOutcome? {
        let key = String(text.lowercased().unicodeScalars.filter { $0.properties.isAlphabetic }.map(Character.init))
        switch key {
        case "booked", "appointmentbooked", "booking": return .booked
        case "interested": return .interested
        case "callback", "callbackrequested", "callmeback": return .callback
        case "notinterested", "declined": return .notInterested
        default: return nil
        }
    }
}

extension CallOutcome {
    /// The lead status a call with this outcome leads to, or nil to leave the lead as it is.
    /// A stated result (booked, interested, callback, not interested) moves the lead when the
    /// transition is allowed; an attempt that reached no one only marks a new lead contacted,
    /// so a missed call never undoes a booking. Opted-out and invalid leads never move.
    public func leadStatus(from current: LeadStatus) -> LeadStatus? {
        let target: LeadStatus
        switch self {
        case .booked: target = .booked
        case .interested: target = .interested
        case .callback: target = .callback
        case .notInterested: target = .notInterested
        case .noAnswer, .voicemail, .busy, .failed, .completed:
            return current == .new ? .contacted : nil
        }
        return current != target && current.canMove(to: target) ? target : nil
    }

    /// Whether the call counts as a booked appointment in analytics.
    public var isBooking: Bool { self == .booked }
}
