@testable import Bookline
import BooklineCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Login, refresh tokens and access JWTs")
struct AuthTests {
    func loginBody(_ email: String, _ password: String) -> String {
        #"{"email": "\#(email)", "password": "\#(password)"}"#
    }

    @Test func loginRefreshRotationAndLogout() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let response = try await client.request(.post, "/api/auth/login", json: loginBody(tenant.ownerEmail, tenant.ownerPassword))
            #expect(response.status == .ok)
            let body = try response.json()
            let access = try #require(body["accessToken"] as? String)
            let refresh = try #require(body["refreshToken"] as? String)
            #expect(body["tokenType"] as? String == "Bearer")
            #expect(body["expiresIn"] as? Int == 900)
            #expect(body["refreshExpiresIn"] as? Int == 30 * 24 * 3600)

            let me = try await client.request(.get, "/api/me", key: access)
            #expect(try me.json()["role"] as? String == "owner")
            #expect(try me.json()["authenticatedWith"] as? String == "jwt")

            let rotated = try await client.request(.post, "/api/auth/refresh", json: #"{"refreshToken": "\#(refresh)"}"#)
            #expect(rotated.status == .ok)
            let next = try #require(try rotated.json()["refreshToken"] as? String)
            #expect(next != refresh)

            // Logout revokes the family: the new refresh token no longer works.
            let logout = try await client.request(.post, "/api/auth/logout", json: #"{"refreshToken": "\#(next)"}"#)
            #expect(logout.status == .noContent)
            let after = try await client.request(.post, "/api/auth/refresh", json: #"{"refreshToken": "\#(next)"}"#)
            #expect(after.status == .unauthorized)
        }
    }

    @Test func reusingASpentRefreshTokenRevokesTheFamily() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let first = try await client.request(.post, "/api/auth/login", json: loginBody(tenant.ownerEmail, tenant.ownerPassword))
            let spent = try #require(try first.json()["refreshToken"] as? String)
            let rotated = try await client.request(.post, "/api/auth/refresh", json: #"{"refreshToken": "\#(spent)"}"#)
            let current = try #require(try rotated.json()["refreshToken"] as? String)

            let replay = try await client.request(.post, "/api/auth/refresh", json: #"{"refreshToken": "\#(spent)"}"#)
            #expect(replay.status == .unauthorized)
            #expect((try replay.problem()["detail"] as? String)?.contains("already used") == true)
            let legit = try await client.request(.post, "/api/auth/refresh", json: #"{"refreshToken": "\#(current)"}"#)
            #expect(legit.status == .unauthorized, "the whole family is revoked")

            let actions = try await services.database.sql.raw("SELECT action FROM audit_log").all()
                .map { try $0.decode(column: "action", as: String.self) }
            #expect(actions.contains("auth.token_family_revoked"))
        }
    }

    @Test func badCredentialsGetOneGenericAnswerAndRepeatedFailuresLock() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let unknown = try await client.request(.post, "/api/auth/login", json: loginBody("nobody@example.com", "whatever-password"))
            let wrong = try await client.request(.post, "/api/auth/login", json: loginBody(tenant.ownerEmail, "wrong-password-123"))
            #expect(unknown.status == .unauthorized && wrong.status == .unauthorized)
            #expect(try unknown.problem()["detail"] as? String == wrong.problem()["detail"] as? String)

            for _ in 0..<4 {
                _ = try await client.request(.post, "/api/auth/login", json: loginBody(tenant.ownerEmail, "wrong-password-123"))
            }
            let locked = try await client.request(.post, "/api/auth/login", json: loginBody(tenant.ownerEmail, tenant.ownerPassword))
            #expect(locked.status == .tooManyRequests, "locked after 5 failures even with the right password")
            #expect(try locked.problem()["detail"] as? String == "Too many wrong codes or passwords. Wait 15 minutes, or reset your password by email.")
        }
    }

    @Test func loginIsLimitedPerAddress() async throws {
        try await withApp(configure: { $0.loginAttemptsPer15Minutes = 3 }) { client, _ in
            for _ in 0..<3 {
                let response = try await client.request(.post, "/api/auth/login", json: loginBody("x@example.com", "wrong-password-1"))
                #expect(response.status == .unauthorized)
            }
            let limited = try await client.request(.post, "/api/auth/login", json: loginBody("x@example.com", "wrong-password-1"))
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
        }
    }

