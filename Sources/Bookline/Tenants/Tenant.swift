import Foundation

public enum TenantStatus: String, Codable, Sendable, CaseIterable {
    case active, suspended, deleted
}

/// A business using Bookline. Its id is the `tenant_id` every tenant table leads with.
public struct Tenant: Codable, Sendable, Equatable {
    public let id: String
    public let slug: String
    public var businessName: String
    public var industry: String
    public var tier: String
    public var status: TenantStatus
    public var timezone: String
    /// Admin override of the tier's requests per minute.
    public var rateLimitPerMinute: Int?
    public let createdAt: Date
    public var updatedAt: Date
}

/// The resolved tenant a tenant-scoped request runs in; handlers never see a request without one.
public struct TenantContext: Sendable, Equatable {
    public let tenantId: String
    public let slug: String
    public let tier: String
    public let principal: Principal
    public let scopes: Set<String>

    public init(tenantId: String, slug: String, tier: String, principal: Principal, scopes: Set<String>) {
        self.tenantId = tenantId
        self.slug = slug
        self.tier = tier
        self.principal = principal
        self.scopes = scopes
    }

    /// Refuses with 403, naming the scope, unless the credential carries it.
    public func require(_ scope: Scope) throws {
        guard scopes.contains(scope.rawValue) else {
            throw Problem(
                status: .forbidden, slug: "missing-scope", title: "Missing scope",
                detail: "This credential lacks the \(scope.rawValue) scope."
            )
        }
    }

    /// Refuses with 403 unless the caller is one of the tenant's owners or admins (the people who
    /// change its settings; members and viewers do not).
    public func requireSettingsManager() throws {
        guard principal.role == .owner || principal.role == .tenantAdmin else {
            throw Problem.forbidden("Only the account's owners and admins can change its settings.")
        }
    }

    /// Refuses with 403 unless the caller is the tenant's owner (API keys never are).
    public func requireOwner() throws {
        guard principal.role == .owner else {
            throw Problem.forbidden("Only the account owner can do this.")
        }
    }
}
