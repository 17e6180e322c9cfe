import Hummingbird
import HTTPTypes

/// CORS for the origins listed in `BOOKLINE_CORS_ORIGINS` only: never a wildcard, and
/// credentials only for a listed origin. Wraps the router so preflight `OPTIONS` requests are
/// answered before route matching. Requests from other origins get no CORS fields (the
/// browser then blocks them); their preflights get 403.
struct CORSResponder<Base: HTTPResponder>: HTTPResponder {
    static var allowMethods: String { "GET, HEAD, POST, PUT, PATCH, DELETE" }
    static var allowHeaders: String { "Authorization, Content-Type, Idempotency-Key, X-API-Key, X-Request-Id" }
    static var exposeHeaders: String {
        "X-Request-Id, RateLimit, RateLimit-Policy, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, Idempotent-Replayed"
    }

    let base: Base
    let origins: Set<String>

    func respond(to request: Request, context: Base.Context) async throws -> Response {
        let origin = request.headers[.origin]
        let allowed = origin.map(origins.contains) ?? false
        if request.method == .options, origin != nil, request.headers[.accessControlRequestMethod] != nil {
            guard allowed, let origin else {
                return Response(status: .forbidden, headers: [.vary: "Origin"])
            }
            var headers = Self.fields(for: origin)
            headers[.accessControlAllowMethods] = Self.allowMethods
            headers[.accessControlAllowHeaders] = Self.allowHeaders
            headers[.accessControlMaxAge] = "600"
            return Response(status: .noContent, headers: headers)
        }
        var response = try await base.respond(to: request, context: context)
        response.headers.append(HTTPField(name: .vary, value: "Origin"))
        if allowed, let origin {
            for field in Self.fields(for: origin) { response.headers[field.name] = field.value }
        }
        return response
    }

    static func fields(for origin: String) -> HTTPFields {
        [
            .accessControlAllowOrigin: origin,
            .accessControlAllowCredentials: "true",
            .accessControlExposeHeaders: exposeHeaders,
            .vary: "Origin",
        ]
    }
}
