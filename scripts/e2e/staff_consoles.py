"""Admin and compliance consoles in headless Chromium: the admin suspends a tenant (whose owner
is then refused at the dashboard) and reactivates it; compliance staff find a person, erase them
with a typed confirmation and see the receipt, and verify the audit chain. Screenshots go to
$E2E_ARTIFACTS (default /tmp/bookline-e2e-artifacts)."""
import json
import os
import sys
import urllib.error
import urllib.request

from client import call, chrome, sign_in, staff_account
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["BOOKLINE_URL"]
ARTIFACTS = os.environ.get("E2E_ARTIFACTS", "/tmp/bookline-e2e-artifacts")




def status_of(method, path, key=None, body=None):
    try:
        call(method, path, body, key)
        return 200
    except urllib.error.HTTPError as error:
        return error.code






def rows(page, table):
    return page.execute_script(f"return [...document.querySelectorAll('#{table} tbody tr')].map(r => r.innerText)")


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    signup = call("POST", "/api/clients/onboard", {"businessName": "Console Salon", "email": "console-owner@example.com",
                                                   "phone": "07400 100900", "industry": "beauty", "password": "console-password-42"})
    key, tenant_id, slug = signup["apiKey"], signup["tenantId"], signup["slug"]
    lead = call("POST", "/api/leads", {"phone": "07400 100901", "email": "erase.me@example.org", "name": "Erase Me"}, key)
    admin_email, admin_password = staff_account("admin", "admin-console")
    compliance_email, compliance_password = staff_account("compliance", "compliance-console")

    page = chrome()
    try:
        # Admin: suspend the tenant; its key and its owner's sign-in are refused; reactivate.
        wait = sign_in(page, "/admin", admin_email, admin_password)
        wait.until(lambda b: any(slug in r for r in rows(b, "tenants-table")))
        assert any(slug in r and "1 lead, 0 calls, 0 messages" in r for r in rows(page, "tenants-table")), rows(page, "tenants-table")
        page.find_element(By.CSS_SELECTOR, "button[aria-label='Details of Console Salon']").click()
        wait.until(lambda b: "Leads" in b.find_element(By.ID, "tenant-detail").text)
        assert "Leads\n1" in page.find_element(By.ID, "tenant-detail").text, page.find_element(By.ID, "tenant-detail").text
        page.find_element(By.CSS_SELECTOR, f"#tenants-table tr[data-slug='{slug}'] button.danger").click()
        page.switch_to.alert.accept()
        wait.until(lambda b: any(slug in r and "suspended" in r for r in rows(b, "tenants-table")))
        assert status_of("GET", "/api/leads", key) == 403
        page.save_screenshot(os.path.join(ARTIFACTS, "admin-console.png"))

        owner = chrome()
        try:
            owner.get(BASE + "/dashboard")
            owner_wait = WebDriverWait(owner, 15)
            owner_wait.until(lambda b: b.find_element(By.ID, "sign-in").is_displayed())
            owner.find_element(By.ID, "email").send_keys("console-owner@example.com")
            owner.find_element(By.ID, "password").send_keys("console-password-42")
            owner.find_element(By.ID, "login-button").click()
            owner_wait.until(lambda b: "suspended" in b.find_element(By.ID, "notice").text)
            assert not owner.find_element(By.ID, "overview").is_displayed()
            owner.save_screenshot(os.path.join(ARTIFACTS, "dashboard-suspended.png"))
        finally:
            owner.quit()

        page.find_element(By.CSS_SELECTOR, f"#tenants-table tr[data-slug='{slug}'] button.secondary").click()
        wait.until(lambda b: any(slug in r and "active" in r for r in rows(b, "tenants-table")))
        assert status_of("GET", "/api/leads", key) == 200
        page.find_element(By.ID, "logout").click()

        # Compliance: find the person, erase them with a typed confirmation, verify the chain.
        wait = sign_in(page, "/compliance", compliance_email, compliance_password)
        page.find_element(By.ID, "subject-tenant").send_keys(tenant_id)
        page.find_element(By.ID, "subject-phone").send_keys("07400 100901")
        page.find_element(By.ID, "subject-export").click()
        wait.until(lambda b: any(r.startswith("leads") for r in rows(b, "manifest-table")))
        page.find_element(By.ID, "erasure-reason").send_keys("Art. 17 request from the console test")
        page.find_element(By.ID, "erasure-confirm").send_keys("erase")
        page.find_element(By.ID, "erase").click()
        wait.until(lambda b: "Type ERASE" in b.find_element(By.ID, "notice").text)
        assert status_of("GET", f"/api/leads/{lead['id']}", key) == 200, "nothing is erased without the typed confirmation"
        page.find_element(By.ID, "erasure-confirm").clear()
        page.find_element(By.ID, "erasure-confirm").send_keys("ERASE")
        page.find_element(By.ID, "erase").click()
        wait.until(lambda b: b.find_element(By.ID, "receipt").is_displayed())
        receipt = page.find_element(By.ID, "receipt").text
        assert "Erasure receipt" in receipt and "leads 1" in receipt, receipt
        assert status_of("GET", f"/api/leads/{lead['id']}", key) == 404
        page.find_element(By.ID, "audit-tenant").send_keys(tenant_id)
        page.find_element(By.ID, "audit-action").send_keys("subject.erased")
        page.find_element(By.CSS_SELECTOR, "#audit-form button[type='submit']").click()
        wait.until(lambda b: any("subject.erased" in r for r in rows(b, "audit-table")))
        page.find_element(By.ID, "audit-verify").click()
        wait.until(lambda b: b.find_element(By.ID, "verify-result").text.startswith("Verified:"))
        page.save_screenshot(os.path.join(ARTIFACTS, "compliance-console.png"))
        assert "erase.me@example.org" not in json.dumps(call("GET", f"/api/audit?tenantId={tenant_id}&limit=100",
                                                             key=call("POST", "/api/auth/login", {"email": compliance_email, "password": compliance_password})["accessToken"]))
    finally:
        page.quit()
    print("consoles: 1 passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # one clear line for CI
        print(f"consoles: FAILED: {error!r}")
        sys.exit(1)
