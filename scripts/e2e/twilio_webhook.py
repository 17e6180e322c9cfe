"""Signs inbound SMS webhooks with Twilio's own RequestValidator and checks Bookline accepts
exactly those: a signed STOP opts the sender out and answers TwiML; unsigned, wrongly signed
and tampered requests are refused with 403 and change nothing."""
import os
import urllib.error
import urllib.parse
import urllib.request

from twilio.request_validator import RequestValidator

from client import BASE, call

TOKEN = os.environ["TWILIO_AUTH_TOKEN"]


def webhook(path, params, signature):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    request = urllib.request.Request(BASE + path, data=urllib.parse.urlencode(params).encode(), method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


signup = call("POST", "/api/clients/onboard", {
    "businessName": "Webhook Check Ltd", "email": "webhook-owner@example.com", "phone": "+44 20 7946 0018",
    "industry": "generic", "password": "webhook-check-password-42",
})
key, tenant = signup["apiKey"], signup["tenantId"]
path = f"/webhooks/twilio/{tenant}/sms"
params = {"MessageSid": "SM" + "e" * 32, "AccountSid": "AC" + "1" * 32, "From": "+447400100777",
          "To": "+447400100999", "Body": "Stop please? No: STOP", "NumMedia": "0"}
validator = RequestValidator(TOKEN)
good = validator.compute_signature(BASE + path, params)

for name, signature, sent in [("unsigned", None, params), ("wrong token", RequestValidator("x" * 32).compute_signature(BASE + path, params), params),
                              ("tampered", good, {**params, "Body": "START"})]:
    status, _ = webhook(path, sent, signature)
    assert status == 403, (name, status)
assert call("GET", "/api/opt-outs", key=key)["items"] == [], "rejected webhooks change nothing"

params["Body"] = "STOP"
status, body = webhook(path, params, validator.compute_signature(BASE + path, params))
assert status == 200 and "<Message>You're unsubscribed from Webhook Check Ltd messages." in body, (status, body)
items = call("GET", "/api/opt-outs", key=key)["items"]
assert [item["phone"] for item in items] == ["+447400100777"] and items[0]["reason"] == "sms_stop", items
print("twilio: RequestValidator-signed webhooks accepted, unsigned/wrong/tampered refused")
