"""Voice webhooks signed by Python's own hmac, and critical alerts delivered to a real SMTP
server (aiosmtpd) and a fake Slack webhook after more than 10 errors in 5 minutes."""
import glob
import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.request

from client import BASE, call

SECRET = "e2e-voice-secret-0123456789"
ADMIN = os.environ["ADMIN_EMAIL"]


def post_webhook(tenant_id, message, secret=SECRET):
    body = json.dumps({"message": message}).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"{BASE}/webhooks/voice/{tenant_id}", data=body, method="POST",
                                     headers={"Content-Type": "application/json", "X-Vapi-Signature": signature})
    try:
        response = urllib.request.urlopen(request)
        return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


signup = call("POST", "/api/clients/onboard", {
    "businessName": "Voice Check Clinic", "email": "voice-owner@example.com", "phone": "+44 20 7946 0019",
    "industry": "dental", "password": "voice-check-password-42",
})
key, tenant = signup["apiKey"], signup["tenantId"]
lead = call("POST", "/api/leads", {"name": "Caller", "phone": "07400 100777"}, key)
call("PUT", "/api/settings/calls", {"webhookSecret": SECRET, "averageDealValue": 9000}, key)

report = {"type": "end-of-call-report", "endedReason": "customer-ended-call", "durationSeconds": 130.4, "cost": 0.37,
          "startedAt": "2026-11-24T09:00:00.000Z", "endedAt": "2026-11-24T09:02:10.400Z",
          "call": {"id": "e2e-call-1", "type": "outboundPhoneCall", "customer": {"number": "+447400100777"}},
          "analysis": {"summary": "Booked a cleaning.", "structuredData": {"outcome": "booked"}}}
status, answer = post_webhook(tenant, report)
assert status == 200 and answer["duplicate"] is False, (status, answer)
status, replay = post_webhook(tenant, report)
assert status == 200 and replay == {**answer, "duplicate": True}, (status, replay)
stored = call("GET", f"/api/calls/{answer['callId']}", key=key)
assert stored["outcome"] == "booked" and stored["leadId"] == lead["id"], stored
assert stored["durationSeconds"] == 130 and stored["cost"] == {"amount": 37, "currency": "GBP"}, stored
assert call("GET", f"/api/leads/{lead['id']}", key=key)["status"] == "booked"
summary = call("GET", "/api/analytics/summary?from=2026-11-24&to=2026-11-24", key=key)
assert summary["totalCalls"] == 1 and summary["conversionRate"] == 100 and summary["roi"] == 24224.3, summary
print("voice: signed event recorded once, lead booked, analytics counted it")

# Eleven forged events: each is refused and recorded; together they pass the alert threshold.
for index in range(11):
    status, problem = post_webhook(tenant, {**report, "call": {"id": f"forged-{index}"}}, secret="not-the-secret-000")
    assert status == 403, (status, problem)
owner = call("POST", "/api/auth/login", {"email": "voice-owner@example.com", "password": "voice-check-password-42"})
stats = call("GET", "/api/error-stats", key=owner["accessToken"])
rejected = next(t for t in stats["topErrorTypes"] if t["errorType"] == "webhook_rejected")
assert rejected["count"] == 11 and stats["bySeverity"]["warning"] == 11, stats

deadline = time.time() + 20
alerts, slack = [], []
while time.time() < deadline:
    mails = [json.load(open(p)) for p in glob.glob(os.path.join(os.environ["SMTP_CAPTURE_DIR"], "*.json"))]
    alerts = [m for m in mails if m["rcpt_tos"] == [ADMIN]]
    slack = [json.load(open(p))["text"] for p in glob.glob(os.path.join(os.environ["SLACK_CAPTURE_DIR"], "*.json"))]
    if alerts and slack:
        break
    time.sleep(0.2)
rate = [m for m in alerts if "Subject: [Bookline] CRITICAL: Error rate" in m["data"]]
assert len(rate) == 1, f"{len(rate)} error-rate alert emails (one per 15 minutes expected)"
assert sum("[CRITICAL ALERT] Error rate" in text for text in slack) == 1, slack
assert SECRET not in rate[0]["data"] and all(SECRET not in text for text in slack)
print("alerts: one error-rate alert by email and Slack after 11 errors, then held back")
