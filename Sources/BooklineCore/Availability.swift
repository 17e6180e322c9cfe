import Foundation

/// One opening interval on a weekday, in local wall-clock minutes since midnight.
public struct OpeningInterval: Sendable, Equatable, Codable {
    public let opens: Int
    public let closes: Int

    public init(opens: Int, closes: Int) {
        self.opens = opens
        self.closes = closes
    }

    /// `HH:MM` as minutes since midnight; `24:00` is allowed as a closing time.
    public static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard text.count == 5, parts.count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]),
              (0...24).contains(hours), (0..<60).contains(minutes), hours < 24 || minutes == 0
        else { return nil }
        return hours * 60 + minutes
    }

    public static func text(_ minutes: Int) -> String { String(format: "%02d:%02d", minutes / 60, minutes % 60) }
}

/// Free appointment slots: a service's length fitted into the opening hours of each local day,
/// starting every `step`, skipping closed dates, the past and busy times. Slot times are wall
/// clock in the tenant's zone, so on a clock-change day a slot at 10:00 is still at 10:00.
public enum Availability {
    /// Appointments start on 5-minute boundaries, which is also how the database locks slots.
    public static let granularity: TimeInterval = 300

    public static func slots(
        days: [LocalDay], zone: TimeZone, weekly: [Int: [OpeningInterval]], closed: Set<String>,
        duration: TimeInterval, step: TimeInterval, busy: [DateInterval], notBefore: Date
    ) -> [DateInterval] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var result: [DateInterval] = []
        for day in days where !closed.contains(day.date) {
            // ISO weekday: Monday 1 ... Sunday 7.
            let weekday = (calendar.component(.weekday, from: day.start) + 5) % 7 + 1
            for interval in weekly[weekday] ?? [] {
                guard let opens = wallClock(day, minutes: interval.opens, calendar: calendar),
                      let closes = wallClock(day, minutes: interval.closes, calendar: calendar)
                else { continue }
                var start = opens
                while start.addingTimeInterval(duration) <= closes {
                    let slot = DateInterval(start: start, duration: duration)
                    if start >= notBefore, !busy.contains(where: { $0.start < slot.end && $0.end > slot.start }) {
                        result.append(slot)
                    }
                    start = start.addingTimeInterval(step)
                }
            }
        }
        return result
    }

    /// The instant a wall-clock time falls on that day; a time skipped by a clock change moves
    /// forward to the first valid instant after it.
    static func wallClock(_ day: LocalDay, minutes: Int, calendar: Calendar) -> Date? {
        if minutes >= 24 * 60 { return day.end }
        var components = calendar.dateComponents([.year, .month, .day], from: day.start)
        components.hour = minutes / 60
        components.minute = minutes % 60
        return calendar.date(from: components)
    }

    /// Whether `start` is one of the free slots (used to check a booking request).
    public static func isOffered(_ start: Date, in slots: [DateInterval]) -> Bool {
        slots.contains { abs($0.start.timeIntervalSince(start)) < 0.5 }
    }
}
