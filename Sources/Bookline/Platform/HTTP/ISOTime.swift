import Foundation
import Hummingbird

/// RFC 3339 / ISO-8601 times as clients send them: with or without fractional seconds (Vapi and
/// most JavaScript clients send milliseconds), `Z` or any offset RFC 3339 allows (up to ±23:59,
/// beyond what Foundation's parser takes). One parser for bodies and queries.
enum ISOTime {
    static let hint = "must be an ISO-8601 time such as 2026-01-31T09:30:00Z"

    /// UTC with milliseconds, as exports and documents write times.
    /// Built from gmtime_r by hand: exports format millions of these, and Foundation's format
    /// style cost several microseconds each.
    static func string(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (wholeSeconds, fraction) = millis.quotientAndRemainder(dividingBy: 1000)
        var seconds = time_t(fraction < 0 ? wholeSeconds - 1 : wholeSeconds)
        let milliseconds = fraction < 0 ? fraction + 1000 : fraction
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(48 + (rest / divisor) % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4); bytes.append(0x2D)
        digits(Int(parts.tm_mon) + 1, 2); bytes.append(0x2D)
        digits(Int(parts.tm_mday), 2); bytes.append(0x54)
        digits(Int(parts.tm_hour), 2); bytes.append(0x3A)
        digits(Int(parts.tm_min), 2); bytes.append(0x3A)
        digits(Int(parts.tm_sec), 2); bytes.append(0x2E)
        digits(Int(milliseconds), 3); bytes.append(0x5A)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Foundation's own parser is not used: it rolls 24:00 and 29 February 2026 over into
    /// real dates instead of refusing them.
    static func parse(_ text: some StringProtocol) -> Date? {
        rfc3339(String(text))
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, `T` or a space between date and time.
    static func rfc3339(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.count <= 40 else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard bytes[index] >= 48, bytes[index] <= 57 else { return nil }
                value = value * 10 + Int(bytes[index] - 48)
            }
            return value
        }
        guard bytes[4] == 45, bytes[7] == 45, [84, 116, 32].contains(bytes[10]), bytes[13] == 58, bytes[16] == 58,
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              (1...12).contains(month), hour < 24, minute < 60, second <= 60
        else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...monthDays).contains(day) else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count, bytes[index] == 46 {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < bytes.count else { return nil }
        var offset = 0
        switch bytes[index] {
        case 90, 122: // Z, z
            guard index + 1 == bytes.count else { return nil }
        case 43, 45: // +, -
            guard index + 6 == bytes.count, bytes[index + 3] == 58, let hours = number(index + 1..<index + 3),
                  let minutes = number(index + 4..<index + 6), hours < 24, minutes < 60
            else { return nil }
            offset = (hours * 3600 + minutes * 60) * (bytes[index] == 45 ? -1 : 1)
        default:
            return nil
        }
        // Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Reads `name` from the query into `assign`, or records a field error.
    static func query(_ query: Parameters, _ name: String, errors: inout [Problem.FieldError], assign: (Date) -> Void) {
        guard let text = query[Substring(name)] else { return }
        guard let date = parse(text) else { return errors.append(.init(field: name, message: hint)) }
        assign(date)
    }
}
