/// Where a lead is in its life. Transitions are explicit so a typo in a client can never move
/// a lead somewhere meaningless (e.g. out of `opted_out` without withdrawing the opt-out).
public enum LeadStatus: String, Sendable, Codable, CaseIterable {
    case new, contacted, interested, callback, booked
    case notInterested = "not_interested"
    case optedOut = "opted_out"
    case invalid

    /// Statuses reachable from this one through `POST /api/leads/{id}/status`.
    public var allowedNext: [LeadStatus] {
        switch self {
        case .new: [.contacted, .interested, .callback, .booked, .notInterested, .optedOut, .invalid]
        case .contacted: [.interested, .callback, .booked, .notInterested, .optedOut, .invalid]
        case .interested: [.contacted, .callback, .booked, .notInterested, .optedOut]
        case .callback: [.contacted, .interested, .booked, .notInterested, .optedOut]
        case .booked: [.contacted, .interested, .callback, .notInterested, .optedOut]
        case .notInterested: [.contacted, .interested, .callback, .booked, .optedOut]
        // Leaving opted_out means withdrawing the opt-out (DELETE /api/opt-outs/{phone}).
        case .optedOut: []
        case .invalid: [.new, .optedOut]
        }
    }

    public func canMove(to next: LeadStatus) -> Bool { allowedNext.contains(next) }

    /// Moving to these means someone spoke to (or tried to reach) the lead.
    public var marksContact: Bool {
        [.contacted, .interested, .callback, .booked, .notInterested].contains(self)
    }
}
