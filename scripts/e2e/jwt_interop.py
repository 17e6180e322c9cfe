"""Verifies a Bookline access token with PyJWT and the server's JWKS, independently of Bookline."""
import json
import os
import urllib.request

import jwt

BASE = os.environ["BOOKLINE_URL"]


def post(path, body, headers=None):
    request = urllib.request.Request(
        BASE + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    return json.load(urllib.request.urlopen(request))


signup = post("/api/clients/onboard", {
    "businessName": "JWT Interop Ltd", "email": "jwt@example.com", "phone": "+44 20 7946 0018",
    "industry": "legal", "password": "interop-password-42",
})
login = post("/api/auth/login", {"email": "jwt@example.com", "password": "interop-password-42"})
token = login["accessToken"]

jwks = jwt.PyJWKClient(BASE + "/.well-known/jwks.json")
key = jwks.get_signing_key_from_jwt(token)
claims = jwt.decode(
    token, key.key, algorithms=["EdDSA"], audience="bookline-api", issuer=BASE,
    options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]},
)
assert claims["tid"] == signup["tenantId"], claims
assert claims["role"] == "owner", claims

# A token from an API key verifies too and carries the key's scopes.
exchanged = post("/api/auth/token", {}, {"Authorization": "Bearer " + signup["apiKey"]})
key_claims = jwt.decode(exchanged["accessToken"], jwks.get_signing_key_from_jwt(exchanged["accessToken"]).key,
                        algorithms=["EdDSA"], audience="bookline-api", issuer=BASE)
assert "keys:manage" in key_claims["scope"].split(), key_claims

# PyJWT refuses the token for another audience, as Bookline does.
try:
    jwt.decode(token, key.key, algorithms=["EdDSA"], audience="someone-else")
    raise SystemExit("audience check did not fail")
except jwt.InvalidAudienceError:
    pass
print("jwt-interop: 1 passed, 0 failed")
