import Foundation

/// The local hours in which Bookline sends no messages, by the recipient's wall clock: from `start` (quiet) up to
/// `end` (allowed again), in minutes after local midnight. A window with `start` after `end` wraps midnight (the
/// default, 21:00 to 08:00); `start == end` is an empty window, never quiet.
///
/// Times are read from the wall clock in the zone at each moment, so a DST change moves the window with the
/// clock: 08:00 is 08:00 on the morning after the clocks change, and the quiet night is an hour shorter or longer.
public struct QuietHours: Sendable, Equatable {
    public let start: Int
    public let end: Int

    private static let day = 24 * 60

    /// Minutes outside 0..<1440 are taken modulo a day, so a misconfigured tenant gets a window, not a crash.
    public init(start: Int = 21 * 60, end: Int = 8 * 60) {
        self.start = (start % Self.day + Self.day) % Self.day
        self.end = (end % Self.day + Self.day) % Self.day
    }

    public func isQuiet(_ now: Date, in timeZone: TimeZone) -> Bool {
        let parts = Self.calendar(timeZone).dateComponents([.hour, .minute], from: now)
        return contains((parts.hour ?? 0) * 60 + (parts.minute ?? 0))
    }

    /// `now` when messages may go, else the first moment after it that they may: when the wall clock next reads
    /// `end`, or, if the clocks skip that time, the moment they jump past it.
    public func nextAllowed(after now: Date, in timeZone: TimeZone) -> Date {
        guard isQuiet(now, in: timeZone) else { return now }
        let calendar = Self.calendar(timeZone)
        let target = DateComponents(hour: end / 60, minute: end % 60, second: 0, nanosecond: 0)
        // If the clocks go back over `end`, the first reading counts: the window was over then.
        if let next = calendar.nextDate(
            after: now, matching: target, matchingPolicy: .nextTime, repeatedTimePolicy: .first
        ) {
            return next
        }
        // Not expected; never answer with a quiet moment. Time to `end` by the clock, ignoring any DST change.
        let parts = calendar.dateComponents([.hour, .minute, .second], from: now)
        let elapsed = ((parts.hour ?? 0) * 60 + (parts.minute ?? 0)) * 60 + (parts.second ?? 0)
        let wait = ((end * 60 - elapsed) % (Self.day * 60) + Self.day * 60) % (Self.day * 60)
        return now.addingTimeInterval(Double(wait))
    }

    private func contains(_ minute: Int) -> Bool {
        start <= end ? (start..<end).contains(minute) : minute >= start || minute < end
    }

    private static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }
}
