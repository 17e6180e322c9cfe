import Foundation

/// What happened to one import row.
public enum ImportOutcome: String, Sendable, Codable, CaseIterable {
    case imported, updated
    case skippedDuplicate = "skipped_duplicate"
    case warnedDuplicate = "warned_duplicate"
    case optedOut = "opted_out"
    case invalid
}

public struct RowOutcome: Sendable, Codable, Equatable {
    public let row: Int
    public let outcome: ImportOutcome
    public let reason: String?
    /// The normalised E.164 number, when the row had a valid one.
    public let phone: String?
    public let leadId: String?
}

/// The running summary of an import: counts by outcome plus the first per-row outcomes.
/// Counts are keyed by the same outcome names the rows use.
public struct ImportReport: Sendable, Codable, Equatable {
    /// Per-row outcomes kept in a response (the counts always cover every row).
    static let maxRows = 1000

    public var total: Int
    public var processed = 0
    public var counts: [String: Int] = Dictionary(uniqueKeysWithValues: ImportOutcome.allCases.map { ($0.rawValue, 0) })
    public var rows: [RowOutcome] = []
    public var rowsOmitted = 0
    public var columns: ImportFile.Columns

    init(total: Int, columns: ImportFile.Columns) {
        self.total = total
        self.columns = columns
    }

    public func count(_ outcome: ImportOutcome) -> Int { counts[outcome.rawValue] ?? 0 }

    mutating func record(_ outcome: RowOutcome) {
        counts[outcome.outcome.rawValue, default: 0] += 1
        processed += 1
        if rows.count < Self.maxRows { rows.append(outcome) } else { rowsOmitted += 1 }
    }
}
