import Foundation
import Hummingbird
import HTTPTypes

/// An RFC 9457 problem: every error Bookline answers with is one of these, rendered as
/// `application/problem+json` by `ProblemMiddleware` with the request id added.
public struct Problem: Error, Sendable, Equatable {
    public struct FieldError: Codable, Sendable, Equatable {
        public let field: String
        public let message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    public var status: HTTPResponse.Status
    /// A stable identifier clients can switch on, e.g. `urn:bookline:problem:validation`.
    public var type: String
    public var title: String
    public var detail: String?
    public var errors: [FieldError] = []
    /// Extra response headers (Retry-After, WWW-Authenticate, ...).
    public var headers: [String: String] = [:]

    public init(status: HTTPResponse.Status, slug: String, title: String, detail: String? = nil) {
        self.status = status
        self.type = "urn:bookline:problem:\(slug)"
        self.title = title
        self.detail = detail
    }

    public static func validation(_ errors: [FieldError]) -> Problem {
        var problem = Problem(
            status: .unprocessableContent, slug: "validation", title: "Invalid request",
            detail: errors.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        )
        problem.errors = errors
        return problem
    }

    public static func validation(field: String, _ message: String) -> Problem {
        validation([FieldError(field: field, message: message)])
    }

    public static func malformedBody(_ detail: String, field: String? = nil) -> Problem {
        var problem = Problem(status: .badRequest, slug: "malformed-body", title: "Malformed request body", detail: detail)
        if let field { problem.errors = [FieldError(field: field, message: detail)] }
        return problem
    }

    public static func unauthorized(_ detail: String) -> Problem {
        var problem = Problem(status: .unauthorized, slug: "unauthorized", title: "Authentication required", detail: detail)
        problem.headers["WWW-Authenticate"] = "Bearer realm=\"bookline\""
        return problem
    }

    /// No credential at all (as opposed to a wrong one).
    public static var missingCredential: Problem { unauthorized("Send a credential in the Authorization header.") }

    /// A tenant that requires a second factor, and a user who has not enrolled one yet.
    public static let mfaEnrolmentRequired = Problem(
        status: .forbidden, slug: "mfa-enrolment-required", title: "Two-factor sign-in required",
        detail: "This account requires two-factor sign-in. Enrol an authenticator (POST /api/me/mfa/totp), then sign in again."
    )

    public static func forbidden(_ detail: String) -> Problem {
        Problem(status: .forbidden, slug: "forbidden", title: "Forbidden", detail: detail)
    }

    public static func notFound(_ detail: String = "No such resource.") -> Problem {
        Problem(status: .notFound, slug: "not-found", title: "Not found", detail: detail)
    }

    public static func payloadTooLarge(limit: Int) -> Problem {
        Problem(
            status: .contentTooLarge, slug: "payload-too-large", title: "Request body too large",
            detail: "The request body is larger than the \(limit) byte limit."
        )
    }

    public static func unavailable(_ detail: String, retryAfterSeconds: Int) -> Problem {
        var problem = Problem(status: .serviceUnavailable, slug: "unavailable", title: "Service unavailable", detail: detail)
        problem.headers["Retry-After"] = String(retryAfterSeconds)
        return problem
    }

    /// 503, not 507: the client did nothing wrong and can retry, as with any outage.
    public static var storageFull: Problem {
        var problem = Problem(
            status: .serviceUnavailable, slug: "storage-full", title: "Storage full",
            detail: "The database has run out of storage space, so nothing was saved. Reads still work; try again once space is freed."
        )
        problem.headers["Retry-After"] = "60"
        return problem
    }

    public static let internalError = Problem(
        status: .internalServerError, slug: "internal", title: "Internal server error",
        detail: "Something went wrong on our side. Quote the request id when reporting it."
    )

    /// Maps Hummingbird's own errors (unknown route, wrong method, ...) onto problems.
    public static func from(httpError error: HTTPError) -> Problem {
        let slug: String
        switch error.status {
        case .notFound: slug = "not-found"
        case .methodNotAllowed: slug = "method-not-allowed"
        case .contentTooLarge: slug = "payload-too-large"
        case .unsupportedMediaType: slug = "unsupported-media-type"
        default: slug = error.status.code < 500 ? "bad-request" : "internal"
        }
        var detail = error.body
        if error.status == .notFound, detail == nil { detail = "No route matches this method and path." }
        var problem = Problem(status: error.status, slug: slug, title: error.status.reasonPhrase, detail: detail)
        for field in error.headers {
            problem.headers[field.name.canonicalName] = field.value
        }
        return problem
    }

    struct Body: Encodable {
        let type: String
        let title: String
        let status: Int
        let detail: String?
        let request_id: String
        let errors: [FieldError]?
    }

    func response(requestId: String) -> Response {
        let body = Body(
            type: type, title: title, status: Int(status.code), detail: detail,
            request_id: requestId, errors: errors.isEmpty ? nil : errors
        )
        let data = (try? JSONEncoder.bookline.encode(body)) ?? Data("{}".utf8)
        var fields = HTTPFields()
        fields[.contentType] = "application/problem+json"
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