    @Test func apiKeyBuysAScopedTokenThatDiesWithTheKey() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant(scopes: ["leads:read"])
            let response = try await client.request(.post, "/api/auth/token", key: tenant.key)
            #expect(response.status == .ok)
            let token = try #require(try response.json()["accessToken"] as? String)
            #expect(try response.json()["scope"] as? String == "leads:read")
            let me = try await client.request(.get, "/api/me", key: token)
            #expect(try me.json()["scopes"] as? [String] == ["leads:read"])

            try await services.apiKeys.revoke(tenantId: tenant.id, id: tenant.keyId, at: services.now().addingTimeInterval(-1))
            #expect(try await client.request(.get, "/api/tenant", key: token).status == .unauthorized)
            #expect(try await client.request(.post, "/api/auth/token", key: tenant.key).status == .unauthorized)
        }
    }

    @Test func jwksVerifiesTheServersTokens() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let token = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
            let jwks = try await client.request(.get, "/.well-known/jwks.json").json()
            let key = try #require((jwks["keys"] as? [[String: String]])?.first)
            #expect(key["kty"] == "OKP" && key["crv"] == "Ed25519" && key["alg"] == "EdDSA")

            let parts = token.split(separator: ".").map(String.init)
            let header = try #require(try JSONSerialization.jsonObject(with: Data(base64URLEncoded: parts[0])!) as? [String: Any])
            #expect(header["kid"] as? String == key["kid"])
            let publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: Data(base64URLEncoded: key["x"]!)!)
            #expect(publicKey.isValidSignature(Data(base64URLEncoded: parts[2])!, for: Data("\(parts[0]).\(parts[1])".utf8)))
            let claims = try #require(try JSONSerialization.jsonObject(with: Data(base64URLEncoded: parts[1])!) as? [String: Any])
            #expect(claims["tid"] as? String == tenant.id)
            #expect(claims["aud"] as? [String] == ["bookline-api"])
            for claim in ["iss", "sub", "scope", "role", "iat", "exp", "jti"] { #expect(claims[claim] != nil, "\(claim)") }
        }
    }

    @Test func keyRotationKeepsOldTokensValid() async throws {
        try await withApp { client, services in
            let tenant = try await services.makeTenant()
            let before = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
            let newKid = try await services.tokens.rotate()
            let after = try await login(client, email: tenant.ownerEmail, password: tenant.ownerPassword)
            #expect(try await client.request(.get, "/api/me", key: before).status == .ok)
            #expect(try await client.request(.get, "/api/me", key: after).status == .ok)
            let kids = (try await client.request(.get, "/.well-known/jwks.json").json()["keys"] as? [[String: String]])?.compactMap { $0["kid"] }
            #expect(kids?.count == 2 && kids?.last == newKid)
        }
    }

    /// Tokens that must all be refused.
    @Test func forgedAndMisusedTokensAreRefused() async throws {
        let clock = TestClock()
        try await withApp(now: clock.closure) { client, services in
            let tenant = try await services.makeTenant()
            let other = try await services.makeTenant("Other Salon")
            let issued = try await client.request(.post, "/api/auth/login", json: loginBody(tenant.ownerEmail, tenant.ownerPassword)).json()
            let token = try #require(issued["accessToken"] as? String)
            let refresh = try #require(issued["refreshToken"] as? String)
            let parts = token.split(separator: ".").map(String.init)
            let claims = try JSONDecoder().decode(AccessClaims.self, from: Data(base64URLEncoded: parts[1])!)
            let header = try #require(try JSONSerialization.jsonObject(with: Data(base64URLEncoded: parts[0])!) as? [String: Any])

            func encode(_ object: [String: Any]) throws -> String {
                try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]).base64URLEncoded()
            }
            var forged: [String: String] = [:]
            // Signed by a stranger's Ed25519 key under our kid.
            let stranger = Curve25519.Signing.PrivateKey()
            forged["wrong signature"] = "\(parts[0]).\(parts[1])." + (try stranger.signature(for: Data("\(parts[0]).\(parts[1])".utf8))).base64URLEncoded()
            forged["alg none"] = try "\(encode(["alg": "none", "kid": header["kid"]!, "typ": "JWT"])).\(parts[1])."
            let hsHeader = try encode(["alg": "HS256", "kid": header["kid"]!, "typ": "JWT"])
            let jwks = try await client.request(.get, "/.well-known/jwks.json").json()
            let publicX = ((jwks["keys"] as? [[String: String]])?.first?["x"])!
            let mac = HMAC<SHA256>.authenticationCode(for: Data("\(hsHeader).\(parts[1])".utf8), using: SymmetricKey(data: Data(publicX.utf8)))
            forged["HS256 with the public key"] = "\(hsHeader).\(parts[1]).\(Data(mac).base64URLEncoded())"
            var otherAudience = claims
            otherAudience.aud = ["someone-else"]
            forged["other audience"] = try services.tokens.signForTesting(header: ["alg": "EdDSA", "typ": "JWT"], claims: otherAudience)
            var notYet = claims
            notYet.nbf = claims.iat + 3600
            forged["not yet valid"] = try services.tokens.signForTesting(header: ["alg": "EdDSA", "typ": "JWT"], claims: notYet)
            var otherIssuer = claims
            otherIssuer.iss = "https://evil.example"
            forged["other issuer"] = try services.tokens.signForTesting(header: ["alg": "EdDSA", "typ": "JWT"], claims: otherIssuer)
            for field in ["jku", "x5u", "jwk"] {
                forged["\(field) header"] = try services.tokens.signForTesting(
                    header: ["alg": "EdDSA", "typ": "JWT", field: field == "jwk" ? ["kty": "OKP"] : "https://evil.example/keys"],
                    claims: claims
                )
            }
            forged["no kid"] = try services.tokens.signForTesting(header: ["alg": "EdDSA", "kid": NSNull()], claims: claims)
            forged["refresh token as access token"] = refresh

            for (name, credential) in forged {
                let response = try await client.request(.get, "/api/tenant", key: credential)
                #expect(response.status == .unauthorized, "\(name)")
            }

            // Tenant A's valid token gets 404 for tenant B's key ids.
            let foreign = try await client.request(.delete, "/api/keys/\(other.keyId)", key: token)
            #expect(foreign.status == .notFound)
            let mine = try await client.request(.get, "/api/tenant", key: token)
            #expect(try mine.json()["id"] as? String == tenant.id)

            // Sixteen minutes later the token has expired.
            clock.advance(by: 16 * 60)
            let expired = try await client.request(.get, "/api/tenant", key: token)
            #expect(expired.status == .unauthorized)
        }
    }
}

