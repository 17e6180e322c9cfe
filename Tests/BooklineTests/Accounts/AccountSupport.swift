import Bookline
import BooklineCore
import Foundation
import HTTPTypes
import HummingbirdTesting

/// Typed views of the account routes' answers, and sign-in helpers that keep the whole answer.
struct Tokens: Decodable {
    let accessToken: String
    let refreshToken: String?
    let scope: String
    let mfaEnrolmentRequired: Bool?
}

struct Challenge: Decodable {
    let mfaRequired: Bool
    let mfaToken: String
    let expiresIn: Int
}

struct SessionItem: Decodable {
    let id: String
    let userAgent: String?
    let current: Bool
}

struct SessionItems: Decodable { let items: [SessionItem] }

struct ProblemBody: Decodable {
    struct FieldError: Decodable { let field: String; let message: String }
    let type: String
    let status: Int
    let detail: String?
    let errors: [FieldError]?
    var fields: [String] { errors?.map(\.field) ?? [] }
}

struct MeAccount: Decodable {
    struct Account: Decodable { let email: String; let emailVerified: Bool; let mfaEnabled: Bool; let mfaEnrolmentRequired: Bool }
    let account: Account?
}

extension TestResponse {
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: body))
        } catch {
            throw JSONShapeError(text: "\(T.self) from \(status): \(text)")
        }
    }
}

extension TestClientProtocol {
    /// POST /api/auth/login, with a user agent so the session shows it.
    func signIn(_ email: String, _ password: String, agent: String = "TestAgent/1.0") async throws -> TestResponse {
        try await request(.post, "/api/auth/login", headers: [.userAgent: agent],
                          json: #"{"email": "\#(email)", "password": "\#(password)"}"#)
    }

    func tokens(_ email: String, _ password: String, agent: String = "TestAgent/1.0") async throws -> Tokens {
        let response = try await signIn(email, password, agent: agent)
        guard response.status == .ok else { throw JSONShapeError(text: "sign-in: \(response.status) \(response.text)") }
        return try response.decode(Tokens.self)
    }

    func refresh(_ token: String) async throws -> TestResponse {
        try await request(.post, "/api/auth/refresh", json: #"{"refreshToken": "\#(token)"}"#)
    }
}

/// The token in a link such as `http://.../reset-password?token=bka_...`.
func linkToken(in text: String) -> String? {
    guard let range = text.range(of: #"token=(bka_[0-9A-Za-z]{43})"#, options: .regularExpression) else { return nil }
    return String(text[range].dropFirst("token=".count))
}

extension RecordingAccountMailer {
    /// The token of the link in the next mail.
    func nextToken() async throws -> String {
        guard let mail = await next() else { throw JSONShapeError(text: "no account mail arrived") }
        guard let token = linkToken(in: mail.text) else { throw JSONShapeError(text: "no link in: \(mail.text)") }
        return token
    }
}
