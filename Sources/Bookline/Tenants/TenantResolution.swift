import Foundation
import Hummingbird
import HTTPTypes
import Synchronization

/// What a credential in a request points at, if the request carries one this resolver reads.
public enum CredentialResolution: Sendable {
    case tenant(id: String, principal: Principal, scopes: Set<String>)
    /// The request carries this kind of credential but it is wrong (unknown, revoked, expired...).
    case invalid(reason: String)
}

/// One way of turning a request credential into a tenant: API key, JWT, development header.
/// The middleware asks each in order; the first that recognises a credential decides.
public protocol CredentialResolver: Sendable {
    /// Label in `/monitor/tenant-resolution`, e.g. `api_key`.
    var method: String { get }
    /// nil when the request carries no credential of this kind.
    func resolve(_ request: Request) async throws -> CredentialResolution?
}

/// Test-only credential: `X-Bookline-Dev-Tenant: <tenant id>`. Enabled only by
/// `AppConfig.allowDevTenantHeader`, which no environment variable sets.
public struct DevelopmentHeaderResolver: CredentialResolver {
    public static let header = HTTPField.Name("X-Bookline-Dev-Tenant")!
    public var method: String { "development_header" }

    public init() {}

    public func resolve(_ request: Request) async throws -> CredentialResolution? {
        guard let value = request.headers[Self.header] else { return nil }
        return .tenant(id: value, principal: Principal(kind: .development, id: value), scopes: ["*"])
    }
}

/// Resolves the tenant for `/api` routes and refuses with problem responses:
/// 401 no or bad credential, 403 suspended tenant, 404 deleted tenant.
struct TenantResolutionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let resolvers: [any CredentialResolver]
    let tenants: TenantStore
    let monitor: TenantResolutionMonitor

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.tenant = try await resolve(request)
        context.logFields.tenantId = context.tenant?.tenantId
        return try await next(request, context)
    }

    private func resolve(_ request: Request) async throws -> TenantContext {
        for resolver in resolvers {
            guard let outcome = try await resolver.resolve(request) else { continue }
            switch outcome {
            case .invalid:
                monitor.recordFailure(.invalidCredential, method: resolver.method)
                throw Problem.unauthorized("The credential is not valid.")
            case .tenant(let id, let principal, let scopes):
                guard let tenant = try await tenants.find(id: id) else {
                    monitor.recordFailure(.invalidCredential, method: resolver.method)
                    throw Problem.unauthorized("The credential is not valid.")
                }
                switch tenant.status {
                case .suspended:
                    monitor.recordFailure(.tenantSuspended, method: resolver.method)
                    throw Problem.forbidden("This account is suspended. Contact support to reactivate it.")
                case .deleted:
                    monitor.recordFailure(.tenantDeleted, method: resolver.method)
                    throw Problem.notFound("This account has been deleted.")
                case .active:
                    monitor.recordSuccess(method: resolver.method)
                    return TenantContext(
                        tenantId: tenant.id, slug: tenant.slug, tier: tenant.tier, principal: principal, scopes: scopes
                    )
                }
            }
        }
        monitor.recordFailure(.missingCredential, method: nil)
        throw Problem.unauthorized("Send a credential in the Authorization header.")
    }
}

/// Counts tenant resolutions by method and failures by reason, for `/monitor/tenant-resolution`.
public final class TenantResolutionMonitor: Sendable {
    public enum Failure: String, Sendable, CaseIterable {
        case missingCredential = "missing_credential"
        case invalidCredential = "invalid_credential"
        case tenantSuspended = "tenant_suspended"
        case tenantDeleted = "tenant_deleted"
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
