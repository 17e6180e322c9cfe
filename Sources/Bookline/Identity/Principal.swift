import Foundation

/// A person's role inside one tenant (a membership's role).
public enum TenantRole: String, Sendable, Codable, CaseIterable {
    /// Everything, including the people, security settings, exports and deleting the tenant.
    case owner
    /// Everything an owner does with the business's data and settings, and the people who are
    /// not owners; not the owners themselves, tenant security, the tenant export or deletion.
    case admin
    /// The day's work: leads, calls, messages, appointments; reads analytics.
    case member
    /// Reads leads, calls, appointments and analytics; changes nothing.
    case viewer
}

/// A platform staff account's role (users with no tenant).
public enum StaffRole: String, Sendable, Codable, CaseIterable {
    case admin, compliance
}

/// A signed-in person's role: in a tenant, or on the platform. The same word ("admin") names a
/// tenant role and a staff role, so which one is always told by the case, never by the string.
public enum Role: Sendable, Hashable {
    case tenant(TenantRole)
    case staff(StaffRole)

    public static let owner = Role.tenant(.owner)
    public static let tenantAdmin = Role.tenant(.admin)
    public static let member = Role.tenant(.member)
    public static let viewer = Role.tenant(.viewer)
    public static let platformAdmin = Role.staff(.admin)
    public static let compliance = Role.staff(.compliance)

    /// The word stored and put in tokens; `platform` (no tenant) says which vocabulary it is.
    public init?(rawValue: String, platform: Bool) {
        if platform {
            guard let role = StaffRole(rawValue: rawValue) else { return nil }
            self = .staff(role)
        } else {
            guard let role = TenantRole(rawValue: rawValue) else { return nil }
            self = .tenant(role)
        }
    }

    public var rawValue: String {
        switch self {
        case .tenant(let role): role.rawValue
        case .staff(let role): role.rawValue
        }
    }

    public var isPlatform: Bool {
        if case .staff = self { return true }
        return false
    }

    public var tenantRole: TenantRole? {
        if case .tenant(let role) = self { return role }
        return nil
    }

    /// Owners and admins manage the tenant's people and see its audit trail.
    public var managesPeople: Bool { self == .owner || self == .tenantAdmin }
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
        let names: [Scope]
        switch role {
        case .tenant(.owner), .tenant(.admin): return allNames
        case .tenant(.member): names = [leadsRead, leadsWrite, messagesSend, callsRead, callsWrite, appointmentsRead, appointmentsWrite, analyticsRead]
        case .tenant(.viewer): names = [leadsRead, callsRead, appointmentsRead, analyticsRead]
        case .staff: return []
        }
        return Set(names.map(\.rawValue))
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
