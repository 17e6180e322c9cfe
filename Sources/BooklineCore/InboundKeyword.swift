/// What an inbound SMS asks for, when the whole message is a keyword.
///
/// Matching is case-insensitive on the words of the message: whitespace and punctuation around and between words
/// are ignored ("STOP.", " stop! ", "Opt-Out"), so only a message that is nothing but the keyword counts, as with
/// Twilio's keywords. "Please stop texting me" is `.other`: a person reads those.
///
/// CANCEL is a STOP word: Twilio opts the number out on a bare CANCEL, so Bookline must record the opt-out too or
/// it would keep queueing messages the carrier blocks. The product spec also lists CANCEL as an appointment reply;
/// that is `.cancel`, for CANCEL followed by more words ("cancel appointment", "Cancel my booking"), which Twilio
/// leaves alone. CONFIRM and `.cancel` are recorded as lead_replied for the appointment flow.
public enum InboundKeyword: String, Sendable {
    case stop, start, help, confirm, cancel, other

    public static func classify(_ body: String) -> InboundKeyword {
        let words = body.lowercased()
            .split { !$0.isLetter && !$0.isNumber }
            .map(String.init)
        if let keyword = keywords[words.joined(separator: " ")] { return keyword }
        if words.count > 1, words[0] == "cancel" { return .cancel }
        return .other
    }

    private static let keywords: [String: InboundKeyword] = [
        // Twilio's opt-out words, plus "opt out" as two words: an opt-out by any reasonable means must be honoured.
        "stop": .stop, "stopall": .stop, "unsubscribe": .stop, "cancel": .stop, "end": .stop, "quit": .stop,
        "optout": .stop, "opt out": .stop, "revoke": .stop,
        // Twilio's opt-in words.
        "start": .start, "unstop": .start, "yes": .start,
        "help": .help, "info": .help,
        "confirm": .confirm, "confirmed": .confirm,
    ]
}
