import BooklineCore
import Foundation
import Hummingbird
import HTTPTypes
import Logging

/// Accepts a sane `X-Request-Id` from the caller (so ids follow a request across services)
/// or mints one, and echoes it on the response.
struct RequestIdMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    static let header = HTTPField.Name("X-Request-Id")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.requestId = Self.accepted(request.headers[Self.header]) ?? Identifier.make()
        var response = try await next(request, context)
        response.headers[Self.header] = context.requestId
        return response
    }

    /// Up to 128 characters of `[A-Za-z0-9._:-]`; anything else (log injection, huge values) is replaced.
    static func accepted(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count) else { return nil }
        let allowed = value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":")
        }
        return allowed ? value : nil
    }
}

/// Security headers on every response, plus a strict CSP on pages (no inline script).
struct SecureHeadersMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let httpsOnly: Bool

    static let contentSecurityPolicy = [
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'self'",
        "form-action 'self'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "strict-origin-when-cross-origin"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        if httpsOnly {
            response.headers[.strictTransportSecurity] = "max-age=31536000; includeSubDomains"
        }
        if response.headers[.contentType]?.hasPrefix("text/html") == true {
            response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        }
        return response
    }
}

/// One log line per request: method, path (never the query, which may carry secrets),
/// status, duration, tenant and request id.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        logger.info("\(request.method) \(request.uri.path) \(response.status.code)", metadata: [
            "method": "\(request.method)",
            "path": "\(request.uri.path)",
            "status": "\(response.status.code)",
            "duration_ms": "\((milliseconds * 100).rounded() / 100)",
            "tenant": "\(context.logFields.tenantId ?? "-")",
            "request_id": "\(context.requestId)",
        ])
        return response
    }
}

/// Turns every thrown error into `application/problem+json`. Unknown errors are logged with
/// the request id and answered with a generic 500: no stack trace or SQL reaches a client.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let logger: Logger
    var routes: RouteTable?
    /// Where unhandled errors are recorded (error_logs, alerts).
    var errors: ErrorMonitor?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return problem.response(requestId: context.requestId)
        } catch let error as HTTPError {
            // The router says 404 for a known path with another method: that is a 405.
            if error.status == .notFound, let allowed = routes?.methods(for: request.uri.path), !allowed.isEmpty {
                var problem = Problem(
                    status: .methodNotAllowed, slug: "method-not-allowed", title: "Method not allowed",
                    detail: "\(request.method) is not allowed here; use \(allowed.joined(separator: ", "))."
                )
                problem.headers["Allow"] = allowed.joined(separator: ", ")
                return problem.response(requestId: context.requestId)
            }
            return Problem.from(httpError: error).response(requestId: context.requestId)
        } catch let error as DatabaseUnavailable {
            logger.error("database unavailable", metadata: ["request_id": "\(context.requestId)", "operation": "\(error.operation)"])
            return Problem.unavailable("The database is unavailable; try again shortly.", retryAfterSeconds: 5)
                .response(requestId: context.requestId)
        } catch where TransientError.isTransient(error) {
            // The database is down or unreachable: a fast 503 the client may retry, logged once
            // here and reported by /health, not recorded as an error per request.
            logger.error("database unavailable", metadata: [
                "request_id": "\(context.requestId)", "error": "\(TransientError.kind(of: error))",
            ])
            return Problem.unavailable("The database is unavailable; try again shortly.", retryAfterSeconds: 5)
                .response(requestId: context.requestId)
        } catch where TransientError.isStorageFull(error) {
            // Nothing is recorded in error_logs: that write would fail the same way.
            logger.critical("database storage full", metadata: [
                "request_id": "\(context.requestId)", "error": "\(TransientError.kind(of: error))",
            ])
            return Problem.storageFull.response(requestId: context.requestId)
        } catch {
            let type = String(reflecting: Swift.type(of: error))
            logger.error("unhandled error", metadata: ["request_id": "\(context.requestId)", "error_type": "\(type)"])
            await errors?.record(ErrorReport(
                service: "http", errorType: "unhandled:\(type)", message: "\(request.method) \(request.uri.path) failed",
                severity: .error, context: ["method": "\(request.method)", "path": request.uri.path], requestId: context.requestId
            ))
            return Problem.internalError.response(requestId: context.requestId)
        }
    }
}

/// Refuses bodies over the limit with 413: at once when `Content-Length` says so, else while
/// collecting a chunked body (which is then kept in memory for the handler).
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let limit: Int
    /// Larger limits for specific paths (file imports).
    var overrides: [String: Int] = [:]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let limit = overrides[request.uri.path] ?? limit
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw Problem.payloadTooLarge(limit: limit)
        }
        guard request.method != .get, request.method != .head else {
            return try await next(request, context)
        }
        var request = request
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Problem.payloadTooLarge(limit: limit)
        }
        return try await next(request, context)
    }
}

/// Answers HEAD for every GET route: runs the GET and drops the body (RFC 9110 §9.3.2).
/// Wraps the whole router, because the router picks the route before any middleware runs.
struct HeadResponder<Base: HTTPResponder>: HTTPResponder {
    let base: Base

    func respond(to request: Request, context: Base.Context) async throws -> Response {
        guard request.method == .head else { return try await base.respond(to: request, context: context) }
        var head = request.head
        head.method = .get
        var response = try await base.respond(to: Request(head: head, body: request.body), context: context)
        response.body = .init()
        return response
    }
}

/// Refuses a URL carrying an encoded NUL (`%00`) in its path or query with 422: no id or
/// filter has a use for it, and PostgreSQL cannot compare text holding it.
struct NULGuardMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path.contains("%00") {
            throw Problem.validation(field: "path", "must not contain NUL (%00) characters")
        }
        if let query = request.uri.query, query.contains("%00") {
            throw Problem.validation(field: "query", "must not contain NUL (%00) characters")
        }
        return try await next(request, context)
    }
}
