import Foundation

/// A calendar day in a tenant's time zone and the UTC instants it spans: 24 hours most days,
/// 23 or 25 on daylight-saving change days.
public struct LocalDay: Sendable, Equatable {
    /// `YYYY-MM-DD`.
    public let date: String
    public let start: Date
    public let end: Date
}

/// Calendar arithmetic for analytics ranges, so SQL only ever compares UTC instants.
public enum LocalDays {
    public static let maxDays = 366

    static func calendar(_ zone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        calendar.firstWeekday = 2 // ISO weeks start on Monday
        calendar.minimumDaysInFirstWeek = 4
        return calendar
    }

    /// `YYYY-MM-DD` as a day, nil unless it is a real date.
    public static func parse(_ text: String) -> DateComponents? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]), year >= 1970, year < 10000
        else { return nil }
        let components = DateComponents(year: year, month: month, day: day)
        let utc = calendar(TimeZone(identifier: "UTC")!)
        guard let date = utc.date(from: components) else { return nil }
        let back = utc.dateComponents([.year, .month, .day], from: date)
        guard back.year == year, back.month == month, back.day == day else { return nil }
        return components
    }

    /// The days from `first` to `last`, both included, in `zone`.
    public static func days(from first: DateComponents, through last: DateComponents, in zone: TimeZone) -> [LocalDay] {
        let calendar = calendar(zone)
        guard var start = calendar.date(from: first), let stop = calendar.date(from: last) else { return [] }
        var days: [LocalDay] = []
        while start <= stop, days.count < maxDays + 1 {
            guard let next = calendar.date(byAdding: .day, value: 1, to: start) else { break }
            days.append(LocalDay(date: format(calendar.dateComponents([.year, .month, .day], from: start)), start: start, end: next))
            start = next
        }
        return days
    }

    /// The day `instant` falls on in `zone`.
    public static func day(of instant: Date, in zone: TimeZone) -> DateComponents {
        calendar(zone).dateComponents([.year, .month, .day], from: instant)
    }

    /// `day` moved by `count` days.
    public static func adding(_ count: Int, to day: DateComponents, in zone: TimeZone) -> DateComponents {
        let calendar = calendar(zone)
        guard let date = calendar.date(from: day), let moved = calendar.date(byAdding: .day, value: count, to: date) else { return day }
        return calendar.dateComponents([.year, .month, .day], from: moved)
    }

    /// The Monday of the ISO week holding `day`.
    public static func monday(of day: DateComponents, in zone: TimeZone) -> DateComponents {
        let calendar = calendar(zone)
        guard let date = calendar.date(from: day) else { return day }
        let weekday = calendar.component(.weekday, from: date) // 1 = Sunday ... 7 = Saturday
        return adding(-((weekday + 5) % 7), to: day, in: zone)
    }

    public static func format(_ day: DateComponents) -> String {
        String(format: "%04d-%02d-%02d", day.year ?? 0, day.month ?? 0, day.day ?? 0)
    }
}
