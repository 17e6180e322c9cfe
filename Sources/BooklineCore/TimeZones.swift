import Foundation

/// IANA time zones Bookline accepts: the region/city names the system knows, plus UTC.
/// openapi.yaml lists the same names (`TimeZone` schema).
public enum TimeZones {
    public static let known: Set<String> = Set(TimeZone.knownTimeZoneIdentifiers.filter { $0.contains("/") }).union(["UTC"])

    public static func isKnown(_ identifier: String) -> Bool {
        known.contains(identifier)
    }
}
