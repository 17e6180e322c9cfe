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
    public let createdAt: Date
    public var updatedAt: Date
}

/// Who is calling, as far as authentication could tell.
public struct Principal: Sendable, Equatable {
    public enum Kind: String, Sendable { case apiKey = "api_key", user, development }
    public let kind: Kind
    public let id: String

    public init(kind: Kind, id: String) {
        self.kind = kind
        self.id = id
    }
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
}
