import Foundation

public enum Role: String, Sendable, Codable, CaseIterable {
    /// Tenant roles.
    case owner, member
    /// Platform roles: users with no tenant.
    case admin, compliance

    public var isPlatform: Bool { self == .admin || self == .compliance }
}

/// What a credential may do inside its tenant.
public enum Scope: String, Sendable, CaseIterable, Codable {
    case leadsRead = "leads:read"
    case leadsWrite = "leads:write"
    case messagesSend = "messages:send"
    case callsRead = "calls:read"
    case callsWrite = "calls:write"
    case appointmentsRead = "appointments:read"
    case appointmentsWrite = "appointments:write"
    case analyticsRead = "analytics:read"
    case settingsWrite = "settings:write"
    case keysManage = "keys:manage"

    public static var allNames: Set<String> { Set(allCases.map(\.rawValue)) }

    /// Scopes a user's role grants (API keys carry their own list).
    public static func granted(to role: Role) -> Set<String> {
        switch role {
        case .owner: allNames
        case .member: [leadsRead, leadsWrite, messagesSend, callsRead, callsWrite, appointmentsRead, appointmentsWrite, analyticsRead].reduce(into: []) { $0.insert($1.rawValue) }
        case .admin, .compliance: []
        }
    }
}

/// Who is calling, as authentication established it.
public struct Principal: Sendable, Equatable {
    public enum Kind: String, Sendable { case apiKey = "api_key", user }
    public let kind: Kind
    public let id: String
    /// A user's role; nil for API keys.
    public let role: Role?

    public init(kind: Kind, id: String, role: Role? = nil) {
        self.kind = kind
        self.id = id
        self.role = role
    }
}

/// The outcome of authenticating a request.
public struct Authentication: Sendable, Equatable {
    public let principal: Principal
    /// nil for platform users.
    public let tenantId: String?
    public let scopes: Set<String>
    /// `api_key` or `jwt`, for /monitor/tenant-resolution.
    public let method: String
    /// The signed-in session a user's access token belongs to.
    public var sessionId: String? = nil
    /// A user whose tenant requires a second factor and who has none yet: only their own
    /// account routes (`/api/me/...`) answer, so they can enrol.
    public var mfaPending: Bool = false
}
