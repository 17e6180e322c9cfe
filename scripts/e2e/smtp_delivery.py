"""Sends email through a running Bookline to a real SMTP server (aiosmtpd) and checks what
arrived: envelope, headers, and both the plain-text and HTML parts, decoded by Python's email.
Customer email is held until the owner confirms their address, so this confirms it first, with
the link from the verification mail."""
import email
import email.policy
import glob
import json
import os
import time

from client import call, link_in, wait_for_mail

FOLDER = os.environ["SMTP_CAPTURE_DIR"]


signup = call("POST", "/api/clients/onboard", {
    "businessName": "Mail Check Dental", "email": "mail-owner@example.com", "phone": "+44 20 7946 0018",
    "industry": "dental", "password": "mail-check-password-42",
})
key = signup["apiKey"]
lead_first = call("POST", "/api/leads", {"name": "Early Patient", "phone": "07400 100556", "email": "early@example.com"}, key)
held = call("POST", "/api/messages", {"channel": "email", "leadId": lead_first["id"], "template": "follow_up_no_answer",
                                      "variables": {"business_phone": "020 7946 0018"}}, key)
time.sleep(1)
held = call("GET", f"/api/messages/{held['id']}", key=key)
assert held["status"] == "queued" and "verif" in (held.get("reason") or ""), held
_, token = link_in(wait_for_mail("mail-owner@example.com", "Confirm your email address"), "/verify-email")
assert call("POST", "/api/auth/email/verify", {"token": token})["emailVerified"] is True
lead = call("POST", "/api/leads", {"name": "Zoë Patient", "phone": "07400 100555", "email": "zoe@example.com"}, key)
sent = call("POST", "/api/messages", {
    "channel": "email", "leadId": lead["id"], "template": "booking_confirmation",
    "variables": {"service": "Check-up", "date": "2 December", "time": "10:30", "business_phone": "020 7946 0018"},
}, key)
follow_up = call("POST", "/api/messages", {
    "channel": "email", "leadId": lead["id"], "template": "follow_up_no_answer",
    "variables": {"business_phone": "020 7946 0018"},
}, key)

deadline = time.time() + 20
while time.time() < deadline:
    statuses = [call("GET", f"/api/messages/{m['id']}", key=key)["status"] for m in (sent, follow_up)]
    if all(status == "sent" for status in statuses):
        break
    time.sleep(0.2)
assert statuses == ["sent", "sent"], statuses

# Alerts to the platform admin may share the server; only the tenant's mail counts here.
mails = [json.load(open(path)) for path in sorted(glob.glob(os.path.join(FOLDER, "*.json")), key=lambda p: int(os.path.basename(p)[:-5]))]
mails = [mail for mail in mails if mail["rcpt_tos"] == ["zoe@example.com"]]
assert len(mails) == 2, f"{len(mails)} messages arrived"
first = mails[0]
assert first["mail_from"] == "bookings@bookline.test", first["mail_from"]
assert first["rcpt_tos"] == ["zoe@example.com"], first["rcpt_tos"]
message = email.message_from_string(first["data"], policy=email.policy.default)
assert message["Subject"] == "Your Check-up with Mail Check Dental on 2 December", message["Subject"]
assert message["From"] == "bookings@bookline.test" and message["To"] == "zoe@example.com"
assert message["Message-ID"].startswith("<") and message["Date"], (message["Message-ID"], message["Date"])
assert message.get_content_type() == "multipart/alternative"
plain = message.get_body(preferencelist=("plain",)).get_content()
html = message.get_body(preferencelist=("html",)).get_content()
assert "Hi Zoë Patient" in plain and "Mail Check Dental" in plain, plain
assert "<strong>Mail Check Dental</strong>" in html, html
assert message["List-Unsubscribe"] is None, "a booking confirmation is not marketing"
second = email.message_from_string(mails[1]["data"], policy=email.policy.default)
assert second["List-Unsubscribe"] == "<mailto:bookings@bookline.test?subject=unsubscribe>", second["List-Unsubscribe"]
deadline = time.time() + 20
while call("GET", f"/api/messages/{held['id']}", key=key)["status"] != "sent" and time.time() < deadline:
    time.sleep(0.2)
assert call("GET", f"/api/messages/{held['id']}", key=key)["status"] == "sent", "the held email did not go once verified"
print("smtp: a held email went once the owner was verified; 2 messages delivered with both parts and the right headers")
