"""Accessibility audit of every page with axe-core (the axe-core-python wheel carries axe.min.js),
on desktop and at 375 px wide: no WCAG 2.1 A/AA violations, no sideways scrolling on a phone,
and every page can be used with the keyboard alone (tabbing reaches the sign-in button)."""
import importlib.resources
import os
import sys

from client import call, chrome, sign_in, staff_account
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["BOOKLINE_URL"]
AXE = importlib.resources.files("axe_core_python").joinpath("axe.min.js").read_text()
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
failures = []


def audit(browser, label):
    """Runs axe on what the page shows now; records each violation with the elements it names."""
    browser.execute_script(AXE)
    result = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}}).then(done, e => done({error: String(e)}));",
        TAGS)
    if "error" in result:
        failures.append(f"{label}: axe failed: {result['error']}")
        return
    for violation in result["violations"]:
        targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        failures.append(f"{label}: {violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    wide = browser.execute_script("return document.documentElement.scrollWidth > window.innerWidth + 1")
    if wide:
        failures.append(f"{label}: the page scrolls sideways at {browser.execute_script('return window.innerWidth')} px")


def keyboard_reaches(browser, element_id, label, presses=40):
    """Tabs from the top of the page until the element has focus: it is reachable without a mouse."""
    browser.find_element(By.TAG_NAME, "body").click()
    for _ in range(presses):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        if browser.switch_to.active_element.get_attribute("id") == element_id:
            return
    failures.append(f"{label}: #{element_id} is not reached by the Tab key")


def main():
    signup = call("POST", "/api/clients/onboard", {"businessName": "Access Check Ltd", "email": "a11y@example.com",
                                                   "phone": "07400 100950", "industry": "dental", "password": "a11y-password-42"})
    admin = staff_account("admin", "a11y-admin")
    admin_token = call("POST", "/api/auth/login", {"email": admin[0], "password": admin[1]})["accessToken"]
    call("PATCH", f"/api/admin/tenants/{signup['tenantId']}", {"rateLimitPerMinute": 100000}, admin_token)
    call("POST", "/api/leads", {"phone": "07400 100951", "name": "Ada Access"}, signup["apiKey"])
    compliance = staff_account("compliance", "a11y-compliance")
    pages = 0
    for width in (1200, 375):
        browser = chrome(width)
        try:
            for path, ready in (("/", "main"), ("/onboard", "main"), ("/docs", "body"), ("/reset-password", "main"),
                                ("/verify-email", "main"), ("/invite", "main")):
                browser.get(BASE + path)
                WebDriverWait(browser, 15).until(lambda b: b.find_element(By.TAG_NAME, ready))
                audit(browser, f"{path} at {width} px")
                pages += 1
            for path in ("/dashboard", "/admin", "/compliance"):
                browser.get(BASE + path)
                WebDriverWait(browser, 15).until(lambda b: b.find_element(By.ID, "sign-in").is_displayed())
                audit(browser, f"{path} sign-in at {width} px")
                keyboard_reaches(browser, "login-button", f"{path} sign-in at {width} px")
                pages += 1
            wait = sign_in(browser, "/dashboard", "a11y@example.com", "a11y-password-42", "overview")
            for tab in ("overview-panel", "leads-panel", "appointments-panel", "messages-panel", "keys-panel", "settings-panel",
                        "account-panel"):
                browser.find_element(By.CSS_SELECTOR, f"a[data-tab='{tab}']").click()
                wait.until(lambda b: b.find_element(By.ID, tab).is_displayed())
                audit(browser, f"/dashboard {tab} at {width} px")
                pages += 1
            browser.delete_all_cookies()
            sign_in(browser, "/admin", *admin, "console")
            audit(browser, f"/admin console at {width} px")
            browser.delete_all_cookies()
            sign_in(browser, "/compliance", *compliance, "console")
            audit(browser, f"/compliance console at {width} px")
            pages += 2
        finally:
            browser.quit()
    for failure in failures:
        print("  FAIL", failure)
    print(f"a11y: {pages} page views audited with axe-core ({', '.join(TAGS)}), {len(failures)} problems")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
