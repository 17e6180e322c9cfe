"""The small JSON client, staff accounts and headless Chromium the e2e scripts share."""
import json
import os
import subprocess
import urllib.request

BASE = os.environ["BOOKLINE_URL"]
BIN = os.environ.get("BOOKLINE_E2E_BIN", os.path.join(os.path.dirname(__file__), "../../.build/debug/bookline"))


def call(method, path, body=None, key=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = "Bearer " + key
    request = urllib.request.Request(BASE + path, data=json.dumps(body).encode() if body is not None else None,
                                     method=method, headers=headers)
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"{}")


def staff_account(role, name=None):
    """A platform user made with the CLI, run where the server runs (same database and key)."""
    email, password = f"{name or role}@bookline.test", f"{name or role}-e2e-password-1"
    folder = os.path.dirname(os.environ["BOOKLINE_DB"]) if os.environ.get("BOOKLINE_DB") else None
    subprocess.run([BIN, "admin", "create", "--email", email, "--role", role], input=password + "\n", text=True,
                   check=True, capture_output=True, cwd=folder)
    return email, password


def staff_token(role, name=None):
    email, password = staff_account(role, name)
    return call("POST", "/api/auth/login", {"email": email, "password": password})["accessToken"], email, password


def chrome(width=1200):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={max(width, 500)},1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if width < 500:  # desktop Chrome will not make a window that narrow: emulate a phone
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": 800, "pixelRatio": 2}})
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def sign_in(browser, path, email, password, ready="console"):
    """Signs in on a page's own form and waits until the element `ready` shows."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    wait = WebDriverWait(browser, 15)
    browser.get(BASE + path)
    wait.until(lambda b: b.find_element(By.ID, "sign-in").is_displayed())
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "login-button").click()
    wait.until(lambda b: b.find_element(By.ID, ready).is_displayed())
    return wait
