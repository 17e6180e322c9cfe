import Foundation

/// When an imported phone number already belongs to a lead, how recently that lead was
/// contacted decides what happens (the upstream system's rules): contacted less than
/// `skipDays` ago → skip; up to `lookbackDays` ago → import with a warning; older → import.
public struct DuplicatePolicy: Sendable, Equatable, Codable {
    public enum Decision: String, Sendable, Equatable {
        case skip, warn, allow
    }

    public static let standard = DuplicatePolicy(lookbackDays: 30, skipDays: 7)
    public static let maxDays = 3650

    public let lookbackDays: Int
    public let skipDays: Int

    public init(lookbackDays: Int, skipDays: Int) {
        self.lookbackDays = lookbackDays
        self.skipDays = skipDays
    }

    /// Problems with the numbers, by field name; empty when valid.
    public var problems: [(field: String, message: String)] {
        var problems: [(String, String)] = []
        if !(0...Self.maxDays).contains(lookbackDays) {
            problems.append(("duplicateLookbackDays", "must be from 0 to \(Self.maxDays)"))
        }
        if !(0...Self.maxDays).contains(skipDays) {
            problems.append(("duplicateSkipDays", "must be from 0 to \(Self.maxDays)"))
        } else if (0...Self.maxDays).contains(lookbackDays), skipDays > lookbackDays {
            problems.append(("duplicateSkipDays", "must not exceed duplicateLookbackDays"))
        }
        return problems
    }

    /// `lastActivity` is when the existing lead was last contacted (or created, if never).
    /// Boundaries belong to the older band: exactly 7 days ago warns, exactly 30 days allows.
    public func decide(lastActivity: Date, now: Date) -> Decision {
        let age = now.timeIntervalSince(lastActivity)
        if age < TimeInterval(skipDays) * 86_400 { return .skip }
        if age < TimeInterval(lookbackDays) * 86_400 { return .warn }
        return .allow
    }
}
