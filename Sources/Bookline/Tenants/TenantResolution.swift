import Foundation
import Hummingbird
import HTTPTypes
import Synchronization

/// Resolves the tenant for tenant-scoped `/api` routes and refuses with problem responses:
/// 401 no or bad credential, 403 suspended tenant or a platform account, 404 deleted tenant.
struct TenantResolutionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let authenticator: Authenticator
    let services: AppServices
    let monitor: TenantResolutionMonitor

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let (tenant, resolved) = try await resolve(request)
        context.tenant = resolved
        context.logFields.tenantId = resolved.tenantId
        let principal = resolved.principal
        return try await services.rateLimiter.limited(
            bucket: "cred:\(principal.kind.rawValue):\(principal.id)", policy: services.policy(for: tenant)
        ) {
            try await TenantScope.$current.withValue(tenant.id) { try await next(request, context) }
        }
    }

    private func resolve(_ request: Request) async throws -> (Tenant, TenantContext) {
        let found: Authentication?
        do {
            // A browser's EventSource cannot send headers: the stream also takes a stream token.
            if request.uri.path == EventRoutes.streamPath, let token = request.uri.queryParameters["token"] {
                found = try StreamToken(box: services.box).verify(String(token), now: services.now())
            } else {
                found = try await authenticator.authenticate(request)
            }
        } catch {
            monitor.recordFailure(.invalidCredential, method: nil)
            throw error
        }
        guard let auth = found else {
            monitor.recordFailure(.missingCredential, method: nil)
            throw Problem.missingCredential
        }
        guard let tenantId = auth.tenantId else {
            monitor.recordFailure(.noTenant, method: auth.method)
            throw Problem.forbidden("Platform accounts have no tenant; use the /api/admin routes.")
        }
        guard !auth.mfaPending else { throw Problem.mfaEnrolmentRequired }
        guard let tenant = try await services.tenants.find(id: tenantId) else {
            monitor.recordFailure(.invalidCredential, method: auth.method)
            throw Problem.unauthorized("The credential is not valid.")
        }
        switch tenant.status {
        case .suspended:
            monitor.recordFailure(.tenantSuspended, method: auth.method)
            throw Problem.forbidden("This account is suspended. Contact support to reactivate it.")
        case .deleted:
            monitor.recordFailure(.tenantDeleted, method: auth.method)
            throw Problem.notFound("This account has been deleted.")
        case .active:
            monitor.recordSuccess(method: auth.method)
            return (tenant, TenantContext(
                tenantId: tenant.id, slug: tenant.slug, tier: tenant.tier, principal: auth.principal, scopes: auth.scopes
            ))
        }
    }
}

/// Authenticates any caller (tenant or platform) for routes such as `/api/me`.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    static let platformPolicy = RateLimitPolicy(name: "platform", limit: 1000, window: 60)
    let authenticator: Authenticator
    let services: AppServices
    /// Platform roles allowed; nil admits every authenticated caller.
    let platformRoles: Set<Role>?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let auth = try await authenticator.authenticate(request) else {
            throw Problem.missingCredential
        }
        if let platformRoles {
            guard !auth.mfaPending else { throw Problem.mfaEnrolmentRequired }
            guard let role = auth.principal.role, platformRoles.contains(role) else {
                throw Problem.forbidden("This needs a platform \(platformRoles.map(\.rawValue).sorted().joined(separator: " or ")) account.")
            }
        }
        var context = context
        context.auth = auth
        context.logFields.tenantId = auth.tenantId
        var policy = Self.platformPolicy
        if let tenantId = auth.tenantId, let tenant = try await services.tenants.find(id: tenantId) {
            policy = services.policy(for: tenant)
        }
        return try await services.rateLimiter.limited(
            bucket: "cred:\(auth.principal.kind.rawValue):\(auth.principal.id)", policy: policy
        ) {
            try await next(request, context)
        }
    }
}

/// Counts tenant resolutions by method and failures by reason, for `/monitor/tenant-resolution`.
public final class TenantResolutionMonitor: Sendable {
    public enum Failure: String, Sendable, CaseIterable {
        case missingCredential = "missing_credential"
        case invalidCredential = "invalid_credential"
        case tenantSuspended = "tenant_suspended"
        case tenantDeleted = "tenant_deleted"
        case noTenant = "no_tenant"
    }

    public struct Snapshot: Codable, Sendable, Equatable {
        public var total = 0
        public var resolved: [String: Int] = [:]
        public var failures: [String: Int] = [:]
        public var failuresByMethod: [String: Int] = [:]

        enum CodingKeys: String, CodingKey {
            case total, resolved, failures
            case failuresByMethod = "failures_by_method"
        }
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    func recordSuccess(method: String) {
        state.withLock {
            $0.total += 1
            $0.resolved[method, default: 0] += 1
        }
    }

    func recordFailure(_ failure: Failure, method: String?) {
        state.withLock {
            $0.total += 1
            $0.failures[failure.rawValue, default: 0] += 1
            if let method { $0.failuresByMethod[method, default: 0] += 1 }
        }
    }
}