@Suite("Input caps on public endpoints")
struct InputCapTests {
    @Test func oversizedFieldsAreRefusedByName() async throws {
        try await withApp { client, _ in
            let long = String(repeating: "a", count: 300)
            let login = try await client.request(.post, "/api/auth/login", json: #"{"email": "\#(long)@example.com", "password": "\#(long)"}"#)
            #expect(login.status == .unprocessableContent)
            let fields = Set((try login.problem()["errors"] as? [[String: String]] ?? []).compactMap { $0["field"] })
            #expect(fields == ["email", "password"])
            let refresh = try await client.request(.post, "/api/auth/refresh", json: #"{"refreshToken": "\#(long)"}"#)
            #expect(refresh.status == .unprocessableContent)
            let logout = try await client.request(.post, "/api/auth/logout", json: #"{"refreshToken": "\#(long)"}"#)
            #expect(logout.status == .unprocessableContent)
        }
    }

    @Test func aTokenRequestWithoutACredentialIs401EvenWhenTheAddressIsLimited() async throws {
        try await withApp(configure: { $0.loginAttemptsPer15Minutes = 1 }) { client, _ in
            try await client.request(.post, "/api/auth/login", json: #"{"email": "a@example.com", "password": "whatever-123"}"#)
            let limited = try await client.request(.post, "/api/auth/token", key: APIKeyFormat.generate().key)
            #expect(limited.status == .tooManyRequests)
            let missing = try await client.request(.post, "/api/auth/token")
            #expect(missing.status == .unauthorized)
        }
    }
}
