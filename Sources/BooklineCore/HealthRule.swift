/// How probe results turn into a health status. Pure so the rule is tested without a server.
public enum HealthStatus: String, Sendable, Codable, Comparable {
    case ok, degraded, critical

    private var rank: Int {
        switch self {
        case .ok: 0
        case .degraded: 1
        case .critical: 2
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

public struct DatabaseHealthRule: Sendable, Equatable {
    /// Consecutive failed probes after which the database is critical.
    public var criticalAfter: Int

    public init(criticalAfter: Int = 3) {
        self.criticalAfter = criticalAfter
    }

    public func status(consecutiveFailures: Int) -> HealthStatus {
        switch consecutiveFailures {
        case ..<1: .ok
        case ..<criticalAfter: .degraded
        default: .critical
        }
    }
}
