import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// The context every request carries. Middleware fill in the request id and, on `/api`
/// routes, the resolved tenant.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Accepted from `X-Request-Id` or minted; echoed on the response and in every error body.
    public var requestId: String = ""
    /// Set by `TenantResolutionMiddleware`; handlers use `TenantRequestContext` instead.
    public var tenant: TenantContext?
    /// Set by `AuthenticationMiddleware` on routes open to any authenticated caller.
    public var auth: Authentication?
    /// Shared with the access log, which wraps the middleware that resolves the tenant.
    public let logFields = RequestLogFields()
    /// The peer's IP address (no proxy headers are trusted).
    public let remoteIP: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteIP = source.channel.remoteAddress?.ipAddress
    }

    /// Who did something, for the audit log.
    public func auditActor(_ request: Request, principal: Principal?) -> AuditActor {
        AuditActor(request, principal: principal, ip: remoteIP, requestId: requestId)
    }

    /// `BodyLimitMiddleware` enforces the configured limit; this is only a last wall.
    public var maxUploadSize: Int { AppConfig.maxBodyBytesCeiling }
    public var responseEncoder: JSONEncoder { .bookline }
}

/// The context of tenant-scoped routes: a tenant is always present, so a handler cannot
/// forget to check it. Built from `AppRequestContext` after tenant resolution.
public struct TenantRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let requestId: String
    public let tenant: TenantContext
    public let remoteIP: String?

    public init(context: AppRequestContext) throws {
        guard let tenant = context.tenant else {
            throw Problem.unauthorized("No credential was given.")
        }
        self.coreContext = context.coreContext
        self.requestId = context.requestId
        self.tenant = tenant
        self.remoteIP = context.remoteIP
    }

    public func auditActor(_ request: Request) -> AuditActor {
        AuditActor(request, principal: tenant.principal, ip: remoteIP, requestId: requestId)
    }

    public var maxUploadSize: Int { AppConfig.maxBodyBytesCeiling }
    public var responseEncoder: JSONEncoder { .bookline }
}

/// Fields the access log line reports that inner middleware discover (the tenant).
public final class RequestLogFields: Sendable {
    private let tenant = Mutex<String?>(nil)

    public var tenantId: String? {
        get { tenant.withLock { $0 } }
        set { tenant.withLock { $0 = newValue } }
    }
}

extension JSONEncoder {
    /// ISO-8601 UTC times on the wire. Keys are sorted: Foundation's encoder otherwise emits
    /// them in hash order, which changes from run to run (sorting costs ~5% on /api/me).
    public static let bookline: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

extension JSONDecoder {
    public static let bookline: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = ISOTime.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "Expected an ISO-8601 time, got \(text.prefix(40))")
            }
            return date
        }
        return decoder
    }()
}

extension AuditActor {
    /// The actor of a request: its principal (or anonymous), address, user agent (capped) and id.
    init(_ request: Request, principal: Principal?, ip: String?, requestId: String) {
        self.init(
            type: principal?.kind.rawValue ?? "anonymous", id: principal?.id, ip: ip,
            userAgent: request.headers[.userAgent].map { String($0.prefix(256)) }, requestId: requestId
        )
    }
}
