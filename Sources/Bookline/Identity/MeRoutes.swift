import Foundation
import Hummingbird

/// `GET /api/me`: who the caller is, for tenants and platform staff alike.
struct MeRoutes {
    let services: AppServices

    /// Rendered by `JSONWriter`: this is the most-called route, and Foundation's encoder was
    /// an eighth of its CPU. The views stay `Codable` so tests and clients decode them.
    struct MeResponse: ResponseGenerator, Codable {
        struct PrincipalView: Codable {
            let type: String
            let id: String
        }
        struct TenantView: Codable {
            let id: String
            let slug: String
            let businessName: String
            let tier: String
            let status: String
        }
        let principal: PrincipalView
        let role: String?
        let tenant: TenantView?
        let scopes: [String]
        let authenticatedWith: String
        /// A signed-in person's own login (absent for API keys).
        var account: AccountView? = nil

        struct AccountView: Codable {
            let email: String
            let emailVerified: Bool
            let mfaEnabled: Bool
            /// The tenant requires a second factor and this user has none yet.
            let mfaEnrolmentRequired: Bool
        }

        var json: JSONValue {
            var members: [String: JSONValue] = [
                "principal": .object(["type": .string(principal.type), "id": .string(principal.id)]),
                "scopes": .array(scopes.map(JSONValue.string)),
                "authenticatedWith": .string(authenticatedWith),
            ]
            if let role { members["role"] = .string(role) }
            if let account {
                members["account"] = .object([
                    "email": .string(account.email), "emailVerified": .bool(account.emailVerified),
                    "mfaEnabled": .bool(account.mfaEnabled), "mfaEnrolmentRequired": .bool(account.mfaEnrolmentRequired),
                ])
            }
            if let tenant {
                members["tenant"] = .object([
                    "id": .string(tenant.id), "slug": .string(tenant.slug), "businessName": .string(tenant.businessName),
                    "tier": .string(tenant.tier), "status": .string(tenant.status),
                ])
            }
            return .object(members)
        }

        func response(from request: Request, context: some RequestContext) throws -> Response {
            try RenderedJSON(value: json).response(from: request, context: context)
        }
    }

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("me", use: me)
    }

    @Sendable func me(_ request: Request, context: AppRequestContext) async throws -> MeResponse {
        guard let auth = context.auth else { throw Problem.missingCredential }
        var tenantView: MeResponse.TenantView?
        if let tenantId = auth.tenantId {
            guard let tenant = try await services.tenants.find(id: tenantId), tenant.status != .deleted else {
                throw Problem.unauthorized("The credential is not valid.")
            }
            if tenant.status == .suspended {
                throw Problem.forbidden("This account is suspended. Contact support to reactivate it.")
            }
            tenantView = .init(id: tenant.id, slug: tenant.slug, businessName: tenant.businessName, tier: tenant.tier,
                               status: tenant.status.rawValue)
        }
        var account: MeResponse.AccountView?
        if auth.principal.kind == .user, let user = try await services.users.find(id: auth.principal.id) {
            account = .init(email: user.email, emailVerified: user.emailVerified, mfaEnabled: user.mfaEnabled,
                            mfaEnrolmentRequired: auth.mfaPending)
        }
        return MeResponse(
            principal: .init(type: auth.principal.kind.rawValue, id: auth.principal.id),
            role: auth.principal.role?.rawValue, tenant: tenantView, scopes: auth.scopes.sorted(),
            authenticatedWith: auth.method, account: account
        )
    }
}
