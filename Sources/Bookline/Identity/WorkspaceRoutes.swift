import BooklineCore
import Foundation
import Hummingbird

/// One login, several workspaces: `GET /api/me/workspaces` lists the tenants the signed-in
/// person belongs to (their role in each), and `POST /api/auth/switch` trades the current
/// sign-in for one in another of them. An access token always carries exactly one tenant
/// (`tid`), so switching ends the current session and starts one in the chosen tenant; the
/// next sign-in opens it again.
struct WorkspaceRoutes {
    let services: AppServices

    struct WorkspaceView: ResponseEncodable, Decodable {
        let tenantId: String
        let businessName: String
        let slug: String
        let status: String
        let role: String
        let current: Bool
    }

    struct WorkspaceList: ResponseEncodable, Decodable {
        let items: [WorkspaceView]
    }

    struct SwitchRequest: Decodable, PlatformOwnedFields {
        var tenantId: String?
        var session: String?

        static let platformOwnedFields: [String: String] = [
            "role": "is the membership's, set by the workspace's owners", "userId": "is the signed-in person's",
        ]
    }

    static let notMember = Problem.notFound("You are not a member of this workspace.")

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("me/workspaces") { _, context -> WorkspaceList in
            let (auth, userId) = try AccountRoutes.user(context)
            let workspaces = try await services.users.workspaces(userId: userId)
            return WorkspaceList(items: workspaces.map {
                WorkspaceView(tenantId: $0.tenantId, businessName: $0.businessName, slug: $0.slug, status: $0.status,
                              role: $0.role.rawValue, current: $0.tenantId == auth.tenantId)
            })
        }
        group.post("auth/switch") { request, context -> Response in
            let (auth, userId) = try AccountRoutes.user(context)
            guard auth.tenantId != nil else {
                throw Problem.forbidden("Platform staff accounts have no workspaces to switch between.")
            }
            let input = try await request.decodeJSON(as: SwitchRequest.self, context: context)
            if let session = input.session, session != "cookie", session != "body" {
                throw Problem.validation(field: "session", "must be cookie or body")
            }
            guard let tenantId = input.tenantId, !tenantId.isEmpty else { throw Problem.validation(field: "tenantId", "is required") }
            guard Identifier.isValid(tenantId), let user = try await services.users.find(id: userId, in: tenantId) else {
                throw Self.notMember
            }
            let routes = AuthRoutes(services: services)
            let tokens = try await routes.signIn(user, request: request, context: context, proof: nil,
                                                 action: "auth.workspace_switched", endingSession: auth.sessionId)
            return input.session == "cookie" ? try routes.cookieResponse(tokens, request: request, context: context)
                : try tokens.response(from: request, context: context)
        }
    }
}
