import Foundation
import Hummingbird

/// ISO-8601 times as clients send them: with or without fractional seconds (Vapi and most
/// JavaScript clients send milliseconds), `Z` or an offset. One parser for bodies and queries.
enum ISOTime {
    static let hint = "must be an ISO-8601 time such as 2026-01-31T09:30:00Z"

    static func parse(_ text: some StringProtocol) -> Date? {
        let text = String(text)
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Reads `name` from the query into `assign`, or records a field error.
    static func query(_ query: Parameters, _ name: String, errors: inout [Problem.FieldError],
                      assign: (Date) -> Void) {
        guard let text = query[Substring(name)] else { return }
        guard let date = parse(text) else { return errors.append(.init(field: name, message: hint)) }
        assign(date)
    }
}
