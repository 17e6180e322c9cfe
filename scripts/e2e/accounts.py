"""Accounts against independent clients: aiosmtpd receives the verification and reset mails and
their links work end to end (the reset through the /reset-password page in headless Chromium);
pyotp parses the server's otpauth:// URI (also read back from the QR code the dashboard draws,
decoded by OpenCV) and makes the codes the server accepts; a replayed code and a spent reset
link are refused."""
import os
import time
import urllib.parse

import cv2
import numpy
import pyotp
from client import BASE, call, call_status, chrome, link_in, wait_for_mail
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

OWNER, PASSWORD, NEW_PASSWORD = "accounts-owner@example.com", "accounts-password-42", "a-brand-new-password-77"

signup = call("POST", "/api/clients/onboard", {"businessName": "Accounts Check Dental", "email": OWNER, "phone": "+44 20 7946 0019",
                                               "industry": "dental", "password": PASSWORD})
token = call("POST", "/api/auth/login", {"email": OWNER, "password": PASSWORD})["accessToken"]
assert call("GET", "/api/me", key=token)["account"]["emailVerified"] is False

# Verification: the emailed link's page answers, and its token confirms the address once.
link, verify = link_in(wait_for_mail(OWNER, "Confirm your email address"), "/verify-email")
browser = chrome(1000)
wait = WebDriverWait(browser, 15)
try:
    browser.get(link)
    wait.until(lambda b: "is confirmed" in b.find_element(By.ID, "done").text)
    assert "token=" not in browser.current_url, "the token stays in the address bar"
    assert call("GET", "/api/me", key=token)["account"]["emailVerified"] is True
    status, body = call_status("POST", "/api/auth/email/verify", {"token": verify})
    assert status in (400, 404, 410, 422), (status, body)

    # Forgot / reset: the same answer for a stranger; the link sets a new password on the page.
    answer = call("POST", "/api/auth/password/forgot", {"email": OWNER})
    assert answer == call("POST", "/api/auth/password/forgot", {"email": "nobody-here@example.com"}), answer
    reset_link, reset = link_in(wait_for_mail(OWNER, "Reset your Bookline password"), "/reset-password")
    browser.get(reset_link)
    wait.until(lambda b: b.find_element(By.ID, "reset-form").is_displayed())
    browser.find_element(By.ID, "new-password").send_keys(NEW_PASSWORD)
    browser.find_element(By.ID, "new-password-again").send_keys(NEW_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "#reset-form button[type=submit]").click()
    wait.until(lambda b: "password is changed" in b.find_element(By.ID, "done").text)
    assert call_status("POST", "/api/auth/login", {"email": OWNER, "password": PASSWORD})[0] == 401
    assert call_status("GET", "/api/me", key=token)[0] == 401, "the reset did not end the old session"
    status, body = call_status("POST", "/api/auth/password/reset", {"token": reset, "newPassword": "yet-another-password-99"})
    assert status in (400, 404, 410, 422), ("a spent reset link worked again", status, body)
    wait_for_mail(OWNER, "password was changed")

    # TOTP, enrolled on the dashboard: the QR code it draws decodes to a URI pyotp accepts.
    browser.get(BASE + "/dashboard")
    wait.until(lambda b: b.find_element(By.ID, "sign-in").is_displayed())
    browser.find_element(By.ID, "email").send_keys(OWNER)
    browser.find_element(By.ID, "password").send_keys(NEW_PASSWORD)
    browser.find_element(By.ID, "login-button").click()
    wait.until(lambda b: b.find_element(By.ID, "overview").is_displayed())
    assert not browser.find_element(By.ID, "verify-banner").is_displayed(), "a verified owner still sees the banner"
    browser.find_element(By.CSS_SELECTOR, '[data-tab="account-panel"]').click()
    wait.until(lambda b: b.find_element(By.ID, "mfa-enrol").is_displayed())
    browser.find_element(By.ID, "mfa-enrol").click()
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#mfa-qr svg"))
    png = browser.find_element(By.CSS_SELECTOR, "#mfa-qr svg").screenshot_as_png
    image = cv2.imdecode(numpy.frombuffer(png, numpy.uint8), cv2.IMREAD_GRAYSCALE)
    decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert decoded.startswith("otpauth://totp/"), f"the QR code did not decode: {decoded!r}"
    totp = pyotp.parse_uri(decoded)
    assert isinstance(totp, pyotp.TOTP) and totp.digits == 6 and totp.interval == 30, decoded
    query = urllib.parse.parse_qs(urllib.parse.urlparse(decoded).query)
    assert query["issuer"] == ["Bookline"] and OWNER in urllib.parse.unquote(decoded), decoded
    assert browser.find_element(By.ID, "mfa-secret").text.replace(" ", "") == totp.secret
    browser.find_element(By.ID, "mfa-confirm-code").send_keys(totp.now())
    browser.find_element(By.CSS_SELECTOR, "#mfa-confirm button[type=submit]").click()
    wait.until(lambda b: b.find_element(By.ID, "mfa-recovery").is_displayed())
    recovery = browser.find_element(By.ID, "mfa-recovery-codes").text.split()
    assert len(recovery) == 10 and len(set(recovery)) == 10, recovery

    # Sign-in now needs the code: pyotp's is accepted, the same one again is not.
    step = call("POST", "/api/auth/login", {"email": OWNER, "password": NEW_PASSWORD})
    assert step["mfaRequired"] is True and "accessToken" not in step, step
    while time.time() % 30 > 25:  # keep the next two sign-ins inside one 30 s window
        time.sleep(1)
    code = totp.now()
    # The code the dashboard confirmed may be this window's: then the next step proves replay.
    status, signed = call_status("POST", "/api/auth/login/mfa", {"mfaToken": step["mfaToken"], "code": code})
    second = call("POST", "/api/auth/login", {"email": OWNER, "password": NEW_PASSWORD})
    replay, refused = call_status("POST", "/api/auth/login/mfa", {"mfaToken": second["mfaToken"], "code": code})
    assert replay == 401, ("a used code worked twice", replay, refused)
    if status != 200:  # it was the enrolment's code: wait for the next one
        while totp.now() == code:
            time.sleep(1)
        third = call("POST", "/api/auth/login", {"email": OWNER, "password": NEW_PASSWORD})
        status, signed = call_status("POST", "/api/auth/login/mfa", {"mfaToken": third["mfaToken"], "code": totp.now()})
    assert status == 200 and signed.get("accessToken"), (status, signed)
    me = call("GET", "/api/me", key=signed["accessToken"])
    assert me["account"]["mfaEnabled"] is True, me

    # A recovery code works once.
    fourth = call("POST", "/api/auth/login", {"email": OWNER, "password": NEW_PASSWORD})
    assert call("POST", "/api/auth/login/mfa", {"mfaToken": fourth["mfaToken"], "recoveryCode": recovery[0]})["accessToken"]
    fifth = call("POST", "/api/auth/login", {"email": OWNER, "password": NEW_PASSWORD})
    assert call_status("POST", "/api/auth/login/mfa", {"mfaToken": fifth["mfaToken"], "recoveryCode": recovery[0]})[0] == 401

    # The dashboard's own two-step sign-in.
    browser.find_element(By.ID, "logout").click()
    wait.until(lambda b: b.find_element(By.ID, "sign-in").is_displayed())
    browser.get(BASE + "/dashboard")  # a fresh page: no cookie, so it asks again
    wait.until(lambda b: b.find_element(By.ID, "sign-in").is_displayed())
    browser.find_element(By.ID, "email").send_keys(OWNER)
    browser.find_element(By.ID, "password").send_keys(NEW_PASSWORD)
    browser.find_element(By.ID, "login-button").click()
    wait.until(lambda b: b.find_element(By.ID, "mfa-form").is_displayed())
    browser.find_element(By.ID, "mfa-code").send_keys(recovery[1])
    browser.find_element(By.ID, "mfa-button").click()
    wait.until(lambda b: b.find_element(By.ID, "overview").is_displayed())
finally:
    browser.quit()
print("accounts: verification and reset links worked from the mails, the dashboard's QR code parsed in pyotp, "
      "its codes signed in, a replayed code and a spent link were refused")
