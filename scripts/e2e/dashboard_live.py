"""Signs in to the dashboard in headless Chromium, checks the figures and charts, then sees a
lead and a call created through the API appear in the live feed without a reload; a reload keeps
the session (httpOnly refresh cookie) and nothing secret sits in localStorage. Screenshots go to
$E2E_ARTIFACTS (default /tmp/bookline-e2e-artifacts)."""
import os
import sys
import urllib.error
import urllib.request

from client import call, chrome, staff_token
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["BOOKLINE_URL"]
ARTIFACTS = os.environ.get("E2E_ARTIFACTS", "/tmp/bookline-e2e-artifacts")
PASSWORD = "dashboard-password-42"




def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    signup = call("POST", "/api/clients/onboard", {"businessName": "Live Feed Dental", "email": "live@example.com",
                                                   "phone": "07400 100777", "industry": "dental", "password": PASSWORD})
    key = signup["apiKey"]
    # The walk-through below makes more requests in a minute than the free tier's 60 (a person
    # clicking would not); an admin lifts the budget, as a support person could.
    admin, _, _ = staff_token("admin", "dashboard-e2e-admin")
    call("PATCH", f"/api/admin/tenants/{signup['tenantId']}", {"rateLimitPerMinute": 100000}, admin)
    import datetime
    # Yesterday: inside the dashboard's 14-day charts whenever this runs.
    yesterday = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime("%Y-%m-%dT10:00:00Z")
    closed = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    call("POST", "/api/calls", {"phone": "07400 100701", "startedAt": yesterday, "outcome": "booked",
                                "durationSeconds": 120}, key)
    browser = chrome(1200)
    wait = WebDriverWait(browser, 15)
    try:
        browser.get(BASE + "/dashboard")
        wait.until(lambda b: b.find_element(By.ID, "sign-in").is_displayed())
        browser.find_element(By.ID, "email").send_keys("live@example.com")
        browser.find_element(By.ID, "password").send_keys("wrong-password-123")
        browser.find_element(By.ID, "login-button").click()
        wait.until(lambda b: "incorrect" in b.find_element(By.ID, "notice").text)
        browser.find_element(By.ID, "password").clear()
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "login-button").click()
        wait.until(lambda b: b.find_element(By.ID, "overview").is_displayed())
        assert browser.find_element(By.ID, "business-name").text == "Live Feed Dental"
        wait.until(lambda b: len(b.find_elements(By.CSS_SELECTOR, "#week .figure")) >= 9)
        assert len(browser.find_elements(By.CSS_SELECTOR, "#today .figure")) == 4
        assert browser.find_elements(By.CSS_SELECTOR, "#trend-chart svg rect.bar")
        assert "booked" in browser.find_element(By.CSS_SELECTOR, "#outcome-chart svg").get_attribute("aria-label")
        wait.until(lambda b: b.find_element(By.ID, "live-status").text == "Live")

        # Events from the API appear without a reload.
        lead = call("POST", "/api/leads", {"phone": "07400 100702", "name": "Feed Test"}, key)
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#feed li[data-type='lead_created']"))
        call("POST", "/api/leads/%s/status" % lead["id"], {"status": "contacted"}, key)
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#feed li[data-type='lead_status_changed']"))

        # A dropped stream resumes after the last event it saw: nothing missed, nothing twice.
        created = lambda b: len(b.find_elements(By.CSS_SELECTOR, "#feed li[data-type='lead_created']"))
        before = created(browser)
        browser.execute_script("state.stream.close(); state.stream = null;")
        for n in range(3):
            call("POST", "/api/leads", {"phone": f"07400 10072{n}"}, key)
        browser.execute_script("connectStream();")
        wait.until(lambda b: created(b) == before + 3)
        import time
        time.sleep(1)
        assert created(browser) == before + 3, "an event was delivered twice"
        browser.save_screenshot(os.path.join(ARTIFACTS, "dashboard-desktop.png"))

        # Leads: search, and a CSV import checked (dry run) before it is committed.
        browser.find_element(By.CSS_SELECTOR, "a[data-tab='leads-panel']").click()
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#leads-table tbody tr[data-id]"))
        browser.find_element(By.ID, "lead-q").send_keys("feed")
        browser.find_element(By.CSS_SELECTOR, "#lead-search button").click()
        rows = lambda b, table: b.execute_script(
            f"return [...document.querySelectorAll('#{table} tbody tr')].map(r => r.innerText)")
        wait.until(lambda b: rows(b, "leads-table") and all("Feed Test" in r for r in rows(b, "leads-table")))
        csv_path = os.path.join(ARTIFACTS, "leads.csv")
        with open(csv_path, "w") as handle:
            handle.write("name,phone\nAlice Import,07400 100801\nBob Import,07400 100802\nBad,0740\n")
        browser.find_element(By.ID, "import-file").send_keys(csv_path)
        browser.find_element(By.ID, "import-check").click()
        wait.until(lambda b: "would give 2 imported, 1 invalid" in b.find_element(By.ID, "import-summary").text)
        assert not any("Alice" in r for r in rows(browser, "leads-table"))
        browser.find_element(By.ID, "import-commit").click()
        wait.until(lambda b: b.find_element(By.ID, "import-summary").text.startswith("Imported: 2 imported"))
        browser.find_element(By.ID, "lead-q").clear()
        browser.find_element(By.CSS_SELECTOR, "#lead-search button").click()
        wait.until(lambda b: any("Alice Import" in r for r in rows(b, "leads-table")))
        # Opt-outs: one made through the API is listed and withdrawn from the page (with a reason).
        call("POST", "/api/opt-outs", {"phone": "07400 100802", "reason": "complaint"}, key)
        browser.find_element(By.CSS_SELECTOR, "a[data-tab='leads-panel']").click()
        wait.until(lambda b: any("+447400100802" in r for r in rows(b, "optouts-table")))
        browser.find_element(By.CSS_SELECTOR, "button[aria-label='Withdraw the opt-out of +447400100802']").click()
        browser.switch_to.alert.send_keys("Called us back to ask for offers")
        browser.switch_to.alert.accept()
        wait.until(lambda b: not any("+447400100802" in r for r in rows(b, "optouts-table")))

        # Lead detail: its history, and a status change from the page.
        browser.find_element(By.CSS_SELECTOR, "button[aria-label='Open lead Feed Test']").click()
        wait.until(lambda b: b.find_element(By.ID, "lead-detail").is_displayed() and "Calls" in b.find_element(By.ID, "lead-detail").text)
        from selenium.webdriver.support.ui import Select
        Select(browser.find_element(By.ID, "lead-new-status")).select_by_value("interested")
        browser.find_element(By.CSS_SELECTOR, "#lead-detail button[type='submit']").click()
        wait.until(lambda b: call("GET", f"/api/leads/{lead['id']}", key=key)["status"] == "interested")
        wait.until(lambda b: "Status\ninterested" in b.execute_script("return document.getElementById('lead-detail').innerText"))
        browser.find_element(By.CSS_SELECTOR, "button[aria-label='Open lead Alice Import']").click()
        wait.until(lambda b: "Alice Import" in b.execute_script("return document.getElementById('lead-detail').innerText"))
        browser.find_element(By.CSS_SELECTOR, "#lead-detail button.danger").click()
        browser.switch_to.alert.accept()
        wait.until(lambda b: any("Alice Import" in r and "opted_out" in r for r in rows(b, "leads-table")))
        browser.save_screenshot(os.path.join(ARTIFACTS, "dashboard-leads.png"))

        # Appointments: one booked through the API shows in the list and the week; cancel it here.
        service = call("GET", "/api/services", key=key)["items"][0]["id"]
        import datetime
        today = datetime.date.today()
        slots = call("GET", f"/api/availability?service={service}&from={today}&to={today + datetime.timedelta(days=13)}", key=key)["slots"]
        booked = call("POST", "/api/appointments", {"leadId": lead["id"], "serviceId": service, "start": slots[0]["start"]}, key)
        browser.find_element(By.CSS_SELECTOR, "a[data-tab='appointments-panel']").click()
        wait.until(lambda b: any("Feed Test" in r and "booked" in r for r in rows(b, "appointments-table")))
        row = browser.find_element(By.CSS_SELECTOR, f"#appointments-table tr[data-id='{booked['id']}']")
        row.find_element(By.CSS_SELECTOR, "button.danger").click()
        browser.switch_to.alert.send_keys("Client rang")
        browser.switch_to.alert.accept()
        wait.until(lambda b: any("cancelled" in r for r in rows(b, "appointments-table")))
        assert call("GET", f"/api/appointments/{booked['id']}", key=key)["cancelReason"] == "Client rang"
        browser.save_screenshot(os.path.join(ARTIFACTS, "dashboard-appointments.png"))

        # API keys: create one (shown once, it works), then revoke it (it stops working).
        browser.find_element(By.CSS_SELECTOR, "a[data-tab='keys-panel']").click()
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#keys-table tbody tr[data-id]"))
        browser.find_element(By.ID, "key-name").send_keys("Selenium key")
        browser.find_element(By.CSS_SELECTOR, "#key-create button").click()
        wait.until(lambda b: b.find_element(By.ID, "new-key-value").text.startswith("bk_live_"))
        new_key = browser.find_element(By.ID, "new-key-value").text
        assert call("GET", "/api/leads?limit=1", key=new_key)["items"]
        browser.save_screenshot(os.path.join(ARTIFACTS, "dashboard-keys.png"))
        row = [r for r in browser.find_elements(By.CSS_SELECTOR, "#keys-table tbody tr") if "Selenium key" in r.text][0]
        row.find_element(By.CSS_SELECTOR, "button.danger").click()
        browser.switch_to.alert.accept()
        wait.until(lambda b: any("Selenium key" in r and "revoked" in r for r in rows(b, "keys-table")))
        try:
            call("GET", "/api/leads?limit=1", key=new_key)
            raise AssertionError("a revoked key still works")
        except urllib.error.HTTPError as error:
            assert error.code == 401, error.code
        # Settings: the profile saves; a secret is write-only and shown as configured ••••last4.
        browser.find_element(By.CSS_SELECTOR, "a[data-tab='settings-panel']").click()
        wait.until(lambda b: b.find_element(By.ID, "profile-name").get_attribute("value") == "Live Feed Dental")
        assert "tenant.created" in " ".join(rows(browser, "owner-audit-table")) or rows(browser, "owner-audit-table")
        browser.find_element(By.ID, "twilio-token").send_keys("abcdef0123456789abcdef0123459876")
        browser.find_element(By.CSS_SELECTOR, "#messaging-form button").click()
        wait.until(lambda b: "••••9876" in b.find_element(By.ID, "twilio-token-state").text)
        assert browser.find_element(By.ID, "twilio-token").get_attribute("value") == ""
        assert "abcdef0123456789" not in browser.page_source
        monday = browser.find_element(By.ID, "hours-monday")
        monday.clear()
        monday.send_keys("08:00-12:00, 13:00-17:30")
        browser.find_element(By.CSS_SELECTOR, "#hours-form button").click()
        wait.until(lambda b: "Opening hours saved." in b.find_element(By.ID, "settings-saved").text)
        assert call("GET", "/api/settings/hours", key=key)["weekly"]["monday"] == [{"opens": "08:00", "closes": "12:00"}, {"opens": "13:00", "closes": "17:30"}]
        # Closed dates: added and removed in the page, each saved at once with the saved hours.
        browser.execute_script(f"document.getElementById('closed-date').value = '{closed}'")
        browser.find_element(By.ID, "closed-reason").send_keys("Christmas")
        browser.find_element(By.CSS_SELECTOR, "#closed-form button").click()
        wait.until(lambda b: any(closed in r and "Christmas" in r for r in rows(b, "closed-table")))
        hours = call("GET", "/api/settings/hours", key=key)
        assert hours["closed"] == [{"date": closed, "reason": "Christmas"}], hours["closed"]
        assert hours["weekly"]["monday"] == [{"opens": "08:00", "closes": "12:00"}, {"opens": "13:00", "closes": "17:30"}]
        browser.find_element(By.CSS_SELECTOR, f"button[aria-label='Remove closed date {closed}']").click()
        wait.until(lambda b: "No closed dates." in " ".join(rows(b, "closed-table")))
        assert call("GET", "/api/settings/hours", key=key)["closed"] == []
        browser.find_element(By.ID, "service-name").send_keys("Whitening")
        browser.find_element(By.CSS_SELECTOR, "#service-form button").click()
        wait.until(lambda b: any("Whitening" in r for r in rows(b, "services-table")))
        browser.find_element(By.ID, "voice-secret").send_keys("a-long-voice-secret-5678")
        browser.find_element(By.CSS_SELECTOR, "#voice-form button").click()
        wait.until(lambda b: "••••5678" in b.find_element(By.ID, "voice-secret-state").text)
        browser.find_element(By.ID, "user-email").send_keys("frontdesk@example.com")
        browser.find_element(By.CSS_SELECTOR, "#user-form button").click()
        wait.until(lambda b: len(b.find_element(By.ID, "new-user-password").text) == 20)
        temporary = browser.find_element(By.ID, "new-user-password").text
        assert call("POST", "/api/auth/login", {"email": "frontdesk@example.com", "password": temporary})["accessToken"]
        wait.until(lambda b: any("frontdesk@example.com" in r for r in rows(b, "users-table")))
        browser.find_element(By.CSS_SELECTOR, "button[aria-label='Remove frontdesk@example.com']").click()
        browser.switch_to.alert.accept()
        wait.until(lambda b: not any("frontdesk@example.com" in r for r in rows(b, "users-table")))
        browser.save_screenshot(os.path.join(ARTIFACTS, "dashboard-settings.png"))
        browser.find_element(By.CSS_SELECTOR, "a[data-tab='messages-panel']").click()
        wait.until(lambda b: rows(b, "messages-table"))
        # Template editor: a bad variable is named under its field; a good one previews and saves.
        Select(browser.find_element(By.ID, "template-name")).select_by_value("booking_confirmation")
        wait.until(lambda b: "{{name}}" in b.find_element(By.ID, "template-sms").get_attribute("value"))
        sms = browser.find_element(By.ID, "template-sms")
        sms.clear()
        sms.send_keys("Hi {{name}}, that is {{price}}")
        browser.find_element(By.ID, "template-preview").click()
        wait.until(lambda b: "price" in b.find_element(By.ID, "template-sms-error").text)
        assert sms.get_attribute("aria-invalid") == "true"
        sms.clear()
        sms.send_keys("Hi {{name}}, see you at {{time}}")
        browser.find_element(By.ID, "template-preview").click()
        wait.until(lambda b: "Hi [name], see you at [time]" in b.find_element(By.ID, "template-output").text)
        browser.find_element(By.CSS_SELECTOR, "#template-form button[type='submit']").click()
        wait.until(lambda b: "Template saved." in b.find_element(By.ID, "template-output").text)
        assert call("GET", "/api/templates/booking_confirmation", key=key)["sms"] == "Hi {{name}}, see you at {{time}}"
        browser.save_screenshot(os.path.join(ARTIFACTS, "dashboard-messages.png"))
        browser.find_element(By.CSS_SELECTOR, "a[data-tab='overview-panel']").click()

        # Nothing secret in storage; a reload signs back in through the httpOnly cookie.
        stored = browser.execute_script("return JSON.stringify(Object.assign({}, localStorage, sessionStorage))")
        assert key not in stored and "eyJ" not in stored, stored
        assert "bookline_refresh" not in browser.execute_script("return document.cookie")
        browser.refresh()
        wait.until(lambda b: b.find_element(By.ID, "overview").is_displayed())
        # Failed requests (the wrong password, the refresh probe) are logged as network entries;
        # a script error or a CSP violation is not.
        severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE" and entry.get("source") != "network"]
        assert not severe, severe  # CSP violations and script errors show up here

        browser.find_element(By.ID, "logout").click()
        wait.until(lambda b: b.find_element(By.ID, "sign-in").is_displayed())
        browser.refresh()
        wait.until(lambda b: b.find_element(By.ID, "sign-in").is_displayed())
    finally:
        browser.quit()

    phone = chrome(375)
    try:
        phone.get(BASE + "/dashboard")
        WebDriverWait(phone, 15).until(lambda b: b.find_element(By.ID, "sign-in").is_displayed())
        width, viewport = phone.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert viewport == 375 and width <= 375, f"page is {width}px wide in a {viewport}px viewport"
        phone.save_screenshot(os.path.join(ARTIFACTS, "dashboard-sign-in-375.png"))
    finally:
        phone.quit()
    print("dashboard: 1 passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # one clear line for CI
        import traceback
        traceback.print_exc()
        print(f"dashboard: FAILED: {error!r}")
        sys.exit(1)
